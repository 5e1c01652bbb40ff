import { describe, expect, it } from 'vitest'
import { isoWithOffset, toLocalInput } from '../src/pages/visits/dates.js'

describe('visit time', () => {
  it('round-trips between the date-time input and ISO with the offset', () => {
    const local = '2025-03-01T09:30'
    const iso = isoWithOffset(local)
    expect(iso).toMatch(/^2025-03-01T09:30:00[+-]\d\d:\d\d$/)
    expect(new Date(iso).getTime()).toBe(new Date(local).getTime())
    expect(toLocalInput(iso)).toBe(local)
  })
})
