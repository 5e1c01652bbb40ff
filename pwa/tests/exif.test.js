// EXIF re-insertion (src/photos/capture.js): the shrunk, re-encoded JPEG must carry the
// camera's position and time to the server, upright (Orientation 1), with its pixels
// untouched. Node has no canvas, so the "re-encoded" photo is a real JPEG without EXIF.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import exifr from 'exifr'
import { beforeAll, describe, expect, it } from 'vitest'
import { CANVAS_LIMIT, MAX_EDGE, insertExif, readExif, shrinkSteps } from '../src/photos/capture.js'

// The real photos sit beside the repository (<repo root>/../shared/fixtures/photos), where
// tests/conftest.py finds them too: found from this file, wherever the repo is checked out.
const DIR = fileURLToPath(new URL('../../../shared/fixtures/photos', import.meta.url))
const IN_CI = process.env.CI === 'true'
const has = (name) => existsSync(`${DIR}/${name}`)
const load = (name) => new Uint8Array(readFileSync(`${DIR}/${name}`))

// Elsewhere the photo cases skip; in CI a missing folder would silently test nothing.
beforeAll(() => {
  if (existsSync(DIR)) return
  if (IN_CI) throw new Error(`photo fixtures missing at ${DIR}: CI must have them`)
  console.warn(`photo fixtures absent at ${DIR}: the camera photo cases are skipped`)
})
const tags = (bytes) => exifr.parse(Buffer.from(bytes), { translateValues: false, mergeOutput: true })

/** The segments of a JPEG up to its scan, and where the scan starts. */
function segments(bytes) {
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8])
  const found = []
  let at = 2
  for (;;) {
    expect(bytes[at]).toBe(0xff)
    const marker = bytes[at + 1]
    const length = (bytes[at + 2] << 8) | bytes[at + 3]
    if (marker === 0xda) return { found, scan: at }
    const head = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    found.push({ marker, length, exif: marker === 0xe1 && head === 'Exif' })
    at += 2 + length
  }
}

/** Without its APP1 Exif segments, e.g. a fixture turned into a bare re-encode. */
function stripExif(bytes) {
  const parts = [bytes.subarray(0, 2)]
  let at = 2
  for (;;) {
    const marker = bytes[at + 1]
    if (marker === 0xda) break
    const end = at + 2 + ((bytes[at + 2] << 8) | bytes[at + 3])
    if (marker !== 0xe1) parts.push(bytes.subarray(at, end))
    at = end
  }
  parts.push(bytes.subarray(at))
  return new Uint8Array(Buffer.concat(parts))
}

function expectSamePixels(output, target) {
  const out = segments(output)
  const tgt = segments(target)
  // The output is the target plus exactly one Exif segment, every other segment as it was…
  expect(out.found.filter((s) => s.exif)).toHaveLength(1)
  expect(out.found.filter((s) => !s.exif)).toEqual(tgt.found)
  // …and the compressed picture itself byte for byte.
  expect(output.length - out.scan).toBe(target.length - tgt.scan)
  expect(Buffer.compare(Buffer.from(output.subarray(out.scan)), Buffer.from(target.subarray(tgt.scan)))).toBe(0)
}

const TARGET = 'olympus-d320l.jpg' // 640×480, no EXIF at all

describe('insertExif from the camera file', () => {
  const cases = [
    ['DSCN0010.jpg', { lat: 43.467448, lon: 11.885127, altitude: null }],
    ['iphone_hdr_NO.jpg', { lat: 40.446972, lon: -3.724753, altitude: 639.587879 }],
    ['Kodak_CX7530.jpg', { lat: -0.3713, lon: 36.056417, altitude: null, shortAscii: true }],
  ]
  for (const [name, expected] of cases) {
    it.skipIf(!has(name) || !has(TARGET))(`carries the GPS of ${name} into the re-encoded JPEG`, async () => {
      const original = load(name)
      const target = load(TARGET)
      const before = await tags(original)
      const output = insertExif(original, target)

      expectSamePixels(output, target)
      const after = await tags(output)
      expect(after.latitude).toBeCloseTo(before.latitude, 6)
      expect(after.longitude).toBeCloseTo(before.longitude, 6)
      expect(after.latitude).toBeCloseTo(expected.lat, 6)
      expect(after.longitude).toBeCloseTo(expected.lon, 6)
      if (expected.altitude != null) expect(after.GPSAltitude).toBeCloseTo(expected.altitude, 6)
      expect(after.Orientation).toBe(1)
      if (!expected.shortAscii) {
        expect(after.Make).toBe(before.Make)
        expect(after.Model).toBe(before.Model)
        expect(after.DateTimeOriginal?.getTime()).toBe(before.DateTimeOriginal?.getTime())
      } else {
        // piexifjs drops an ASCII value's last byte, taking it for the NUL; this (GIMP-
        // written) file leaves the NUL out of its counts, so one character goes: a letter
        // of Make/Model and the last digit of the seconds ("09:47:23" becomes "09:47:2").
        for (const key of ['Make', 'Model']) expect(after[key]).toBe(before[key].slice(0, -1))
        expect(Math.abs(after.DateTimeOriginal - before.DateTimeOriginal)).toBeLessThan(60_000)
      }
      // readExif (the lite build the app uses) sees the same position in the output.
      // (Bytes, not a Blob: exifr reads Blobs with FileReader, which node lacks.)
      const seen = await readExif(output)
      expect(seen.lat).toBeCloseTo(expected.lat, 6)
      expect(seen.lon).toBeCloseTo(expected.lon, 6)
    })
  }

  it.skipIf(!has('canon_hdr_NO.jpg') || !has('DSCN0010.jpg'))('sets Orientation 1 on a rotated camera photo', async () => {
    const original = load('canon_hdr_NO.jpg')
    expect((await tags(original)).Orientation).toBe(6)
    const target = stripExif(load('DSCN0010.jpg'))
    expect(await tags(target)).toBeUndefined()
    const output = insertExif(original, target)
    expectSamePixels(output, target)
    const after = await tags(output)
    expect(after.Orientation).toBe(1)
    expect(after.Model).toBe('Canon PowerShot SX60 HS')
  })

  it.skipIf(!has('DSCN0010.jpg'))('replaces EXIF the re-encoded JPEG already had', async () => {
    const original = load('DSCN0010.jpg')
    const target = load('DSCN0010.jpg') // as if the encoder had kept a (stale) EXIF
    const output = insertExif(original, target)
    expect(segments(output).found.filter((s) => s.exif)).toHaveLength(1)
    expect((await tags(output)).latitude).toBeCloseTo(43.467448, 6)
  })
})

