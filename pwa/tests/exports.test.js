import { describe, expect, it } from 'vitest'
import {
  dayStart, filenameFromDisposition, ledgerQuery, nextDay, progressPercent, zoneOffsetMinutes,
} from '../src/api/exports.js'

describe('the file name of a ledger', () => {
  it('prefers the UTF-8 name', () => {
    const header = 'attachment; filename="visits-990101000000-2026-03-20.xlsx"; '
      + "filename*=UTF-8''%E8%B5%B0%E8%AE%BF%E5%8F%B0%E8%B4%A6-%E7%A4%BA%E8%8C%83%E5%8E%BF-2026-03-20.xlsx"
    expect(filenameFromDisposition(header)).toBe('走访台账-示范县-2026-03-20.xlsx')
  })

  it('falls back to the plain name, then to the default', () => {
    expect(filenameFromDisposition('attachment; filename="hotspots-1.csv"')).toBe('hotspots-1.csv')
    expect(filenameFromDisposition('attachment; filename=plain.csv')).toBe('plain.csv')
    expect(filenameFromDisposition("attachment; filename*=UTF-8''%E0%A4; filename=\"ok.csv\"")).toBe('ok.csv')
    expect(filenameFromDisposition(null, 'visits.xlsx')).toBe('visits.xlsx')
    expect(filenameFromDisposition('attachment', 'visits.xlsx')).toBe('visits.xlsx')
  })
})

describe('progress', () => {
  it('is whole percent of Content-Length, unknown without one', () => {
    expect(progressPercent(0, 1000)).toBe(0)
    expect(progressPercent(999, 1000)).toBe(99)
    expect(progressPercent(1000, 1000)).toBe(100)
    expect(progressPercent(1200, 1000)).toBe(100)
    expect(progressPercent(500, null)).toBe(null)
    expect(progressPercent(500, 0)).toBe(null)
  })
})

describe('county days as instants', () => {
  it('knows a zone offset', () => {
    expect(zoneOffsetMinutes('Asia/Shanghai', new Date('2026-03-01T00:00:00Z'))).toBe(480)
    expect(zoneOffsetMinutes('Asia/Kathmandu', new Date('2026-03-01T00:00:00Z'))).toBe(345)
    expect(zoneOffsetMinutes('UTC', new Date('2026-03-01T00:00:00Z'))).toBe(0)
    expect(zoneOffsetMinutes('America/New_York', new Date('2026-01-01T00:00:00Z'))).toBe(-300)
  })

  it('begins a day at the county midnight, with the offset of that moment', () => {
    expect(dayStart('2026-03-01', 'Asia/Shanghai')).toBe('2026-03-01T00:00:00+08:00')
    // Summer time in Berlin begins on 29 March at 02:00: its midnight is still +01:00, the next +02:00.
    expect(dayStart('2026-03-29', 'Europe/Berlin')).toBe('2026-03-29T00:00:00+01:00')
    expect(dayStart('2026-03-30', 'Europe/Berlin')).toBe('2026-03-30T00:00:00+02:00')
    expect(dayStart('2026-10-26', 'Europe/Berlin')).toBe('2026-10-26T00:00:00+01:00')
  })

  it('asks for the days from..to, both included', () => {
    expect(nextDay('2026-02-28')).toBe('2026-03-01')
    expect(nextDay('2025-12-31')).toBe('2026-01-01')
    expect(ledgerQuery({ area: '990101100000', from: '2026-03-01', to: '2026-03-15', status: 'pending', author: 7 },
      'Asia/Shanghai')).toEqual({
      area: '990101100000', since: '2026-03-01T00:00:00+08:00', until: '2026-03-16T00:00:00+08:00',
      status: 'pending', author: '7',
    })
    expect(ledgerQuery({ area: '', from: '', to: '', status: '', author: '' }, null)).toEqual({})
  })
})
