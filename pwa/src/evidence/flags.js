// The numbers behind a record's evidence, as message keys and parameters ($t('evidence.…')):
// what each photo flag measured, and the distances between the record's positions. Kept
// apart from the components so the rules can be tested without a browser.

const WHOLE = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 0 })
const ONE_DECIMAL = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 1 })

/** Metres as a whole number with thousands separators: 2011.6 → "2,012". */
export function metres(value) {
  return WHOLE.format(Math.round(value))
}

/** Minutes (or hours) with at most one decimal. */
export function amount(value) {
  return ONE_DECIMAL.format(value)
}

function point(position) {
  return position ? [position.lat, position.lon] : null
}

/**
 * Where the other photo of a `reused` or `near_duplicate` entry is: `link`, its record
 * `{ type, id }`, or `elsewhere` when it lies in another area, whose ids the server does not
 * give (`{"in_another_area": true}`): that record is named in words, with nothing to open.
 */
function elsewhere(other) {
  if (other.in_another_area || other.record_id == null) return { elsewhere: true }
  return { link: { type: other.record_type, id: other.record_id } }
}

/**
 * The lines a flag's details give, each `{ key, params, link?, elsewhere? }`; `target` is the
 * word for what was visited ('household' | 'hotspot'), `link` an earlier record `{ type, id }`,
 * `elsewhere` a record in another area the viewer may not open.
 */
export function flagLines(code, details) {
  details ||= {} // a flag may carry no details
  const target = details.target === 'hotspot' ? 'hotspot' : 'household'
  switch (code) {
    case 'exif_far_from_device':
      return [{ key: 'evidence.flag.exifFarFromDevice', params: {
        distance: metres(details.distance_m), limit: metres(details.limit_m),
        accuracy: details.device_accuracy_m == null ? '?' : metres(details.device_accuracy_m) } }]
    case 'far_from_target': {
      const lines = []
      if (details.exif_distance_m != null) {
        lines.push({ key: 'evidence.flag.exifFarFromTarget', target,
          params: { distance: metres(details.exif_distance_m), limit: metres(details.limit_m) } })
      }
      if (details.device_distance_m != null) {
        lines.push({ key: 'evidence.flag.deviceFarFromTarget', target,
          params: { distance: metres(details.device_distance_m), limit: metres(details.limit_m) } })
      }
      return lines
    }
    case 'time_mismatch': {
      // gap = record time − capture time: positive when the photo was taken before the record.
      const gap = details.gap_minutes ?? 0
      return [{ key: gap >= 0 ? 'evidence.flag.takenBefore' : 'evidence.flag.takenAfter',
        params: { minutes: amount(Math.abs(gap)), limit: amount(details.limit_minutes) } }]
    }
    case 'older_than_record':
      return [{ key: 'evidence.flag.olderThanRecord',
        params: { hours: amount(details.gap_minutes / 60), limit: amount(details.limit_minutes / 60) } }]
    case 'reused':
      return (details.also_on || []).map((other) => ({ key: 'evidence.flag.reusedOn', params: {}, ...elsewhere(other) }))
    case 'near_duplicate':
      return (details.photos || []).map((other) => ({
        key: other.distance_bits == null ? 'evidence.flag.nearDuplicate' : 'evidence.flag.nearDuplicateOf',
        params: { bits: other.distance_bits }, ...elsewhere(other) }))
    case 'edited':
      // The software's name goes to reviewers and the photo's author only: for others it is absent.
      return details.software ? [{ key: 'evidence.flag.editedWith', params: { software: details.software } }] : []
    default:
      return []
  }
}

/**
 * Every distance the evidence knows, each `{ key, params, from, to, metres, far, photo }`:
 * the record's fix to its target, and for each photo its EXIF position and the phone's fix
 * at capture against the target and each other. `far` when a flag was raised on that pair.
 */
export function distanceLines(evidence) {
  const lines = []
  const target = point(evidence.target?.lat != null && evidence.target?.lon != null ? evidence.target : null)
  const word = evidence.target?.kind === 'hotspot' ? 'hotspot' : 'household'
  const fix = point(evidence.fix)
  const between = (key, from, to, value, far, photo, photoLabel) => {
    if (from && to && value != null) {
      lines.push({ key, target: word, params: { distance: metres(value), photo: photoLabel }, from, to,
        metres: value, far, photo })
    }
  }
  between('evidence.distance.fixToTarget', fix, target, evidence.distances_m?.fix_to_target, false, null, '')
  const many = evidence.photos.length > 1
  evidence.photos.forEach((item, index) => {
    const flags = item.photo.flags || {}
    const exif = point(item.positions.exif)
    const device = point(item.positions.device)
    const far = flags.far_from_target || {}
    const label = many ? String(index + 1) : ''
    between('evidence.distance.exifToTarget', exif, target, item.distances_m.exif_to_target,
      far.exif_distance_m != null && far.exif_distance_m > far.limit_m, index, label)
    between('evidence.distance.deviceToTarget', device, target, item.distances_m.device_to_target,
      far.device_distance_m != null && far.device_distance_m > far.limit_m, index, label)
    between('evidence.distance.exifToDevice', exif, device, item.distances_m.exif_to_device,
      Boolean(flags.exif_far_from_device), index, label)
  })
  return lines
}
