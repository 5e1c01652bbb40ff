// What the server declares and the phone needs offline (the category lists, the lifecycles),
// kept in the device's meta table: the stored copy is shown at once and replaced by the
// server's when there is a network, once per app start.
import { getMeta, setMeta } from './db/index.js'

/**
 * A loader for one such copy: `apply` receives the stored value, then the server's (from
 * `fetch`). Calls while one runs share it; a failed fetch keeps the stored copy.
 */
export function keptCopy({ key, fetch, apply }) {
  let loading = null
  let fetched = false
  return function load() {
    loading ||= (async () => {
      const stored = await getMeta(key)
      if (stored) apply(stored)
      if (!fetched && navigator.onLine) {
        try {
          const fresh = await fetch()
          fetched = true
          apply(fresh)
          await setMeta(key, fresh)
        } catch {
          // Offline or the server is away: the stored copy stays.
        }
      }
    })().finally(() => { loading = null })
    return loading
  }
}
