// When the outbox is flushed: at start, when the network returns, when the app comes to the
// foreground, after each save, every minute while it is in front, and when the browser's
// Background Sync fires (where it exists; nothing depends on it).
import { db } from '../db/index.js'
import { session } from '../session.js'
import { syncNow } from './engine.js'

const EVERY_MS = 60_000
let timer = null

export function requestSync() {
  if (!session.signedIn || session.needsSignIn || !navigator.onLine) return Promise.resolve(false)
  return syncNow()
}

export function startSyncTriggers() {
  requestSync()
  window.addEventListener('online', requestSync)
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') requestSync()
  })
  timer = setInterval(() => {
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
