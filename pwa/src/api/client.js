// Every call to the Flask API goes through here: the device token, JSON, and one error type.
import { session } from '../session.js'

export class ApiError extends Error {
  /** status 0 means the server could not be reached (offline, timeout). */
  constructor(status, body) {
    super(body?.message || (status ? `HTTP ${status}` : 'network'))
    this.status = status
    this.reason = body?.reason || null
    this.errors = body?.errors || {}
    this.body = body
  }

  get offline() {
    return this.status === 0
  }

  /** Worth trying again later: offline, or the server said it is busy or down. */
  get temporary() {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }
}

const TIMEOUT_MS = 30000

export async function api(path, {
  method = 'GET', body, query, headers: extra, token = session.token, timeout = TIMEOUT_MS, signal,
} = {}) {
  const url = new URL(path, location.origin)
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value)
  }
  const headers = { Accept: 'application/json', ...extra }
  if (token) headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeout)
  // The caller may give up too (the sync engine does when the network comes back).
  signal?.addEventListener('abort', () => controller.abort(), { once: true })
  let response
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal: controller.signal,
    })
  } catch {
    throw new ApiError(0, null)
  } finally {
    clearTimeout(timer)
  }
  let data = null
  if (response.status !== 204) {
    try {
      data = await response.json()
    } catch {
      data = null // a proxy's HTML error page
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data)
    error.retryAfter = Number(response.headers.get('Retry-After')) || null
    if (response.status === 401 && token) session.expired(error)
    throw error
  }
  return data
}
