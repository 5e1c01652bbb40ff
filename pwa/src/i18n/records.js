// Messages of the records screens, under $t('records.…').
export default {
  'zh-CN': {},
  en: {},
}
