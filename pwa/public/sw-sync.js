// Loaded into the service worker: when the browser's Background Sync fires (Chrome on
// Android, after the network returns), ask the open app windows to flush their outbox.
// The outbox itself is app code in IndexedDB; nothing depends on this event.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'zoufang-sync') return
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((windows) => {
      for (const client of windows) client.postMessage({ type: 'zoufang-sync' })
    }),
  )
})
