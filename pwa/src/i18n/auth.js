// Messages of the auth screens, under $t('auth.…').
export default {
  'zh-CN': {},
  en: {},
}
