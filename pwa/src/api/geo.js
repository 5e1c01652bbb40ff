// The supervisors' map layers (/api/geo, GeoJSON).
import { api } from './client.js'

export const LAYERS = ['visits', 'inspections', 'hotspots']
export const MAX_FEATURES = 5000

/**
 * `minLon,minLat,maxLon,maxLat` for the API, rounded outwards to 4 decimals (about 10 m):
 * short URLs, and a tiny pan does not change the request. Clamped to the valid range.
 */
export function bboxParam({ west, south, east, north }) {
  const down = (value) => Math.floor(value * 1e4) / 1e4
  const up = (value) => Math.ceil(value * 1e4) / 1e4
  const clamp = (value, limit) => Math.min(limit, Math.max(-limit, value))
  const text = (value) => String(Number(value.toFixed(4)))
  return [clamp(down(west), 180), clamp(down(south), 90), clamp(up(east), 180), clamp(up(north), 90)]
    .map(text).join(',')
}

/** The `since` of the last `days` days, or undefined for "any time". */
export function sinceDays(days, now = new Date()) {
  if (!days) return undefined
  return new Date(now.getTime() - days * 86400000).toISOString()
}

/**
 * The query of one layer under the map's filters. Review status applies to visits and
 * inspections only; a specific flag code is filtered by the server ("any flag" cannot be,
 * the API takes one code, so the map filters flag_count > 0 itself); the time range is
 * left off hotspots, whose `time` is their last change: an untouched overdue hotspot is
 * exactly what should still show.
 */
export function layerQuery(layer, { bbox, reviewStatus, flag, days, limit = MAX_FEATURES }, now = new Date()) {
  const query = { limit }
  if (bbox) query.bbox = bbox
  if (reviewStatus && layer !== 'hotspots') query.review_status = reviewStatus
  if (flag && flag !== 'any') query.flag = flag
  if (layer !== 'hotspots') query.since = sinceDays(days, now)
  return query
}

export function fetchLayer(layer, query, signal) {
  return api(`/api/geo/${layer}`, { query, signal })
}