describe('insertExif fallback', () => {
  const target = has(TARGET) ? load(TARGET) : null
  const noise = new Uint8Array(4096).map((_, i) => (i * 7919) % 251)

  it.skipIf(!target)('writes a minimal EXIF when the original is not a JPEG', async () => {
    const fallback = {
      lat: 30.657434, lon: 104.065735, altitude: 512.3, taken: '2024-05-01T02:03:04.000Z',
      make: 'HUAWEI', model: 'Mate 60',
    }
    const output = insertExif(noise, target, fallback)
    expectSamePixels(output, target)
    const after = await tags(output)
    expect(after.latitude).toBeCloseTo(fallback.lat, 6)
    expect(after.longitude).toBeCloseTo(fallback.lon, 6)
    expect(after.GPSAltitude).toBeCloseTo(512.3, 2)
    expect(after.GPSAltitudeRef?.[0] ?? after.GPSAltitudeRef).toBe(0)
    expect(after).toMatchObject({ Make: 'HUAWEI', Model: 'Mate 60', Orientation: 1 })
    expect(after.DateTimeOriginal).toBeInstanceOf(Date)
  })

  it.skipIf(!target)('keeps the signs of south and west, and a negative altitude', async () => {
    const fallback = { lat: -33.868820, lon: -151.209296, altitude: -12.5, taken: null, make: null, model: null }
    const after = await tags(insertExif(noise, target, fallback))
    expect(after.latitude).toBeCloseTo(fallback.lat, 6)
    expect(after.longitude).toBeCloseTo(fallback.lon, 6)
    expect(after.GPSLatitudeRef).toBe('S')
    expect(after.GPSLongitudeRef).toBe('W')
    expect(after.GPSAltitude).toBeCloseTo(12.5, 2)
    expect(after.GPSAltitudeRef?.[0] ?? after.GPSAltitudeRef).toBe(1)
  })

  it.skipIf(!target)('returns the JPEG unchanged when there is nothing to carry', () => {
    expect(insertExif(noise, target)).toBe(target)
  })
})

describe('shrinkSteps', () => {
  const check = (width, height) => {
    const steps = shrinkSteps(width, height)
    const last = steps.at(-1)
    expect(Math.max(...last)).toBe(Math.min(MAX_EDGE, Math.max(width, height)))
    // The aspect ratio survives the rounding to whole pixels.
    expect(Math.abs(last[0] / last[1] - width / height)).toBeLessThan(2 / Math.min(...last))
    for (const [w, h] of steps) expect(w * h).toBeLessThanOrEqual(CANVAS_LIMIT)
    let previous = [width, height]
    for (const step of steps.slice(0, -1)) {
      // Intermediate steps halve (only those over iOS's canvas limit are skipped).
      expect(step[0]).toBeLessThanOrEqual(Math.round(previous[0] / 2))
      expect(step[0]).toBeGreaterThanOrEqual(MAX_EDGE * 1.5 * (width / Math.max(width, height)) - 1)
      previous = step
    }
    return steps
  }

  it('halves a big photo down towards 1600 px before the last step', () => {
    expect(check(8000, 6000)).toEqual([[4000, 3000], [1600, 1200]])
    expect(check(6000, 8000)).toEqual([[3000, 4000], [1200, 1600]])
  })

  it('goes straight to 1600 px when halving would overshoot', () => {
    expect(check(4032, 3024)).toEqual([[1600, 1200]])
    expect(check(4608, 1976)).toEqual([[1600, 686]])
  })

  it('never makes a canvas over the iOS limit', () => {
    const steps = check(16000, 12000) // 192 MP: its first half is still 48 MP
    expect(steps).toEqual([[4000, 3000], [1600, 1200]])
    check(20000, 1000)
  })

  it('does not enlarge small photos', () => {
    expect(check(1000, 800)).toEqual([[1000, 800]])
    expect(check(1600, 900)).toEqual([[1600, 900]])
    expect(check(100, 78)).toEqual([[100, 78]])
  })
})
