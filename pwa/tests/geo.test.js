// The map's requests (src/api/geo.js) and how it draws records (src/map/style.js).
import { describe, expect, it } from 'vitest'
import { bboxParam, layerQuery, sinceDays } from '../src/api/geo.js'
import {
  byConcern, clusterSize, clusterSummary, markerClasses,
} from '../src/map/style.js'

describe('bboxParam', () => {
  it('rounds outwards to 4 decimals so the box still covers the view', () => {
    expect(bboxParam({ west: 119.88714, south: 29.45126, east: 119.90001, north: 29.46669 }))
      .toBe('119.8871,29.4512,119.9001,29.4667')
  })

  it('keeps negative corners outside too', () => {
    expect(bboxParam({ west: -0.12345, south: -33.00001, east: -0.1, north: -32.9 })).toBe('-0.1235,-33.0001,-0.1,-32.9')
  })

  it('clamps a world-wide view to the valid range', () => {
    expect(bboxParam({ west: -250.5, south: -95, east: 300, north: 91 })).toBe('-180,-90,180,90')
  })
})

describe('layerQuery', () => {
  const now = new Date('2026-11-26T00:00:00Z')
  const filters = { bbox: '1,2,3,4', reviewStatus: 'pending', flag: 'far_from_target', days: 7 }

  it('sends the filters a visit layer understands', () => {
    expect(layerQuery('visits', filters, now)).toEqual({ limit: 5000, bbox: '1,2,3,4', review_status: 'pending',
      flag: 'far_from_target', since: '2026-11-19T00:00:00.000Z' })
  })

  it('keeps review status and time range off hotspots', () => {
    expect(layerQuery('hotspots', filters, now)).toEqual({ limit: 5000, bbox: '1,2,3,4', flag: 'far_from_target' })
  })

  it('filters "any flag" in the map, not on the server', () => {
    const query = layerQuery('inspections', { flag: 'any', days: 0 }, now)
    expect(query.flag).toBeUndefined()
    expect(query.since).toBeUndefined()
  })

  it('counts days back from now', () => {
    expect(sinceDays(30, now)).toBe('2026-10-27T00:00:00.000Z')
    expect(sinceDays(0, now)).toBeUndefined()
  })
})

describe('markers', () => {
  it('colour visits by review status and ring the flagged ones', () => {
    expect(markerClasses('visits', { review_status: 'returned', flag_count: 0 }))
      .toEqual(['map-pin', 'map-pin--visits', 'map-pin--returned'])
    expect(markerClasses('inspections', { review_status: 'pending', flag_count: 2 }))
      .toEqual(['map-pin', 'map-pin--inspections', 'map-pin--pending', 'map-pin--flagged'])
  })

  it('colour hotspots by their lifecycle status', () => {
    expect(markerClasses('hotspots', { status: 'relapsed', review_status: undefined, flag_count: 0 }))
      .toContain('map-pin--relapsed')
  })

  it('tell a cluster how many of its records are flagged', () => {
    expect(clusterSummary([{ flag_count: 0 }, { flag_count: 3 }, { flag_count: 1 }, {}]))
      .toEqual({ count: 4, flagged: 2 })
    expect(clusterSummary([{ flag_count: 0 }])).toEqual({ count: 1, flagged: 0 })
  })

  it('size clusters as markercluster does', () => {
    expect([9, 10, 99, 100].map(clusterSize)).toEqual(['small', 'medium', 'medium', 'large'])
  })

  it('list the most flagged first, then the newest', () => {
    const item = (id, flag_count, time) => ({ id, properties: { flag_count, time } })
    const sorted = [item('a', 1, '2026-11-01'), item('b', 3, '2026-10-01'), item('c', 1, '2026-11-20')].sort(byConcern)
    expect(sorted.map((feature) => feature.id)).toEqual(['b', 'c', 'a'])
  })
})
