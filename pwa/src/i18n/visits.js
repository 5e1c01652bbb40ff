// Messages of the visits screens, under $t('visits.…').
export default {
  'zh-CN': {},
  en: {},
}
