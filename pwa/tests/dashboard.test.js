import { describe, expect, it } from 'vitest'
import { coverageOption, visitsOption } from '../src/charts/options.js'
import {
  byCoverage, formatCount, formatPercent, formatRate, overdueAreas,
} from '../src/charts/numbers.js'

const LABELS = { coverage: '覆盖率', noHouseholds: '无住户', visits: '走访', flagged: '存疑' }

function row(code, name, numerator, denominator, extra = {}) {
  return {
    code, name, level: 'township',
    coverage: { numerator, denominator, rate: denominator ? Math.round((numerator / denominator) * 1e4) / 1e4 : null },
    ...extra,
  }
}

describe('numbers as the dashboard shows them', () => {
  it('writes a rate with its numerator and denominator', () => {
    expect(formatRate({ numerator: 1234, denominator: 1815, rate: 0.6799 })).toBe('68.0% (1,234 / 1,815)')
    expect(formatRate({ numerator: 0, denominator: 0, rate: null })).toBe('— (0 / 0)')
    expect(formatPercent(1)).toBe('100.0%')
    expect(formatCount(1234567)).toBe('1,234,567')
  })
})

describe('coverage bars', () => {
  const rows = [row('2', '二镇', 9, 10), row('1', '一镇', 1, 4), row('3', '空镇', 0, 0), row('4', '四镇', 1, 4)]

  it('sorts the worst first, areas without households last, ties by code', () => {
    expect(byCoverage(rows).map((area) => area.code)).toEqual(['1', '4', '2', '3'])
  })

  it('draws a bar per area in percent, carrying the code a click opens', () => {
    const option = coverageOption(rows, LABELS)
    expect(option.yAxis.data).toEqual(['一镇', '四镇', '二镇', '空镇'])
    expect(option.yAxis.inverse).toBe(true) // the first category at the top
    expect(option.series[0].data.map((item) => [item.value, item.code])).toEqual([[25, '1'], [25, '4'], [90, '2'],
      [0, '3']])
    expect(option.series[0].label.formatter({ dataIndex: 3 })).toBe('无住户')
    expect(option.tooltip.renderMode).toBe('richText')
    expect(option.tooltip.formatter({ dataIndex: 2 })).toBe('二镇\n覆盖率 90.0% (9 / 10)')
  })
})

describe('visits per day', () => {
  it('draws both lines over every day', () => {
    const days = [
      { date: '2026-03-01', visits: 2, flagged_visits: 1 },
      { date: '2026-03-02', visits: 0, flagged_visits: 0 },
    ]
    const option = visitsOption(days, LABELS)
    expect(option.xAxis.data).toEqual(['03-01', '03-02'])
    expect(option.series.map((series) => [series.name, series.data])).toEqual([['走访', [2, 0]], ['存疑', [1, 0]]])
    expect(option.tooltip.renderMode).toBe('richText')
  })
})

describe('the overdue list', () => {
  it('joins follow-ups and hotspots per area, the most first, leaving out areas with none', () => {
    const coverage = [
      { code: 'a', name: '甲', overdue_follow_ups: 1 },
      { code: 'b', name: '乙', overdue_follow_ups: 0 },
      { code: 'c', name: '丙', overdue_follow_ups: 2 },
      { code: 'd', name: '丁', overdue_follow_ups: 0 },
    ]
    const rectification = [
      { code: 'a', name: '甲', overdue: 3 }, { code: 'b', name: '乙', overdue: 0 },
      { code: 'c', name: '丙', overdue: 0 }, { code: 'd', name: '丁', overdue: 2 },
    ]
    expect(overdueAreas(coverage, rectification).map((area) => [area.code, area.followUps, area.hotspots]))
      .toEqual([['a', 1, 3], ['d', 0, 2], ['c', 2, 0]])
  })
})
