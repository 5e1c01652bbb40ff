import { describe, expect, it } from 'vitest'
import {
  appendPage, bulkCandidates, filtersOf, itemFromEvidence, itemKey, markRecheck, moveSelection, photosArriving,
  queueQuery, removeItems, shortcutFor, skippedByReason,
} from '../src/pages/supervise/queueKeys.js'

const key = (name, extra = {}) => ({ key: name, target: { tagName: 'BODY' }, ...extra })
const item = (id, extra = {}) => ({ record_type: 'visit', id, flag_count: 0, photo_count: 0, photos_stored: 0,
  ...extra })
const keys = (items) => items.map(itemKey)

describe('queue shortcuts', () => {
  it('maps the letters and arrows to actions, whatever the case of the letter', () => {
    expect(shortcutFor(key('j'))).toBe('next')
    expect(shortcutFor(key('ArrowDown'))).toBe('next')
    expect(shortcutFor(key('k'))).toBe('previous')
    expect(shortcutFor(key('ArrowUp'))).toBe('previous')
    expect(shortcutFor(key('a'))).toBe('approve')
    expect(shortcutFor(key('A'))).toBe('approve') // Caps Lock
    expect(shortcutFor(key('r'))).toBe('return')
    expect(shortcutFor(key('x'))).toBe('reject')
    expect(shortcutFor(key('o'))).toBe('open')
    expect(shortcutFor(key('Enter'))).toBe('open')
    expect(shortcutFor(key('?', { shiftKey: true }))).toBe('help')
    expect(shortcutFor(key('q'))).toBe(null)
  })

  it('keeps Shift+A for bulk approval and ignores other shifted keys', () => {
    expect(shortcutFor(key('A', { shiftKey: true }))).toBe('bulkApprove')
    expect(shortcutFor(key('R', { shiftKey: true }))).toBe(null)
    expect(shortcutFor(key('ArrowDown', { shiftKey: true }))).toBe(null)
  })

  it('ignores keys with Ctrl, Alt or Meta', () => {
    for (const modifier of ['ctrlKey', 'altKey', 'metaKey']) {
      expect(shortcutFor(key('a', { [modifier]: true }))).toBe(null)
      expect(shortcutFor(key('Enter', { [modifier]: true }))).toBe(null)
    }
  })

  it('ignores keys typed into fields, editable text and an input method', () => {
    for (const tagName of ['INPUT', 'TEXTAREA', 'SELECT']) {
      expect(shortcutFor(key('a', { target: { tagName } }))).toBe(null)
    }
    expect(shortcutFor(key('a', { target: { tagName: 'DIV', isContentEditable: true } }))).toBe(null)
    expect(shortcutFor(key('a', { isComposing: true }))).toBe(null)
  })

  it('ignores everything while a dialog is open or a ruling is on its way', () => {
    expect(shortcutFor(key('a'), { blocked: true })).toBe(null)
    expect(shortcutFor(key('j'), { blocked: true })).toBe(null)
    expect(shortcutFor(key('?', { shiftKey: true }), { blocked: true })).toBe(null)
  })

  it('leaves Enter to a focused button or link', () => {
    expect(shortcutFor(key('Enter', { target: { tagName: 'BUTTON' } }))).toBe(null)
    expect(shortcutFor(key('Enter', { target: { tagName: 'A' } }))).toBe(null)
    expect(shortcutFor(key('o', { target: { tagName: 'BUTTON' } }))).toBe('open')
  })

  it('repeats only the moves when a key is held down', () => {
    expect(shortcutFor(key('j', { repeat: true }))).toBe('next')
    expect(shortcutFor(key('ArrowUp', { repeat: true }))).toBe('previous')
    expect(shortcutFor(key('a', { repeat: true }))).toBe(null)
  })

  it('only closes the help overlay while it shows', () => {
    expect(shortcutFor(key('Escape'), { helpOpen: true })).toBe('help')
    expect(shortcutFor(key('?', { shiftKey: true }), { helpOpen: true })).toBe('help')
    expect(shortcutFor(key('a'), { helpOpen: true })).toBe(null)
    expect(shortcutFor(key('Escape'))).toBe(null)
  })
})

