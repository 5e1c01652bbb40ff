// The county's clock. Days and times in the supervisor's screens are the county's
// (ZOUFANG_TIMEZONE, named by the metrics answers), not the browser's: a supervisor on a
// laptop set to another zone must see and filter the same days as the ledgers count.
//
// Offsets are worked out from the wall clock the zone shows (formatToParts of year … second),
// not from Intl's 'longOffset' time zone name, which older Chrome (<95) and Safari (<15.4)
// WebViews refuse.

const wallFormats = new Map()

function wallFormat(zone) {
  if (!wallFormats.has(zone)) {
    wallFormats.set(zone, new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hour12: false, year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    }))
  }
  return wallFormats.get(zone)
}

/** The wall clock of `zone` at an instant: {year, month, day, hour, minute, second}, numbers. */
export function wallClock(instant, zone) {
  const clock = {}
  for (const part of wallFormat(zone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') clock[part.type] = Number(part.value)
  }
  clock.hour %= 24 // some engines write midnight as 24 with hour12: false
  return clock
}

/** The UTC offset of a zone at an instant, in minutes (e.g. +480 for Asia/Shanghai). */
export function zoneOffsetMinutes(zone, instant) {
  const at = new Date(instant).getTime()
  const clock = wallClock(at, zone)
  const wall = Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second)
  return Math.round((wall - Math.floor(at / 1000) * 1000) / 60000)
}

const pad = (number) => String(number).padStart(2, '0')

/** The county day (YYYY-MM-DD) an instant falls on. */
export function countyDay(instant, zone) {
  const clock = wallClock(instant, zone)
  return `${clock.year}-${pad(clock.month)}-${pad(clock.day)}`
}

/** An instant as "YYYY-MM-DD HH:mm" on the county's clock; '' for none. */
export function countyMinute(instant, zone) {
  if (!instant) return ''
  const clock = wallClock(instant, zone)
  return `${countyDay(instant, zone)} ${pad(clock.hour)}:${pad(clock.minute)}`
}

/**
 * An instant in words of the locale on the county's clock; '' for none. `options` as
 * Intl.DateTimeFormat's (default: medium date, short time).
 */
export function countyTime(instant, zone, locale, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  if (!instant) return ''
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: zone }).format(new Date(instant))
}

/**
 * The instant a county day (YYYY-MM-DD) begins, as ISO 8601 with the zone's offset then.
 * The offset is looked up at the first guess and again at the result, so a day that begins
 * just after a change of offset (daylight saving) still gets the right one.
 */
export function dayStart(day, zone) {
  const [year, month, date] = day.split('-').map(Number)
  const wall = Date.UTC(year, month - 1, date)
  let offset = zoneOffsetMinutes(zone, wall)
  offset = zoneOffsetMinutes(zone, wall - offset * 60000)
  const sign = offset < 0 ? '-' : '+'
  return `${day}T00:00:00${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
}

/** The next calendar day of YYYY-MM-DD. */
export function nextDay(day) {
  const [year, month, date] = day.split('-').map(Number)
  return new Date(Date.UTC(year, month - 1, date + 1)).toISOString().slice(0, 10)
}

/** County days from..to (both included, either may be empty) as the instants {since, until}. */
export function dayRange(from, to, zone) {
  const range = {}
  if (from) range.since = dayStart(from, zone)
  if (to) range.until = dayStart(nextDay(to), zone)
  return range
}
