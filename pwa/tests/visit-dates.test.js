// The visit time as the cadre sees it. Cadres' phones are on UTC+8, CI on UTC, and a date
// taken from the UTC clock is a day off for eight hours of every night: `npm test` runs
// this file under TZ=UTC and again under TZ=Asia/Shanghai, with cases just before and
// just after local midnight.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isoWithOffset, localDate, toLocalInput } from '../src/pages/visits/dates.js'

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone
// The offset the phone's clock shows in this run, as ISO 8601 writes it.
const OFFSET = { UTC: '+00:00', 'Asia/Shanghai': '+08:00' }[ZONE]

afterEach(() => {
  vi.useRealTimers()
})

/** Freeze the phone's clock at a local wall-clock time. */
function clockAt(year, month, day, hours, minutes) {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date(year, month - 1, day, hours, minutes))
}

// `npx vitest run` on a machine in another zone: the cases below know only these two.
describe.skipIf(!OFFSET)(`visit time (${ZONE})`, () => {
  it('round-trips between the date-time input and ISO with the offset', () => {
    const local = '2025-03-01T09:30'
    const iso = isoWithOffset(local)
    expect(iso).toBe(`2025-03-01T09:30:00${OFFSET}`)
    expect(new Date(iso).getTime()).toBe(new Date(local).getTime())
    expect(toLocalInput(iso)).toBe(local)
  })

  it('fills in today’s date at 23:30 local, the evening before midnight', () => {
    clockAt(2025, 3, 1, 23, 30)
    const shown = toLocalInput()
    expect(shown).toBe('2025-03-01T23:30')
    // Sent to the server as that same wall-clock time with the phone's offset: in
    // Shanghai 15:30 UTC of the same day, which the server files under 1 March.
    expect(isoWithOffset(shown)).toBe(`2025-03-01T23:30:00${OFFSET}`)
    expect(new Date(isoWithOffset(shown)).getTime()).toBe(Date.now())
  })

  it('fills in the new date at 00:30 local, when UTC is still on the day before', () => {
    clockAt(2025, 3, 2, 0, 30)
    const shown = toLocalInput()
    expect(shown).toBe('2025-03-02T00:30')
    expect(isoWithOffset(shown)).toBe(`2025-03-02T00:30:00${OFFSET}`)
    expect(new Date(isoWithOffset(shown)).getTime()).toBe(Date.now())
  })

  it('shows a stored visit at the local time it happened, whatever offset it was sent with', () => {
    // Synced from another phone or written by the server in UTC: 16:30 UTC on 1 March.
    const stored = '2025-03-01T16:30:00+00:00'
    const expected = { UTC: '2025-03-01T16:30', 'Asia/Shanghai': '2025-03-02T00:30' }[ZONE]
    expect(toLocalInput(stored)).toBe(expected)
    expect(new Date(isoWithOffset(toLocalInput(stored))).getTime()).toBe(new Date(stored).getTime())
  })

  it('keeps the last day of the month and of the year at 23:30', () => {
    clockAt(2024, 12, 31, 23, 30)
    expect(toLocalInput()).toBe('2024-12-31T23:30')
    expect(isoWithOffset('2024-12-31T23:30')).toBe(`2024-12-31T23:30:00${OFFSET}`)
    clockAt(2025, 1, 1, 0, 30)
    expect(toLocalInput()).toBe('2025-01-01T00:30')
  })

  it('calls 00:30 local the new day for deadlines, while UTC is still on the day before', () => {
    clockAt(2025, 3, 2, 0, 30)
    expect(localDate()).toBe('2025-03-02')
    // A deadline of 1 March is past from the phone's midnight.
    expect('2025-03-01' < localDate()).toBe(true)
    clockAt(2025, 3, 1, 23, 30)
    expect(localDate()).toBe('2025-03-01')
    expect(localDate(new Date(2024, 11, 31, 23, 59))).toBe('2024-12-31')
  })
})
