// Leaflet markers, cluster icons and popups of the supervisors' map, built as DOM nodes:
// L.divIcon and popups take an element, so no text ever passes through innerHTML, and
// colours come from classes (the CSP refuses style attributes parsed from HTML).
import { countyTime } from '../time.js'
import { kindOfStore } from '../kinds.js'
import { statusLabel } from '../lifecycles.js'
import { textElement as element } from './textElement.js'
import { clusterSize, clusterSummary, isFlagged, markerClasses } from './style.js'


/** The marker of one feature: a shape per layer, coloured by status, a red ring and count when flagged. */
export function pinIcon(L, layer, feature) {
  const pin = element('span', markerClasses(layer, feature.properties).join(' '))
  pin.dataset.test = 'map-marker'
  pin.dataset.layer = layer
  pin.dataset.id = feature.id
  if (isFlagged(feature.properties)) {
    pin.append(element('span', 'map-pin__badge', String(feature.properties.flag_count)))
  }
  return L.divIcon({ html: pin, className: 'map-pin-icon', iconSize: [18, 18], iconAnchor: [9, 9],
    popupAnchor: [0, -8] })
}

/** A cluster's icon: how many records, red with the number of flagged ones when it holds any. */
export function clusterIcon(L, cluster) {
  const { count, flagged } = clusterSummary(cluster.getAllChildMarkers().map((marker) => marker.feature.properties))
  const inner = element('div')
  inner.append(element('span', null, String(count)))
  if (flagged) inner.append(element('span', 'map-cluster__flagged', String(flagged)))
  const classes = ['marker-cluster', `marker-cluster-${clusterSize(count)}`, 'map-cluster']
  if (flagged) classes.push('map-cluster--flagged')
  return L.divIcon({ html: inner, className: classes.join(' '), iconSize: L.point(40, 40) })
}

/**
 * A popup: time, review status and flag count with a link to the evidence (visits,
 * inspections), or name, status and deadline (hotspots). `open(path)` navigates in the app;
 * times are on the county's clock (`zone`).
 */
export function popupNode(layer, feature, { t, locale, zone, open }) {
  const { properties } = feature
  const box = element('div', 'map-popup')
  const when = countyTime(properties.time, zone, locale)
  if (layer === 'hotspots') {
    box.append(element('strong', null, properties.name))
    box.append(element('div', null, statusLabel('hotspot', properties.status, locale)))
    box.append(element('div', null, properties.deadline ? t('evidence.map.deadline', { date: properties.deadline })
      : t('evidence.map.noDeadline')))
    if (isFlagged(properties)) {
      box.append(element('div', 'map-popup__flags', t('evidence.map.flagCount', { count: properties.flag_count })))
    }
    return box
  }
  box.append(element('strong', null, `${t(`supervise.recordType.${kindOfStore(layer).type}`)} · ${when}`))
  box.append(element('div', `map-popup__status map-popup__status--${properties.review_status}`,
    t(`supervise.review.${properties.review_status}`)))
  if (isFlagged(properties)) {
    box.append(element('div', 'map-popup__flags', t('evidence.map.flagCount', { count: properties.flag_count })))
  }
  const path = `/supervise/${layer}/${feature.id}`
  const link = element('a', 'map-popup__open', t('evidence.map.openEvidence'))
  link.href = path
  link.dataset.test = 'map-open-evidence'
  link.addEventListener('click', (event) => {
    event.preventDefault()
    open(path)
  })
  box.append(link)
  return box
}
