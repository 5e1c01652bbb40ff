// Choosing the fix a record keeps (src/composables/useGps.js).
import { describe, expect, it } from 'vitest'
import { betterFix, toFix } from '../src/composables/useGps.js'

const fix = (accuracy_m, at, lat = 30.1, lon = 104.2) => ({ lat, lon, accuracy_m, at })

describe('betterFix', () => {
  it('takes the first fix that has an accuracy', () => {
    const first = fix(50, 1000)
    expect(betterFix(null, first)).toBe(first)
  })

  it('keeps the most accurate fix whatever the order', () => {
    const coarse = fix(120, 1000)
    const fine = fix(12, 2000)
    const worse = fix(40, 3000)
    let best = null
    for (const next of [coarse, fine, worse]) best = betterFix(best, next)
    expect(best).toBe(fine)
    expect(betterFix(fine, coarse)).toBe(fine)
  })

  it('prefers the newer of two equally accurate fixes', () => {
    const older = fix(20, 1000, 30.1)
    const newer = fix(20, 2000, 30.2)
    expect(betterFix(older, newer)).toBe(newer)
    expect(betterFix(newer, older)).toBe(newer)
    expect(betterFix(older, fix(20, 1000, 30.3))).toBe(older)
  })

  it('ignores a missing fix or one without a usable accuracy', () => {
    const best = fix(30, 1000)
    expect(betterFix(best, null)).toBe(best)
    expect(betterFix(best, undefined)).toBe(best)
    for (const accuracy of [undefined, null, NaN, Infinity, '5']) {
      expect(betterFix(best, fix(accuracy, 9999))).toBe(best)
      expect(betterFix(null, fix(accuracy, 9999))).toBeNull()
    }
  })
})

describe('toFix', () => {
  it('rounds a browser position to 1e-7 degrees and 0.1 m, keeping its time', () => {
    const position = {
      coords: { latitude: 30.657434567891, longitude: -104.065735123456, accuracy: 12.3456, altitude: 500 },
      timestamp: 1714528984000,
    }
    expect(toFix(position)).toEqual({ lat: 30.6574346, lon: -104.0657351, accuracy_m: 12.3, at: 1714528984000 })
  })

  it('keeps a whole-metre accuracy and the sign of the south and west', () => {
    const position = { coords: { latitude: -33.86882, longitude: -151.20929, accuracy: 5 }, timestamp: 1 }
    expect(toFix(position)).toEqual({ lat: -33.86882, lon: -151.20929, accuracy_m: 5, at: 1 })
  })
})
