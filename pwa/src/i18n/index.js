// Chinese first, English second. Each part of the app keeps its own messages file; only
// the common words ship with the first screen. A route names the parts its screens use
// (router.js, meta.messages) and they are loaded with it: a field phone never downloads
// the supervisor's words, and a screen's words come from the precache when offline.
import { Locale } from 'vant'
import enUS from 'vant/es/locale/lang/en-US'
import { createI18n } from 'vue-i18n'
import common from './common.js'

export const LOCALES = ['zh-CN', 'en']
const KEY = 'zoufang.locale'

// Each import is a chunk of its own (vite.config.js keeps the supervisor's out of the precache).
const PARTS = {
  auth: () => import('./auth.js'),
  households: () => import('./households.js'),
  visits: () => import('./visits.js'),
  hotspots: () => import('./hotspots.js'),
  records: () => import('./records.js'),
  sync: () => import('./sync.js'),
  settings: () => import('./settings.js'),
  supervise: () => import('./supervise.js'),
  evidence: () => import('./evidence.js'),
  review: () => import('./review.js'),
  dashboard: () => import('./dashboard.js'),
}

export const i18n = createI18n({
  legacy: false,
  locale: LOCALES.includes(localStorage.getItem(KEY)) ? localStorage.getItem(KEY) : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: Object.fromEntries(LOCALES.map((locale) => [locale, { common: common[locale] || {} }])),
})

// Vant's own labels (dialog buttons, pickers) follow the app's language.
function useVantLocale(locale) {
  if (locale === 'en') Locale.use('en-US', enUS)
  else Locale.use('zh-CN')
}

export function setLocale(locale) {
  i18n.global.locale.value = locale
  useVantLocale(locale)
  localStorage.setItem(KEY, locale)
  document.documentElement.lang = locale
}

useVantLocale(i18n.global.locale.value)

const loaded = new Map() // part name -> Promise of its merge

/** Load and merge the messages of these parts (names of PARTS); each is fetched once. */
export function loadMessages(...names) {
  return Promise.all(names.map((name) => {
    if (!loaded.has(name)) {
      loaded.set(name, PARTS[name]().then(({ default: part }) => {
        for (const locale of LOCALES) i18n.global.mergeLocaleMessage(locale, { [name]: part[locale] || {} })
      }).catch((error) => {
        loaded.delete(name) // offline and not cached: try again next time
        throw error
      }))
    }
    return loaded.get(name)
  }))
}
