// The lifecycles of the kinds that move through statuses (the hotspot's today), as the
// server declares and enforces them (GET /api/hotspots/lifecycle): the statuses with their
// labels and the steps between them with the roles that may take each. Kept on the device
// like the category lists, so the steps are offered offline.
import { reactive } from 'vue'
import { getLifecycle } from './api/hotspots.js'
import { keptCopy } from './serverCopy.js'

export const lifecycles = reactive({ hotspot: null })

const load = keptCopy({
  key: 'lifecycles',
  fetch: async () => ({ hotspot: await getLifecycle() }),
  apply: (value) => {
    if (value?.hotspot?.states) lifecycles.hotspot = value.hotspot
  },
})

/** Fill `lifecycles` from the device, then from the server once per app start when online. */
export const loadLifecycles = () => load()

const words = (item, locale) => (locale.startsWith('zh') ? item.zh : item.en) || item.zh

/** A status in the current language; the code itself until the lifecycle is known. */
export function statusLabel(kind, code, locale = 'zh-CN') {
  const state = lifecycles[kind]?.states.find((entry) => entry.code === code)
  return state ? words(state, locale) || code : code || ''
}

/** The steps from `status` that a user with roles `hasRole(...roles)` may take: [{to, label}]. */
export function stepsFrom(kind, status, hasRole, locale = 'zh-CN') {
  return (lifecycles[kind]?.steps || [])
    .filter((step) => step.from === status && hasRole(...step.roles))
    .map((step) => ({ to: step.to, label: words(step, locale) }))
}
