// Messages of the households screens, under $t('households.…').
export default {
  'zh-CN': {},
  en: {},
}
