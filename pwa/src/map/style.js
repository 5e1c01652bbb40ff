// How the supervisors' maps draw records: colour by review status (visits, inspections) or
// lifecycle status (hotspots), flagged records and clusters holding them marked in red.
// Markers are DOM nodes styled by class: the CSP refuses style attributes parsed from HTML,
// and nothing here ever parses text as HTML.

export const REVIEW_COLOURS = { pending: '#1989fa', approved: '#07c160', returned: '#ff976a', rejected: '#646566' }
export const HOTSPOT_COLOURS = {
  listed: '#ff976a', rectifying: '#1989fa', acceptance_requested: '#7232dd', closed: '#07c160', relapsed: '#8a2be2',
}
export const FLAGGED_COLOUR = '#ee0a24'

/** The status a feature is coloured by. */
export function featureStatus(layer, properties) {
  return layer === 'hotspots' ? properties.status : properties.review_status
}

export function isFlagged(properties) {
  return (properties?.flag_count || 0) > 0
}

/** CSS classes of a marker: its layer's shape, its status' colour, a red ring when flagged. */
export function markerClasses(layer, properties) {
  const classes = ['map-pin', `map-pin--${layer}`, `map-pin--${featureStatus(layer, properties)}`]
  if (isFlagged(properties)) classes.push('map-pin--flagged')
  return classes
}

/** What a cluster icon shows: how many records, and how many of them are flagged. */
export function clusterSummary(propertiesList) {
  let flagged = 0
  for (const properties of propertiesList) if (isFlagged(properties)) flagged += 1
  return { count: propertiesList.length, flagged }
}

/** Cluster size class, as markercluster's own icons (small < 10 ≤ medium < 100 ≤ large). */
export function clusterSize(count) {
  return count < 10 ? 'small' : count < 100 ? 'medium' : 'large'
}

/** Flagged first (most flags first), then newest first: the order of the "flagged in view" list. */
export function byConcern(a, b) {
  return (b.properties.flag_count - a.properties.flag_count) || String(b.properties.time).localeCompare(
    String(a.properties.time))
}
