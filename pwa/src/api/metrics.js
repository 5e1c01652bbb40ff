// The campaign's rates, read from /api/metrics (supervisors and admins).
import { api } from './client.js'

/** Households, visits and follow-ups of an area and its children over county days from..to. */
export function coverage({ area, from, to } = {}, signal) {
  return api('/api/metrics/coverage', { query: { area, from, to }, signal })
}

/** Hotspots listed, closed, overdue and relapsed in an area and its children, as of today. */
export function rectification({ area } = {}, signal) {
  return api('/api/metrics/rectification', { query: { area }, signal })
}

/** Visits and flagged visits on each county day from..to (every day present). */
export function visitsPerDay({ area, from, to } = {}, signal) {
  return api('/api/metrics/visits-per-day', { query: { area, from, to }, signal })
}

let zone = null

/** The county's time zone (ZOUFANG_TIMEZONE), as the metrics answers name it; asked once. */
export async function countyZone(signal) {
  if (!zone) {
    const today = new Date().toISOString().slice(0, 10)
    zone = (await visitsPerDay({ from: today, to: today }, signal)).timezone
  }
  return zone
}

/** Remember the zone an answer already gave. */
export function rememberZone(name) {
  if (name) zone = name
}
