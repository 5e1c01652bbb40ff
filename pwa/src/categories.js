// The category lists (dispute types, hotspot types, visit kinds) from /api/categories,
// kept in the device's meta table so the pickers work offline: the stored copy is shown
// at once and replaced by the server's when there is a network.
import { reactive } from 'vue'
import { listCategories } from './api/categories.js'
import { getMeta, setMeta } from './db/index.js'

const KEY = 'categories'

export const categories = reactive({ dispute_types: [], hotspot_types: [], visit_kinds: [], loaded: false })

let loading = null
let fetched = false

function apply(value) {
  for (const name of ['dispute_types', 'hotspot_types', 'visit_kinds']) {
    if (Array.isArray(value?.[name])) categories[name] = value[name]
  }
  categories.loaded = true
}

/** Fill `categories` from the device, then from the server once per app start when online. */
export function loadCategories() {
  loading ||= (async () => {
    const stored = await getMeta(KEY)
    if (stored) apply(stored)
    if (!fetched && navigator.onLine) {
      try {
        const fresh = await listCategories()
        fetched = true
        apply(fresh)
        await setMeta(KEY, fresh)
      } catch {
        // Offline or the server is away: the stored copy stays.
      }
    }
    categories.loaded = true
  })().finally(() => { loading = null })
  return loading
}

/** The label of a code in the current language; the code itself when the list lacks it. */
export function categoryLabel(listName, code, locale = 'zh-CN') {
  const item = categories[listName]?.find((entry) => entry.code === code)
  if (!item) return code || ''
  return (locale.startsWith('zh') ? item.zh : item.en) || item.zh || code
}
