// Who is signed in on this device. The token lives in localStorage so a reload, a killed
// tab or a day offline keeps the user signed in; the work itself lives in IndexedDB.
import { reactive } from 'vue'

const KEY = 'zoufang.session'

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {}
  } catch {
    return {}
  }
}

const saved = load()

export const session = reactive({
  token: saved.token || null,
  user: saved.user || null,
  // Set when the server refused the token (expired, revoked): the outbox is kept and the
  // user is asked to sign in again.
  needsSignIn: false,

  get signedIn() {
    return Boolean(this.token && this.user)
  },

  hasRole(...roles) {
    return Boolean(this.user?.roles?.some((role) => roles.includes(role)))
  },

  start(token, user) {
    this.token = token
    this.user = user
    this.needsSignIn = false
    localStorage.setItem(KEY, JSON.stringify({ token, user }))
  },

  expired() {
    this.needsSignIn = true
  },

  end() {
    this.token = null
    this.user = null
    this.needsSignIn = false
    localStorage.removeItem(KEY)
  },
})

/** A readable default device name from the user agent, e.g. "Android Chrome". */
export function guessDeviceName(userAgent = navigator.userAgent) {
  const systems = [
    [/HarmonyOS/i, 'HarmonyOS'], [/Android/i, 'Android'], [/iPhone|iPad|iPod/i, 'iOS'],
    [/Windows/i, 'Windows'], [/Mac OS X|Macintosh/i, 'macOS'], [/CrOS/i, 'ChromeOS'], [/Linux/i, 'Linux'],
  ]
  // Order matters: most browsers also claim to be Chrome and Safari.
  const browsers = [
    [/MicroMessenger/i, 'WeChat'], [/DingTalk/i, 'DingTalk'], [/EdgA?\//i, 'Edge'],
    [/HuaweiBrowser/i, 'Huawei Browser'], [/MiuiBrowser/i, 'Mi Browser'], [/UCBrowser/i, 'UC Browser'],
    [/QQBrowser/i, 'QQ Browser'], [/Firefox|FxiOS/i, 'Firefox'], [/Chrome|CriOS|Chromium/i, 'Chrome'],
    [/Safari/i, 'Safari'],
  ]
  const find = (table) => (table.find(([pattern]) => pattern.test(userAgent)) || [null, ''])[1]
  const name = [find(systems), find(browsers)].filter(Boolean).join(' ')
  return (name || '未命名设备').slice(0, 64)
}
