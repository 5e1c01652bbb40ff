// Numbers as the dashboard shows them, and the small sums behind its lists. Pure functions,
// tested in tests/dashboard.test.js.

const COUNT = new Intl.NumberFormat('zh-CN')

/** 1234 -> "1,234". */
export function formatCount(value) {
  return COUNT.format(value ?? 0)
}

/** 0.68 -> "68.0%"; a rate of nothing (null) -> "—". */
export function formatPercent(rate) {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`
}

/** {numerator, denominator, rate} -> "68.0% (1,234 / 1,815)". */
export function formatRate({ numerator, denominator, rate }) {
  return `${formatPercent(rate)} (${formatCount(numerator)} / ${formatCount(denominator)})`
}

/**
 * Child areas by coverage, lowest first (the ones to look at); areas without households
 * (no rate) last; ties in code order.
 */
export function byCoverage(rows) {
  return [...rows].sort((a, b) => {
    const x = a.coverage.rate
    const y = b.coverage.rate
    if (x === null || y === null) return (x === null) - (y === null) || a.code.localeCompare(b.code)
    return x - y || a.code.localeCompare(b.code)
  })
}

/**
 * Child areas with overdue follow-ups or overdue hotspots, the most overdue first, from the
 * coverage and rectification answers' children.
 */
export function overdueAreas(coverageRows = [], rectificationRows = []) {
  const hotspots = new Map(rectificationRows.map((row) => [row.code, row.overdue]))
  const codes = new Map(coverageRows.map((row) => [row.code, row]))
  for (const row of rectificationRows) if (!codes.has(row.code)) codes.set(row.code, row)
  return [...codes.values()]
    .map((row) => ({
      code: row.code,
      name: row.name,
      level: row.level,
      followUps: row.overdue_follow_ups ?? 0,
      hotspots: hotspots.get(row.code) ?? 0,
    }))
    .filter((row) => row.followUps + row.hotspots > 0)
    .sort((a, b) => (b.followUps + b.hotspots) - (a.followUps + a.hotspots) || b.hotspots - a.hotspots
      || a.code.localeCompare(b.code))
}
