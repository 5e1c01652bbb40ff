// Messages of the sync screens, under $t('sync.…').
export default {
  'zh-CN': {},
  en: {},
}
