import { describe, expect, it } from 'vitest'
import { filenameFromDisposition, ledgerQuery, progressPercent } from '../src/api/exports.js'

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

describe('the query of a ledger', () => {
  it('asks for the county days from..to, both included', () => {
    expect(ledgerQuery({ area: '990101100000', from: '2026-03-01', to: '2026-03-15', status: 'pending', author: 7 },
      'Asia/Shanghai')).toEqual({
      area: '990101100000', since: '2026-03-01T00:00:00+08:00', until: '2026-03-16T00:00:00+08:00',
      status: 'pending', author: '7',
    })
    expect(ledgerQuery({ area: '', from: '', to: '', status: '', author: '' }, null)).toEqual({})
  })
})
