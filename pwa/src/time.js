// Dates and times, in one place. Two clocks:
//
// - the phone's own clock, for what a field worker types and reads: a visit's time in a
//   date-time input, "today" for a deadline, a record's time in a list;
// - the county's clock (ZOUFANG_TIMEZONE, named by the metrics answers) for the supervisor's
//   screens: a supervisor on a laptop set to another zone must see and filter the same days
//   as the ledgers count.
//
// County offsets are worked out from the wall clock the zone shows (formatToParts of year …
// second), not from Intl's 'longOffset' time zone name, which older Chrome (<95) and Safari
// (<15.4) WebViews refuse.

const pad = (number) => String(number).padStart(2, '0')

// --- the phone's clock --------------------------------------------------------------

/**
 * For <input type="datetime-local"> ("YYYY-MM-DDTHH:mm", local wall-clock time without an
 * offset): the given instant, default now.
 */
export function toLocalInput(iso) {
  const date = iso ? new Date(iso) : new Date()
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/** The phone's own date (default today), "YYYY-MM-DD": what a cadre calls today, not UTC's. */
export const localDate = (date = new Date()) => toLocalInput(date.toISOString()).slice(0, 10)

/**
 * From the input's local value to ISO 8601 with the offset of that moment, as the server
 * stores a visit's time (e.g. 2025-03-01T09:30:00+08:00).
 */
export function isoWithOffset(local) {
  const date = new Date(local)
  const offset = -date.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const hours = pad(Math.floor(Math.abs(offset) / 60))
  const minutes = pad(Math.abs(offset) % 60)
  return `${toLocalInput(date.toISOString())}:${pad(date.getSeconds())}${sign}${hours}:${minutes}`
}

/** When today began on the phone's clock, in ms since the epoch. */
export function startOfToday() {
  const day = new Date()
  day.setHours(0, 0, 0, 0)
  return day.getTime()
}

/** An instant as "YYYY-MM-DD HH:mm" on the phone's clock; '' for none. */
export const localMinute = (iso) => (iso ? toLocalInput(iso).replace('T', ' ') : '')

/** An instant as month, day, hour and minute in the locale's words ("12/01 09:30"); '' for none. */
export function shortTime(iso, locale) {
  if (!iso) return ''
  return new Date(iso).toLocaleString(locale, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
}

/** An instant's month and day in the locale's words; '' for none. */
export function shortDay(iso, locale = 'zh-CN') {
  return iso ? new Date(iso).toLocaleDateString(locale, { month: '2-digit', day: '2-digit' }) : ''
}

/** An instant as the locale's short date and time; '' for none. */
export function shortDateTime(iso, locale = 'zh-CN') {
  return iso ? new Date(iso).toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short' }) : ''
}

/** EXIF's DateTimeOriginal ("YYYY:MM:DD HH:mm:ss"), which has no zone: China time, as the phone's camera writes it. */
export function exifTime(date) {
  const local = new Date(date.getTime() + 8 * 3600 * 1000).toISOString()
  return `${local.slice(0, 10).replaceAll('-', ':')} ${local.slice(11, 19)}`
}

// --- calendar days (YYYY-MM-DD, no clock) -------------------------------------------

/** The next calendar day of YYYY-MM-DD. */
export function nextDay(day) {
  const [year, month, date] = day.split('-').map(Number)
  return new Date(Date.UTC(year, month - 1, date + 1)).toISOString().slice(0, 10)
}

/** The last `days` days ending `today` (YYYY-MM-DD), both included. */
export function lastDays(days, today) {
  const [year, month, date] = today.split('-').map(Number)
  const from = new Date(Date.UTC(year, month - 1, date - (days - 1))).toISOString().slice(0, 10)
  return { from, to: today }
}

// --- the county's clock -------------------------------------------------------------

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

/** County days from..to (both included, either may be empty) as the instants {since, until}. */
export function dayRange(from, to, zone) {
  const range = {}
  if (from) range.since = dayStart(from, zone)
  if (to) range.until = dayStart(nextDay(to), zone)
  return range
}
