// The numbers the evidence panel shows (src/evidence/flags.js).
import { describe, expect, it } from 'vitest'
import { distanceLines, flagLines, metres } from '../src/evidence/flags.js'

describe('metres', () => {
  it('rounds to whole metres with thousands separators', () => {
    expect(metres(2011.6)).toBe('2,012')
    expect(metres(12.4)).toBe('12')
  })
})

describe('flagLines', () => {
  it('give the distances of far_from_target against the limit', () => {
    const lines = flagLines('far_from_target', { exif_distance_m: 2004.3, device_distance_m: 12.1, limit_m: 300,
      target: 'household' })
    expect(lines.map((line) => [line.key, line.params.distance, line.params.limit])).toEqual([
      ['evidence.flag.exifFarFromTarget', '2,004', '300'], ['evidence.flag.deviceFarFromTarget', '12', '300']])
    expect(lines[0].target).toBe('household')
  })

  it('say whether a photo was taken before or after the record, in minutes', () => {
    expect(flagLines('time_mismatch', { gap_minutes: 185.5, limit_minutes: 120 })[0])
      .toEqual({ key: 'evidence.flag.takenBefore', params: { minutes: '185.5', limit: '120' } })
    expect(flagLines('time_mismatch', { gap_minutes: -130, limit_minutes: 120 })[0].key)
      .toBe('evidence.flag.takenAfter')
  })

  it('give hours for a photo older than the record', () => {
    expect(flagLines('older_than_record', { gap_minutes: 4380, limit_minutes: 2880 })[0].params)
      .toEqual({ hours: '73', limit: '48' })
  })

  it('link a reused photo to the earlier record', () => {
    const lines = flagLines('reused', { also_on: [{ photo_id: 'p', record_type: 'inspection', record_id: 'r1' }] })
    expect(lines).toEqual([{ key: 'evidence.flag.reusedOn', params: {}, link: { type: 'inspection', id: 'r1' } }])
  })

  it('show nothing more for a flag without numbers', () => {
    expect(flagLines('no_exif_gps', {})).toEqual([])
  })
})

describe('distanceLines', () => {
  const evidence = {
    target: { kind: 'household', lat: 29.4512, lon: 119.8871 },
    fix: { lat: 29.4512, lon: 119.8871, accuracy_m: 8 },
    distances_m: { fix_to_target: 0 },
    photos: [{
      photo: { flags: { far_from_target: { exif_distance_m: 1993.7, limit_m: 300 }, exif_far_from_device: {} } },
      positions: { exif: { lat: 29.4692, lon: 119.8871 }, device: null },
      distances_m: { exif_to_target: 1993.7, device_to_target: null, exif_to_device: null },
    }],
  }

  it('list each distance whose two ends are known, marking the flagged ones', () => {
    const lines = distanceLines(evidence)
    expect(lines.map((line) => [line.key, line.params.distance, line.far])).toEqual([
      ['evidence.distance.fixToTarget', '0', false], ['evidence.distance.exifToTarget', '1,994', true]])
    expect(lines[1].from).toEqual([29.4692, 119.8871])
    expect(lines[1].to).toEqual([29.4512, 119.8871])
    expect(lines[1].params.photo).toBe('') // one photo: no number
  })

  it('number the photos when there are several, and measure nothing without a target', () => {
    const two = { ...evidence, target: null, photos: [evidence.photos[0], evidence.photos[0]] }
    expect(distanceLines(two)).toEqual([])
    const lines = distanceLines({ ...evidence, photos: [evidence.photos[0], evidence.photos[0]] })
    expect(lines.filter((line) => line.key === 'evidence.distance.exifToTarget').map((line) => line.params.photo))
      .toEqual(['1', '2'])
  })
})
