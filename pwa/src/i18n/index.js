// Chinese first, English second. Each part of the app keeps its own messages file.
import { Locale } from 'vant'
import enUS from 'vant/es/locale/lang/en-US'
import { createI18n } from 'vue-i18n'
import common from './common.js'
import auth from './auth.js'
import households from './households.js'
import visits from './visits.js'
import hotspots from './hotspots.js'
import records from './records.js'
import sync from './sync.js'
import settings from './settings.js'

const PARTS = { common, auth, households, visits, hotspots, records, sync, settings }
export const LOCALES = ['zh-CN', 'en']
const KEY = 'zoufang.locale'

function messages(locale, parts = PARTS) {
  return Object.fromEntries(Object.entries(parts).map(([name, part]) => [name, part[locale] || {}]))
}

export const i18n = createI18n({
  legacy: false,
  locale: LOCALES.includes(localStorage.getItem(KEY)) ? localStorage.getItem(KEY) : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: Object.fromEntries(LOCALES.map((locale) => [locale, messages(locale)])),
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

let superviseParts = null

/**
 * The supervisor's words, loaded with the supervisor's screens (router.js) rather than on
 * every field phone's first screen.
 */
export function loadSuperviseMessages() {
  superviseParts ??= Promise.all([import('./supervise.js'), import('./evidence.js'), import('./review.js'),
    import('./dashboard.js')]).then(([supervise, evidence, review, dashboard]) => {
    const parts = { supervise: supervise.default, evidence: evidence.default, review: review.default,
      dashboard: dashboard.default }
    for (const locale of LOCALES) i18n.global.mergeLocaleMessage(locale, messages(locale, parts))
  }).catch((error) => {
    superviseParts = null // offline: try again next time
    throw error
  })
  return superviseParts
}
