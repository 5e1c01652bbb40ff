// The client's registry of kinds (src/kinds.js): a kind declared there, and nowhere else,
// gets its table on the device, goes out through the outbox, comes back through pull and
// shows in the review paths, like tests/records/test_registry.py on the server.
import { beforeAll, describe, expect, it, vi } from 'vitest'

// A throwaway kind added to the registry for this file only: a table in a new db version.
vi.mock('../src/kinds.js', async (importOriginal) => {
  const real = await importOriginal()
  const note = {
    store: 'notes', type: 'note', since: 2, indexes: 'id, _state, written_at', written: true, reviewed: true,
    name: (row) => row.text || '',
    list: { title: (row) => row.text, detail: 'text', time: 'written_at', edit: (id) => `/notes/${id}` },
  }
  const KINDS = [...real.KINDS, note]
  const byStore = new Map(KINDS.map((kind) => [kind.store, kind]))
  const byType = new Map(KINDS.map((kind) => [kind.type, kind]))
  return {
    KINDS,
    STORES: KINDS.map((kind) => kind.store),
    kindOfStore: (store) => byStore.get(store),
    kindOfType: (type) => byType.get(String(type).split('.')[0]),
    WRITTEN: KINDS.filter((kind) => kind.written),
    REVIEWED: KINDS.filter((kind) => kind.reviewed),
    LISTED: KINDS.filter((kind) => kind.list),
  }
})

let db
let outbox
let engine
let review

beforeAll(async () => {
  ({ db } = await import('../src/db/index.js'))
  outbox = await import('../src/db/outbox.js')
  engine = await import('../src/sync/engine.js')
  review = await import('../src/api/review.js')
  await db.open()
})

describe('a kind declared only in kinds.js', () => {
  it('has its table on the device next to the others', () => {
    expect(db.tables.map((table) => table.name)).toEqual(expect.arrayContaining(
      ['households', 'visits', 'hotspots', 'inspections', 'photos', 'notes']))
    expect(db.notes.schema.indexes.map((index) => index.name)).toEqual(['_state', 'written_at'])
  })

  it('is pushed as <type>.upsert, marked synced by the answer, and pulled back', async () => {
    await outbox.saveRecord('notes', 'n1', { text: '村口路灯坏了', written_at: '2026-12-01T09:00:00+08:00' })
    const sent = []
    const api = {
      push: async (clientId, mutations) => {
        sent.push(...mutations)
        return { last_mutation_id: mutations.at(-1).id,
          results: mutations.map((m) => ({ id: m.id, status: 'applied', record_id: m.record_id, version: 1 })) }
      },
      pull: async () => ({ cursor: 'c1', has_more: false, reset: false, changes: {
        notes: { upserted: [{ id: 'n2', text: '新的一条', version: 3 }], deleted: ['n1'] },
      } }),
    }
    expect(await engine.syncNow({ api, photos: false })).toBe(true)
    expect(sent.map((m) => m.type)).toEqual(['note.upsert'])
    expect(await db.notes.get('n1')).toBeUndefined() // the server's tombstone
    expect(await db.notes.get('n2')).toMatchObject({ text: '新的一条', version: 3, _state: 'synced' })

    await outbox.deleteRecord('notes', 'n2')
    expect((await outbox.pending()).map((m) => m.type)).toEqual(['note.delete'])
  })

  it('is ruled on through /api/<store>', () => {
    expect(review.RECORD_PATHS).toEqual({ visit: 'visits', inspection: 'inspections', note: 'notes' })
  })
})
