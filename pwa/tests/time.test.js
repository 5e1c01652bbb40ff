// Dates and times (src/time.js): the phone's clock and the county's. Cadres' phones are on
// UTC+8, CI on UTC, and a date taken from the UTC clock is a day off for eight hours of
// every night: `npm test` runs this file under TZ=UTC and again under TZ=Asia/Shanghai,
// with cases just before and just after local midnight.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  countyDay, countyMinute, countyTime, dayRange, dayStart, exifTime, isoWithOffset, lastDays, localDate, localMinute, nextDay,
  startOfToday, toLocalInput, wallClock, zoneOffsetMinutes,
} from '../src/time.js'

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

  it('writes a stored time as the phone’s "YYYY-MM-DD HH:mm", and nothing for none', () => {
    const expected = { UTC: '2025-03-01 16:30', 'Asia/Shanghai': '2025-03-02 00:30' }[ZONE]
    expect(localMinute('2025-03-01T16:30:00+00:00')).toBe(expected)
    expect(localMinute(null)).toBe('')
  })

  it('starts today at the phone’s midnight', () => {
    clockAt(2025, 3, 2, 0, 30)
    expect(startOfToday()).toBe(new Date(2025, 2, 2).getTime())
    expect(new Date(startOfToday()).toISOString()).toBe(
      { UTC: '2025-03-02T00:00:00.000Z', 'Asia/Shanghai': '2025-03-01T16:00:00.000Z' }[ZONE])
  })
})

describe('a zone offset', () => {
  it('is read from the wall clock of the zone', () => {
    expect(zoneOffsetMinutes('Asia/Shanghai', new Date('2026-03-01T00:00:00Z'))).toBe(480)
    expect(zoneOffsetMinutes('Asia/Kathmandu', new Date('2026-03-01T00:00:00Z'))).toBe(345)
    expect(zoneOffsetMinutes('UTC', new Date('2026-03-01T00:00:00Z'))).toBe(0)
    expect(zoneOffsetMinutes('America/New_York', new Date('2026-01-01T00:00:00Z'))).toBe(-300)
  })

  it('follows summer time, and ignores the milliseconds of the instant', () => {
    // Berlin moves from +01:00 to +02:00 at 01:00 UTC on 29 March 2026, and back at 01:00 UTC on 25 October.
    expect(zoneOffsetMinutes('Europe/Berlin', new Date('2026-03-29T00:59:59.999Z'))).toBe(60)
    expect(zoneOffsetMinutes('Europe/Berlin', new Date('2026-03-29T01:00:00Z'))).toBe(120)
    expect(zoneOffsetMinutes('Europe/Berlin', new Date('2026-10-25T00:59:59Z'))).toBe(120)
    expect(zoneOffsetMinutes('Europe/Berlin', new Date('2026-10-25T01:00:00Z'))).toBe(60)
  })

  it('does not ask Intl for a longOffset name, which old WebViews refuse', () => {
    const Original = Intl.DateTimeFormat
    const refusing = function DateTimeFormat(locale, options = {}) {
      if (options.timeZoneName) throw new RangeError('timeZoneName not supported')
      return new Original(locale, options)
    }
    Intl.DateTimeFormat = refusing
    try {
      // Zones no other test has asked for, so their formats are made under the refusing Intl.
      expect(zoneOffsetMinutes('Asia/Kolkata', new Date('2026-07-01T12:00:00Z'))).toBe(330)
      expect(dayStart('2026-07-01', 'Australia/Adelaide')).toBe('2026-07-01T00:00:00+09:30')
    } finally {
      Intl.DateTimeFormat = Original
    }
  })
})

