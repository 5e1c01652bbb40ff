// Messages of the settings screens, under $t('settings.…').
export default {
  'zh-CN': {},
  en: {},
}
