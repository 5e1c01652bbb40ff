// ECharts, loaded on first use as a chunk of its own (modules.js: only what the
// dashboard draws). Canvas rendering: no inline markup or styles for the CSP to refuse.
let loading = null

export function loadECharts() {
  loading ??= import('./modules.js').then((module) => module.default).catch((error) => {
    loading = null // a chunk that failed to load (network) may load on the next try
    throw error
  })
  return loading
}