describe('queue selection', () => {
  const list = [item('1'), item('2'), item('3')]

  it('moves within the list and stops at either end', () => {
    expect(moveSelection(list, 'visit:1', 1)).toBe('visit:2')
    expect(moveSelection(list, 'visit:3', 1)).toBe('visit:3')
    expect(moveSelection(list, 'visit:1', -1)).toBe('visit:1')
    expect(moveSelection(list, 'visit:gone', 1)).toBe('visit:1')
    expect(moveSelection([], null, 1)).toBe(null)
  })

  it('selects the record that takes the place of the one ruled on', () => {
    expect(removeItems(list, ['visit:2'], 'visit:2')).toEqual({ items: [list[0], list[2]], selected: 'visit:3' })
    expect(removeItems(list, ['visit:3'], 'visit:3').selected).toBe('visit:2')
    expect(removeItems(list, ['visit:2', 'visit:3'], 'visit:2').selected).toBe('visit:1')
    expect(removeItems(list, ['visit:1'], 'visit:3').selected).toBe('visit:3')
    expect(removeItems([list[0]], ['visit:1'], 'visit:1')).toEqual({ items: [], selected: null })
  })

  it('appends a next page without listing a record twice', () => {
    expect(keys(appendPage(list, [item('3'), item('4')]))).toEqual(['visit:1', 'visit:2', 'visit:3', 'visit:4'])
    expect(keys(appendPage(list, [item('3', { record_type: 'inspection' })])))
      .toEqual(['visit:1', 'visit:2', 'visit:3', 'inspection:3'])
  })
})

describe('bulk approval', () => {
  it('takes only records without flags whose photos have all arrived', () => {
    const listed = [
      item('flagged', { flag_count: 2, photo_count: 1, photos_stored: 1 }),
      item('clean', { photo_count: 2, photos_stored: 2 }),
      item('no-photo'),
      item('photo-on-phone', { photo_count: 1, photos_stored: 0 }),
    ]
    expect(keys(bulkCandidates(listed))).toEqual(['visit:clean', 'visit:no-photo'])
    expect(keys(photosArriving(listed))).toEqual(['visit:photo-on-phone'])
  })

  it('leaves out what it skipped as changed until the record is read again', () => {
    const listed = [item('a', { version: 1, flags: [] }), item('b', { version: 1, flags: [] }),
      item('c', { version: 1, flags: [] })]
    const marked = markRecheck(listed, [
      { record_type: 'visit', id: 'a', status: 'skipped', reason: 'stale_version', version: 2 },
      { record_type: 'visit', id: 'b', status: 'skipped', reason: 'flagged', version: 1 },
      { record_type: 'visit', id: 'c', status: 'skipped', reason: 'not_found', version: null },
    ])
    expect(marked.map((entry) => entry.recheck)).toEqual(['stale_version', 'flagged', undefined])
    expect(keys(bulkCandidates(marked))).toEqual(['visit:c'])
    expect(photosArriving(marked)).toEqual([])
    expect(markRecheck(listed, [])).toBe(listed)

    // Read again: the version and flags as they are now; a clean one is a candidate again.
    const photo = (flags, status = 'stored') => ({ photo: { status, flags, flag_count: Object.keys(flags).length } })
    const again = itemFromEvidence(marked[0], { record: { version: 2 }, photos: [photo({})] })
    expect(again).toMatchObject({ version: 2, photo_count: 1, photos_stored: 1, flag_count: 0, flags: [],
      recheck: false })
    expect(keys(bulkCandidates([again]))).toEqual(['visit:a'])
    const flagged = itemFromEvidence(marked[1], { record: { version: 1 },
      photos: [photo({ reused: {} }), photo({}, 'awaiting_upload')] })
    expect(flagged).toMatchObject({ flag_count: 1, flags: ['reused'], photo_count: 2, photos_stored: 1 })
    expect(bulkCandidates([flagged])).toEqual([])
  })

  it('counts the skipped records by reason', () => {
    expect(skippedByReason([
      { status: 'approved', reason: null }, { status: 'skipped', reason: 'flagged' },
      { status: 'skipped', reason: 'stale_version' }, { status: 'skipped', reason: 'flagged' },
    ])).toEqual({ flagged: 2, stale_version: 1 })
  })
})

describe('queue filters', () => {
  it('reads the filters from the address bar, leaving out empty and unknown ones', () => {
    expect(filtersOf({ area: '990101100000', flag: '', author: ['7', '8'], page: '2' }))
      .toEqual({ area: '990101100000', author: '7' })
  })

  it('asks from the first county day at midnight until the county midnight after the last day', () => {
    const query = queueQuery({ since: '2026-11-01', until: '2026-11-30', flag: 'far_from_target' }, 'Asia/Shanghai')
    expect(query).toEqual({ flag: 'far_from_target', since: '2026-11-01T00:00:00+08:00',
      until: '2026-12-01T00:00:00+08:00' })
    // The county's midnight, not the machine's: the same days in another county are other instants.
    expect(queueQuery({ since: '2026-03-29', until: '2026-03-29' }, 'Europe/Berlin'))
      .toEqual({ since: '2026-03-29T00:00:00+01:00', until: '2026-03-30T00:00:00+02:00' })
    expect(queueQuery({ until: '2026-11-30' }, 'Asia/Kathmandu')).toEqual({ until: '2026-12-01T00:00:00+05:45' })
    expect(queueQuery({ area: '990101100000' }, 'Asia/Shanghai')).toEqual({ area: '990101100000' })
  })
})