describe('county days as instants', () => {
  it('begins a day at the county midnight, with the offset of that moment', () => {
    expect(dayStart('2026-03-01', 'Asia/Shanghai')).toBe('2026-03-01T00:00:00+08:00')
    expect(dayStart('2026-03-01', 'Asia/Kathmandu')).toBe('2026-03-01T00:00:00+05:45')
    // Summer time in Berlin begins on 29 March at 02:00: its midnight is still +01:00, the next +02:00.
    expect(dayStart('2026-03-29', 'Europe/Berlin')).toBe('2026-03-29T00:00:00+01:00')
    expect(dayStart('2026-03-30', 'Europe/Berlin')).toBe('2026-03-30T00:00:00+02:00')
    // And ends on 25 October at 03:00: that midnight is still +02:00, the next +01:00.
    expect(dayStart('2026-10-25', 'Europe/Berlin')).toBe('2026-10-25T00:00:00+02:00')
    expect(dayStart('2026-10-26', 'Europe/Berlin')).toBe('2026-10-26T00:00:00+01:00')
  })

  it('names the day after, across months and years', () => {
    expect(nextDay('2026-02-28')).toBe('2026-03-01')
    expect(nextDay('2028-02-28')).toBe('2028-02-29')
    expect(nextDay('2025-12-31')).toBe('2026-01-01')
  })

  it('turns days from..to into since and until, the last day included', () => {
    expect(dayRange('2026-11-01', '2026-11-30', 'Asia/Shanghai'))
      .toEqual({ since: '2026-11-01T00:00:00+08:00', until: '2026-12-01T00:00:00+08:00' })
    // A Berlin day in late March lasts 23 hours.
    const { since, until } = dayRange('2026-03-29', '2026-03-29', 'Europe/Berlin')
    expect(new Date(until) - new Date(since)).toBe(23 * 3600000)
    expect(dayRange('', '2026-03-01', 'Asia/Kathmandu')).toEqual({ until: '2026-03-02T00:00:00+05:45' })
    expect(dayRange('', '', 'Asia/Shanghai')).toEqual({})
  })
})

describe('times on the county clock', () => {
  it('reads the wall clock of the zone, whatever the zone of the machine', () => {
    const instant = '2026-11-20T01:30:00Z'
    expect(wallClock(instant, 'Asia/Shanghai')).toEqual({ year: 2026, month: 11, day: 20, hour: 9, minute: 30,
      second: 0 })
    expect(countyMinute(instant, 'Asia/Shanghai')).toBe('2026-11-20 09:30')
    expect(countyMinute(instant, 'Asia/Kathmandu')).toBe('2026-11-20 07:15')
    expect(countyMinute(instant, 'Europe/Berlin')).toBe('2026-11-20 02:30')
    expect(countyMinute('2026-11-19T16:00:00Z', 'Asia/Shanghai')).toBe('2026-11-20 00:00')
    expect(countyMinute(null, 'Asia/Shanghai')).toBe('')
  })

  it('gives the county day of an instant, which may not be the UTC day', () => {
    expect(countyDay('2026-11-19T16:30:00Z', 'Asia/Shanghai')).toBe('2026-11-20')
    expect(countyDay('2026-11-19T16:30:00Z', 'Europe/Berlin')).toBe('2026-11-19')
  })

  it('writes a time in words of the locale, in the zone', () => {
    const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
    expect(countyTime('2026-11-20T01:30:00Z', 'Asia/Shanghai', 'en-GB', options)).toBe('09:30')
    expect(countyTime('2026-11-20T01:30:00Z', 'Asia/Kathmandu', 'en-GB', options)).toBe('07:15')
    expect(countyTime('2026-07-20T01:30:00Z', 'Europe/Berlin', 'en-GB', options)).toBe('03:30')
    expect(countyTime('2026-11-20T01:30:00Z', 'Asia/Shanghai', 'zh-CN')).toContain('2026')
    expect(countyTime('', 'Asia/Shanghai', 'zh-CN')).toBe('')
  })
})

describe('calendar days', () => {
  it('counts the last days back from the county today, across months and years', () => {
    expect(lastDays(7, '2026-03-03')).toEqual({ from: '2026-02-25', to: '2026-03-03' })
    expect(lastDays(30, '2026-01-10')).toEqual({ from: '2025-12-12', to: '2026-01-10' })
    expect(lastDays(1, '2026-01-10')).toEqual({ from: '2026-01-10', to: '2026-01-10' })
  })
})

describe('a photo’s EXIF time', () => {
  it('is China’s wall clock whatever the phone’s zone, as EXIF carries no zone', () => {
    expect(exifTime(new Date('2025-03-01T16:30:05Z'))).toBe('2025:03:02 00:30:05')
  })
})
