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
let asking = null

/**
 * The county's time zone (ZOUFANG_TIMEZONE), as the metrics answers name it; asked once and
 * shared by every screen that asks meanwhile. `signal` stops the caller's wait, not the question.
 */
export function countyZone(signal) {
  if (zone) return Promise.resolve(zone)
  if (!asking) {
    const today = new Date().toISOString().slice(0, 10)
    asking = visitsPerDay({ from: today, to: today })
      .then((answer) => {
        zone = answer.timezone
        return zone
      })
      .finally(() => { asking = null })
  }
  if (!signal) return asking
  return new Promise((resolve, reject) => {
    const stop = () => reject(new DOMException('Aborted', 'AbortError'))
    if (signal.aborted) return stop()
    signal.addEventListener('abort', stop, { once: true })
    asking.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop))
  })
}

/** Remember the zone an answer already gave. */
export function rememberZone(name) {
  if (name) zone = name
}
