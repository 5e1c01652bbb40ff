// Messages of the hotspots screens, under $t('hotspots.…').
export default {
  'zh-CN': {},
  en: {},
}
