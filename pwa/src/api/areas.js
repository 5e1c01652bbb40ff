// The administrative tree as far as you may see it (/api/areas).
import { api } from './client.js'

/** The children of an area, or your own area (a list of one) without `parent`. */
export function fetchAreas(parent, signal) {
  return api('/api/areas', { query: { parent }, signal })
}

/** One area in your scope: {code, name, level, parent_code, child_count}. */
export function fetchArea(code, signal) {
  return api(`/api/areas/${code}`, { signal })
}

// Deeper than county, township, village and grid there is nothing; a loop in the data must
// not spin for ever.
const MAX_DEPTH = 6

/** The codes from just under `root` down to `code`, each area's parent read from the server. */
export async function areaPath(code, root, signal) {
  const path = []
  for (let at = code; at && at !== root;) {
    if (path.length >= MAX_DEPTH) throw new Error(`Area ${code} is not under ${root}`)
    path.unshift(at)
    at = (await fetchArea(at, signal)).parent_code
  }
  return path
}
