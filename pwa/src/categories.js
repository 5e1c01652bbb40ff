// The category lists (dispute types, hotspot types, visit kinds) from /api/categories,
// kept on the device so the pickers work offline (serverCopy.js).
import { reactive } from 'vue'
import { listCategories } from './api/categories.js'
import { keptCopy } from './serverCopy.js'

const KEY = 'categories'

export const categories = reactive({ dispute_types: [], hotspot_types: [], visit_kinds: [], loaded: false })

function apply(value) {
  for (const name of ['dispute_types', 'hotspot_types', 'visit_kinds']) {
    if (Array.isArray(value?.[name])) categories[name] = value[name]
  }
  categories.loaded = true
}

const load = keptCopy({ key: KEY, fetch: listCategories, apply })

/** Fill `categories` from the device, then from the server once per app start when online. */
export async function loadCategories() {
  await load()
  categories.loaded = true
}

/** The label of a code in the current language; the code itself when the list lacks it. */
export function categoryLabel(listName, code, locale = 'zh-CN') {
  const item = categories[listName]?.find((entry) => entry.code === code)
  if (!item) return code || ''
  return (locale.startsWith('zh') ? item.zh : item.en) || item.zh || code
}
