// When the outbox is flushed: at start, when the network returns, when the app comes to the
// foreground, after each save, every minute while it is in front, and when the browser's
// Background Sync fires (where it exists; nothing depends on it). A request that comes
// while a run is going makes one more run after it; a run that failed for the network or
// a busy server is tried again soon, not only at the next minute.
import { db } from '../db/index.js'
import { session } from '../session.js'
import { abortSync, syncNow } from './engine.js'

const EVERY_MS = 60_000
const RETRY_MS = 10_000
let running = null
let again = false
let retry = null

export function requestSync() {
  if (!session.signedIn || session.needsSignIn || !navigator.onLine) return Promise.resolve(false)
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
      } while (again)
    } finally {
      running = null
    }
    clearTimeout(retry)
    if (!done) retry = setTimeout(requestSync, RETRY_MS)
    return done
  })()
  return running
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
