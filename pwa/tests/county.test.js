import { describe, expect, it } from 'vitest'
import {
  countyDay, countyMinute, countyTime, dayRange, dayStart, nextDay, wallClock, zoneOffsetMinutes,
} from '../src/api/county.js'

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
