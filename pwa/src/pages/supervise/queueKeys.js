// The review queue's keyboard and selection rules, kept apart from the page so they can be
// tested without a browser.
import { dayRange } from '../../time.js'

/** The keys of the legend and the ? overlay, in the order they are shown. */
export const SHORTCUTS = [
  { keys: ['J', '↓'], action: 'next' },
  { keys: ['K', '↑'], action: 'previous' },
  { keys: ['A'], action: 'approve' },
  { keys: ['R'], action: 'return' },
  { keys: ['X'], action: 'reject' },
  { keys: ['O', 'Enter'], action: 'open' },
  { keys: ['Shift+A'], action: 'bulkApprove' },
  { keys: ['?'], action: 'help' },
]

const LETTERS = { j: 'next', k: 'previous', a: 'approve', r: 'return', x: 'reject', o: 'open' }
const KEYS = { ArrowDown: 'next', ArrowUp: 'previous', Enter: 'open' }

/** True when the key goes into something being typed in, not to the page. */
function typing(target) {
  if (!target || typeof target !== 'object') return false
  if (target.isContentEditable) return true
  return ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

/** A focused button or link acts on Enter itself; the page must not act twice. */
function pressable(target) {
  return Boolean(target && ['BUTTON', 'A'].includes(target.tagName))
}

/**
 * The queue action a keydown asks for, or null. `blocked` while a dialog is open or a ruling
 * is on its way; `helpOpen` while the ? overlay shows (only ? and Escape close it then).
 */
export function shortcutFor(event, { blocked = false, helpOpen = false } = {}) {
  if (event.defaultPrevented || event.isComposing) return null
  if (event.ctrlKey || event.altKey || event.metaKey) return null
  if (typing(event.target) || blocked) return null
  const action = actionOf(event, helpOpen)
  // Holding J or ↓ runs down the list; holding A must not approve one record after another.
  if (event.repeat && action !== 'next' && action !== 'previous') return null
  return action
}

function actionOf(event, helpOpen) {
  if (helpOpen) return event.key === 'Escape' || event.key === '?' ? 'help' : null
  if (event.key === '?') return 'help'
  if (event.key === 'Enter' && pressable(event.target)) return null
  if (event.key in KEYS) return event.shiftKey ? null : KEYS[event.key]
  const letter = event.key.length === 1 ? event.key.toLowerCase() : ''
  if (event.shiftKey) return letter === 'a' ? 'bulkApprove' : null
  // Caps Lock gives 'A' without Shift: still a plain approve, never the bulk one.
  return LETTERS[letter] || null
}

export const itemKey = (item) => `${item.record_type}:${item.id}`

/** The key selected after moving `step` items from `selected` (staying at either end). */
export function moveSelection(items, selected, step) {
  if (!items.length) return null
  const at = items.findIndex((item) => itemKey(item) === selected)
  if (at < 0) return itemKey(items[0])
  return itemKey(items[Math.min(items.length - 1, Math.max(0, at + step))])
}

/**
 * The list without the records whose keys are given, and what is selected then: the same
 * record if it stays, else the one that took its place (or the one before, at the end).
 */
export function removeItems(items, keys, selected) {
  const gone = new Set(keys)
  const kept = items.filter((item) => !gone.has(itemKey(item)))
  if (!gone.has(selected)) return { items: kept, selected: kept.length ? selected : null }
  const at = items.findIndex((item) => itemKey(item) === selected)
  const after = items.slice(at + 1).find((item) => !gone.has(itemKey(item)))
  const before = items.slice(0, at).reverse().find((item) => !gone.has(itemKey(item)))
  const next = after || before
  return { items: kept, selected: next ? itemKey(next) : null }
}

/** A next page appended to what is listed; a record already listed is not listed twice. */
export function appendPage(items, page) {
  const known = new Set(items.map(itemKey))
  return [...items, ...page.filter((item) => !known.has(itemKey(item)))]
}

/**
 * What bulk approval may take: no flag, every photo's bytes arrived (a photo still on the
 * phone has not been checked yet, so having no flag says nothing about it), not known to
 * have changed since it was listed (`recheck`: it waits to be looked at again), and not
 * written by `userId`, the supervisor approving (another supervisor rules on it).
 */
export function bulkCandidates(items, userId = null) {
  return items.filter((item) => item.flag_count === 0 && item.photos_stored >= item.photo_count && !item.recheck
    && !ownedBy(item, userId))
}

/** Listed records without flags left out of bulk approval because their photos are still arriving. */
export function photosArriving(items, userId = null) {
  return items.filter((item) => item.flag_count === 0 && item.photos_stored < item.photo_count && !item.recheck
    && !ownedBy(item, userId))
}

function ownedBy(item, userId) {
  return userId != null && item.author_id === userId
}

// Skipped by a bulk approval for what the list did not show (changed, flagged, or photos the
// list counted as arrived that are not all stored, or the approver's own): each waits to be
// looked at on its own.
const RECHECK = ['stale_version', 'flagged', 'photos_not_stored', 'own_record']

/** The list with the records a bulk approval skipped as changed marked `recheck` (by reason). */
export function markRecheck(items, outcomes) {
  const reasons = new Map(outcomes.filter((entry) => entry.status === 'skipped' && RECHECK.includes(entry.reason))
    .map((entry) => [itemKey(entry), entry.reason]))
  if (!reasons.size) return items
  return items.map((item) => (reasons.has(itemKey(item)) ? { ...item, recheck: reasons.get(itemKey(item)) } : item))
}

/**
 * A queue item brought up to date from the evidence just read of its record: its version,
 * photos and flags as they are now, no longer waiting to be looked at again.
 */
export function itemFromEvidence(item, evidence) {
  const photos = evidence.photos.map((entry) => entry.photo)
  const flags = new Set(photos.flatMap((photo) => (photo.flag_count > 0 ? Object.keys(photo.flags || {}) : [])))
  return {
    ...item,
    version: evidence.record.version,
    photo_count: photos.length,
    photos_stored: photos.filter((photo) => photo.status === 'stored').length,
    flag_count: photos.reduce((sum, photo) => sum + photo.flag_count, 0),
    flags: [...flags],
    recheck: false,
  }
}

/** Skipped records counted by reason, e.g. {flagged: 2, stale_version: 1}. */
export function skippedByReason(outcomes) {
  const counts = {}
  for (const outcome of outcomes) {
    if (outcome.status === 'skipped') counts[outcome.reason] = (counts[outcome.reason] || 0) + 1
  }
  return counts
}

export const FILTERS = ['area', 'author', 'since', 'until', 'flag', 'record_type']

/** The filters as the address bar keeps them (strings; empty ones left out). */
export function filtersOf(query) {
  const filters = {}
  for (const name of FILTERS) {
    const value = Array.isArray(query[name]) ? query[name][0] : query[name]
    if (value) filters[name] = String(value)
  }
  return filters
}

/**
 * The queue's query for the filters: the days are the county's (`zone`), and become instants,
 * `until` including its whole day.
 */
export function queueQuery(filters, zone) {
  const query = { ...filters }
  delete query.since
  delete query.until
  return { ...query, ...dayRange(filters.since, filters.until, zone) }
}
