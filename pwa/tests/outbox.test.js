// The outbox (src/db/outbox.js) on fake-indexeddb: numbered mutations saved with their
// record, what each one carries, and that nothing lives only in memory.
import Dexie from 'dexie'
import { beforeEach, describe, expect, it } from 'vitest'
import { db, getMeta, wipe } from '../src/db/index.js'
import { attachPhoto, deleteRecord, pending, pendingCount, pendingFields, saveRecord } from '../src/db/outbox.js'

const HOUSE = { area_code: '510104001001', address: '幸福村3组12号', head_name: '张三', phone: '13800000000', lat: 30.1, lon: 104.2, tags: [] }

beforeEach(async () => {
  if (!db.isOpen()) await db.open()
  await wipe()
})

describe('saveRecord', () => {
  it('numbers mutations 1, 2, 3… and never reuses an id once sent', async () => {
    await saveRecord('households', 'h1', HOUSE)
    await saveRecord('households', 'h2', { ...HOUSE, address: '幸福村3组13号' })
    await saveRecord('households', 'h1', { ...HOUSE, phone: '13900000000' })
    expect((await pending()).map((m) => m.id)).toEqual([1, 2, 3])
    expect(await getMeta('next_mutation_id')).toBe(4)

    // The server accepted them: the queue empties, the numbering goes on.
    await db.outbox.clear()
    await saveRecord('households', 'h3', HOUSE)
    expect((await pending()).map((m) => m.id)).toEqual([4])
  })

  it('queues an upsert of the whole record while the server has not confirmed it', async () => {
    const row = await saveRecord('households', 'h1', HOUSE)
    const [mutation] = await pending()
    expect(mutation).toMatchObject({ type: 'household.upsert', record_id: 'h1', base_version: null, fields: HOUSE })
    expect(mutation.fields).not.toHaveProperty('id')
    expect(row).toMatchObject({ ...HOUSE, id: 'h1', _state: 'waiting', _error: null })
    expect(row._changed_at).toBe(mutation.queued_at)
    expect(await db.households.get('h1')).toEqual(row)

    // A second edit before any sync is still the create: all fields again.
    await saveRecord('households', 'h1', { address: '幸福村3组14号' })
    const second = (await pending())[1]
    expect(second.base_version).toBeNull()
    expect(second.fields).toEqual({ ...HOUSE, address: '幸福村3组14号' })
  })

  it('sends only the changed fields of a confirmed record, with its version', async () => {
    await db.households.put({ ...HOUSE, id: 'h1', version: 3, _state: 'synced' })
    const row = await saveRecord('households', 'h1', { ...HOUSE, phone: '13900000000', tags: ['低保'] })
    const [mutation] = await pending()
    expect(mutation).toMatchObject({ type: 'household.upsert', record_id: 'h1', base_version: 3 })
    expect(mutation.fields).toEqual({ phone: '13900000000', tags: ['低保'] })
    expect(row).toMatchObject({ ...HOUSE, phone: '13900000000', tags: ['低保'], version: 3, _state: 'waiting' })
  })

  it('queues nothing when a confirmed record is saved unchanged', async () => {
    await db.households.put({ ...HOUSE, id: 'h1', version: 3, _state: 'synced' })
    const row = await saveRecord('households', 'h1', { ...HOUSE })
    expect(await pendingCount()).toBe(0)
    expect(row._state).toBe('synced')
  })

  it('resends a rejected create, fixed on the phone, with all its fields', async () => {
    await saveRecord('households', 'h1', { ...HOUSE, phone: '12' })
    // What the sync engine leaves after the server rejected it: no version, the reason kept.
    await db.outbox.clear()
    await db.households.update('h1', { _state: 'rejected', _error: { code: 'validation', field: 'phone', message: 'bad phone' } })

    const row = await saveRecord('households', 'h1', { phone: '13800000000' })
    const [resend] = await pending()
    expect(resend.id).toBe(2)
    expect(resend.base_version).toBeNull()
    expect(resend.fields).toEqual(HOUSE)
    expect(row).toMatchObject({ _state: 'waiting', _error: null, _conflicts: null })
  })

  it('merges what still waits for one record in queue order', async () => {
    await db.households.put({ ...HOUSE, id: 'h1', version: 1, _state: 'synced' })
    await saveRecord('households', 'h1', { phone: '1' })
    await saveRecord('households', 'h1', { phone: '2', address: 'x' })
    expect(await pendingFields('h1')).toEqual({ phone: '2', address: 'x' })
  })
})

describe('attachPhoto and deleteRecord', () => {
  it('queues photo.attach after its record and marks the photo waiting', async () => {
    await saveRecord('visits', 'v1', { household_id: 'h1', kind: 'routine', summary: '走访' })
    const photo = {
      id: 'p1', record_type: 'visit', record_id: 'v1', sha256: 'ab'.repeat(32), bytes: 1234,
      captured_at: '2024-05-01T02:03:04Z', lat: 30.1, lon: 104.2, accuracy_m: 8,
    }
    await attachPhoto(photo)
    const [visit, attach] = await pending()
    expect(visit.type).toBe('visit.upsert')
    expect(attach).toMatchObject({ id: 2, type: 'photo.attach', record_id: 'p1', base_version: null })
    expect(attach.fields).toEqual({
      record_type: 'visit', record_id: 'v1', sha256: photo.sha256, bytes: 1234,
      captured_at: photo.captured_at, lat: 30.1, lon: 104.2, accuracy_m: 8, phase: null,
    })
    expect(await db.photos.get('p1')).toMatchObject({ ...photo, status: 'awaiting_upload', _state: 'waiting' })
  })

  it('queues a delete with the version it removes and drops the mirror row', async () => {
    await db.households.put({ ...HOUSE, id: 'h1', version: 4, _state: 'synced' })
    await deleteRecord('households', 'h1')
    const [mutation] = await pending()
    expect(mutation).toMatchObject({ id: 1, type: 'household.delete', record_id: 'h1', base_version: 4 })
    expect(mutation.fields).toBeUndefined()
    expect(await db.households.get('h1')).toBeUndefined()
  })
})

describe('across a restart', () => {
  it('keeps records, the outbox and the numbering when the database is closed and opened again', async () => {
    await saveRecord('households', 'h1', HOUSE)
    await saveRecord('visits', 'v1', { household_id: 'h1', kind: 'routine' })
    await attachPhoto({ id: 'p1', record_type: 'visit', record_id: 'v1', sha256: 'cd'.repeat(32), bytes: 10 })
    db.close()

    // A fresh connection, as after a killed tab: it only knows what IndexedDB kept.
    const fresh = new Dexie('zoufang')
    await fresh.open()
    expect((await fresh.table('outbox').orderBy('id').toArray()).map((m) => [m.id, m.type])).toEqual([
      [1, 'household.upsert'], [2, 'visit.upsert'], [3, 'photo.attach'],
    ])
    expect(await fresh.table('households').get('h1')).toMatchObject({ ...HOUSE, _state: 'waiting' })
    expect(await fresh.table('photos').get('p1')).toMatchObject({ _state: 'waiting' })
    expect((await fresh.table('meta').get('next_mutation_id')).value).toBe(4)
    fresh.close()

    await db.open()
    await saveRecord('visits', 'v1', { summary: '补充' })
    expect((await pending()).map((m) => m.id)).toEqual([1, 2, 3, 4])
  })
})
