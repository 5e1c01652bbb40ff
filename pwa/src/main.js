// Placeholder front end: sign in, show who is signed in, sign out.
// The real PWA (Vue 3 + Vant + vite-plugin-pwa) replaces this file.
import './style.css'

const TOKEN_KEY = 'zoufang.token'

const ROLE_LABELS = {
  cadre: '走访干部 Cadre',
  inspector: '整治队员 Inspector',
  supervisor: '督查 Supervisor',
  admin: '管理员 Admin',
}

const NETWORK_ERROR = '无法连接服务器 Cannot reach the server'

const form = document.getElementById('login-form')
const signedIn = document.getElementById('signed-in')
const status = document.getElementById('status')
const logoutButton = document.getElementById('logout')

/** A readable default device name from the user agent, e.g. "Android Chrome". */
function guessDeviceName(userAgent) {
  const systems = [
    [/HarmonyOS/i, 'HarmonyOS'],
    [/Android/i, 'Android'],
    [/iPhone|iPad|iPod/i, 'iOS'],
    [/Windows/i, 'Windows'],
    [/Mac OS X|Macintosh/i, 'macOS'],
    [/CrOS/i, 'ChromeOS'],
    [/Linux/i, 'Linux'],
  ]
  // Order matters: most browsers also claim to be Chrome and Safari.
  const browsers = [
    [/MicroMessenger/i, 'WeChat'],
    [/DingTalk/i, 'DingTalk'],
    [/EdgA?\//i, 'Edge'],
    [/HuaweiBrowser/i, 'Huawei Browser'],
    [/MiuiBrowser/i, 'Mi Browser'],
    [/UCBrowser/i, 'UC Browser'],
    [/QQBrowser/i, 'QQ Browser'],
    [/Firefox|FxiOS/i, 'Firefox'],
    [/Chrome|CriOS|Chromium/i, 'Chrome'],
    [/Safari/i, 'Safari'],
  ]
  const find = (table) => (table.find(([pattern]) => pattern.test(userAgent)) || [null, ''])[1]
  const name = [find(systems), find(browsers)].filter(Boolean).join(' ')
  return (name || '未命名设备').slice(0, 64)
}

class NetworkError extends Error {}

/** Fetch JSON from the API; throws NetworkError when the server cannot be reached. */
async function callApi(path, { method = 'GET', token, body } = {}) {
  const headers = { Accept: 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let response
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
    })
  } catch {
    throw new NetworkError(NETWORK_ERROR)
  }
  let data = null
  if (response.status !== 204) {
    try {
      data = await response.json()
    } catch {
      data = null // e.g. a proxy's HTML error page
    }
  }
  return { response, data }
}

/** The text shown for an API error body {code, status, message, errors, reason?}. */
function errorText(response, data) {
  switch (data && data.reason) {
    case 'invalid_credentials':
      return '用户名或密码错误 Wrong username or password'
    case 'account_locked': {
      const seconds = Number(response.headers.get('Retry-After')) || 60
      const minutes = Math.max(1, Math.ceil(seconds / 60))
      return `登录失败次数过多，请 ${minutes} 分钟后再试 Too many failed sign-ins: try again in ${minutes} min`
    }
    case 'account_inactive':
      return '账号已停用 This account is deactivated'
    default:
      if (data && data.message) return data.message
      return `服务器错误 Server error (HTTP ${response.status})`
  }
}

function showStatus(text) {
  status.textContent = text || ''
  status.hidden = !text
}

function showForm() {
  signedIn.hidden = true
  form.hidden = false
  form.elements.password.value = ''
}

function showUser(user) {
  document.getElementById('user-display-name').textContent = user.display_name
  document.getElementById('user-username').textContent = user.username
  document.getElementById('user-roles').textContent =
    user.roles.map((role) => ROLE_LABELS[role] || role).join('、')
  document.getElementById('user-area').textContent = `${user.area_name}（${user.area_code}）`
  form.hidden = true
  signedIn.hidden = false
}

async function signIn(event) {
  event.preventDefault()
  if (!form.reportValidity()) return
  const button = form.querySelector('button[type=submit]')
  button.disabled = true
  showStatus('')
  try {
    const { response, data } = await callApi('/api/auth/login', {
      method: 'POST',
      body: {
        username: form.elements.username.value.trim(),
        password: form.elements.password.value,
        device_name: form.elements.device_name.value.trim(),
      },
    })
    if (!response.ok) {
      showStatus(errorText(response, data))
      return
    }
    localStorage.setItem(TOKEN_KEY, data.token)
    showUser(data.user)
  } catch (error) {
    showStatus(error instanceof NetworkError ? error.message : String(error))
  } finally {
    button.disabled = false
  }
}

async function signOut() {
  const token = localStorage.getItem(TOKEN_KEY)
  logoutButton.disabled = true
  showStatus('')
  try {
    const { response, data } = await callApi('/api/auth/logout', { method: 'POST', token })
    // 401: the token is already dead on the server, so forgetting it is right too.
    if (!response.ok && response.status !== 401) {
      showStatus(errorText(response, data))
      return
    }
    localStorage.removeItem(TOKEN_KEY)
    showForm()
  } catch (error) {
    // Keep the token: it is still valid on the server until the sign-out gets through.
    showStatus(error instanceof NetworkError ? error.message : String(error))
  } finally {
    logoutButton.disabled = false
  }
}

async function start() {
  form.elements.device_name.value = guessDeviceName(navigator.userAgent)
  form.addEventListener('submit', signIn)
  logoutButton.addEventListener('click', signOut)

  const token = localStorage.getItem(TOKEN_KEY)
  if (!token) {
    showForm()
    return
  }
  try {
    const { response, data } = await callApi('/api/auth/me', { token })
    if (response.ok) {
      showUser(data)
      return
    }
    if (response.status === 401) {
      localStorage.removeItem(TOKEN_KEY)
    } else {
      showStatus(errorText(response, data))
    }
  } catch (error) {
    showStatus(error instanceof NetworkError ? error.message : String(error))
  }
  showForm()
}

start()
