// When the outbox is flushed: at start, when the network returns, when the app comes to the
// foreground, after each save, every minute while it is in front, and when the browser's
// Background Sync fires (where it exists; nothing depends on it). A request that comes
// while a run is going makes one more run after it; a run that failed for the network or
// a busy server is tried again soon, not only at the next minute — or, when the server
// answered with Retry-After, no sooner than it asked.
import { db } from '../db/index.js'
import { session } from '../session.js'
import { abortSync, syncNow, syncState } from './engine.js'

const EVERY_MS = 60_000
const RETRY_MS = 10_000
let running = null
let again = false
let retry = null
// A server that answered 503 or 429 with Retry-After is left alone until then: every
// phone of the county coming back at once would keep it down. The retry is set for then.
let notBefore = 0

export function requestSync() {
  if (!session.signedIn || session.needsSignIn || !navigator.onLine) return Promise.resolve(false)
  if (Date.now() < notBefore) return Promise.resolve(false)
  if (running) {
    again = true
    return running
  }
  running = (async () => {
    let done = false
    try {
      do {
        again = false
        done = await syncNow()
        // A request made during a run that the server answered with Retry-After waits too.
      } while (again && (done || !syncState.lastError?.retryAfter))
    } finally {
      running = null
    }
    clearTimeout(retry)
    const asked = done ? 0 : (syncState.lastError?.retryAfter ?? 0) * 1000
    notBefore = asked ? Date.now() + asked : 0
    syncState.retryAt = notBefore || null
    if (!done) retry = setTimeout(requestSync, asked || RETRY_MS)
    return done
  })()
  return running
}

/** Whole seconds left of the server's Retry-After; 0 when nothing is being waited out. */
export function secondsUntilRetry(now = Date.now()) {
  return syncState.retryAt ? Math.max(0, Math.ceil((syncState.retryAt - now) / 1000)) : 0
}

export function startSyncTriggers() {
  requestSync()
  window.addEventListener('online', () => {
    // Requests of a run begun on the dead network may hang until their timeout: start over.
    abortSync()
    requestSync()
  })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') requestSync()
  })
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') requestSync()
  }, EVERY_MS)
  // Every save lands in the outbox: send it as soon as it is there.
  db.outbox.hook('creating', () => {
    queueMicrotask(() => setTimeout(requestSync, 300))
  })
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'zoufang-sync') requestSync()
  })
  navigator.serviceWorker?.ready.then((registration) => registration.sync?.register('zoufang-sync')).catch(() => {})
  return () => clearInterval(timer)
}
