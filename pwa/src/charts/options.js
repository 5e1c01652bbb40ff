// ECharts options of the dashboard's charts, built from the metrics answers. Pure: the
// words come in `labels` (already translated), so the tests need no i18n or DOM.
//
// Tooltips use renderMode 'richText' (drawn on the canvas): the HTML tooltip would be
// markup with style attributes, which the CSP refuses.
import { byCoverage, formatCount, formatPercent } from './numbers.js'

const RED = '#c8102e'
const BLUE = '#1989fa'
const ORANGE = '#ff976a'
const GREY = '#969799'
const SYMBOLS_UP_TO_DAYS = 31 // a dot per day while the days are few enough to tell apart

/** Bars of coverage per child area, worst first (top), each carrying its area code. */
export function coverageOption(rows, labels) {
  const sorted = byCoverage(rows)
  return {
    animation: false,
    grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'item',
      renderMode: 'richText',
      formatter: (item) => {
        const row = sorted[item.dataIndex]
        return `${row.name}\n${labels.coverage} ${formatPercent(row.coverage.rate)}`
          + ` (${formatCount(row.coverage.numerator)} / ${formatCount(row.coverage.denominator)})`
      },
    },
    xAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', inverse: true, data: sorted.map((row) => row.name), axisTick: { show: false } },
    series: [{
      type: 'bar',
      name: labels.coverage,
      barMaxWidth: 22,
      cursor: 'pointer',
      data: sorted.map((row) => ({
        value: row.coverage.rate === null ? 0 : Math.round(row.coverage.rate * 1000) / 10,
        code: row.code,
        name: row.name,
        level: row.level,
        itemStyle: { color: row.coverage.rate === null ? GREY : RED },
      })),
      label: {
        show: true,
        position: 'right',
        formatter: (item) => {
          const row = sorted[item.dataIndex]
          return row.coverage.rate === null ? labels.noHouseholds : formatPercent(row.coverage.rate)
        },
      },
    }],
  }
}

/** Lines of visits and flagged visits per day. */
export function visitsOption(days, labels) {
  const symbols = days.length <= SYMBOLS_UP_TO_DAYS
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    legend: { top: 0, data: [labels.visits, labels.flagged] },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    xAxis: { type: 'category', boundaryGap: false, data: days.map((row) => row.date.slice(5)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { type: 'line', name: labels.visits, data: days.map((row) => row.visits), itemStyle: { color: BLUE },
        showSymbol: symbols },
      { type: 'line', name: labels.flagged, data: days.map((row) => row.flagged_visits),
        itemStyle: { color: ORANGE }, showSymbol: symbols },
    ],
  }
}
