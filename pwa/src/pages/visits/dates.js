// The visit time as the phone's date-time input shows it ("YYYY-MM-DDTHH:mm", local) and as
// the server stores it (ISO 8601 with the phone's offset, e.g. 2025-03-01T09:30:00+08:00).
const pad = (number) => String(number).padStart(2, '0')

/** For <input type="datetime-local">: the given instant (default now) in local time. */
export function toLocalInput(iso) {
  const date = iso ? new Date(iso) : new Date()
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/** The phone's own date (default today), "YYYY-MM-DD": what a cadre calls today, not UTC's. */
export const localDate = (date = new Date()) => toLocalInput(date.toISOString()).slice(0, 10)

/** From the input's local value to ISO 8601 with the offset of that moment. */
export function isoWithOffset(local) {
  const date = new Date(local)
  const offset = -date.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const hours = pad(Math.floor(Math.abs(offset) / 60))
  const minutes = pad(Math.abs(offset) % 60)
  return `${toLocalInput(date.toISOString())}:${pad(date.getSeconds())}${sign}${hours}:${minutes}`
}
