// The outbox: every change the user makes becomes a numbered mutation (DESIGN §4), saved
// in the same IndexedDB transaction as the record it changes, so nothing typed is ever
// only in memory. Mutations are never edited once queued: one that went out may have
// been applied even if its answer was lost, and the server answers a resend by its id.
import { kindOfStore, STORES } from '../kinds.js'
import { db, getMeta, setMeta } from './index.js'

const LOCAL_KEYS = /^_/

/** The id of this installed app towards the server: new at each sign-in. */
export async function clientId() {
  let id = await getMeta('client_id')
  if (!id) {
    id = crypto.randomUUID()
    await setMeta('client_id', id)
  }
  return id
}

async function nextMutationId() {
  const next = (await getMeta('next_mutation_id', 1))
  await setMeta('next_mutation_id', next + 1)
  return next
}

function serverFields(row) {
  return Object.fromEntries(Object.entries(row || {}).filter(([key]) => !LOCAL_KEYS.test(key)))
}

function withoutId({ id, ...rest }) {
  return rest
}

function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
}

/**
 * Save a record locally and queue its upsert. ``fields`` are the form's values; only
 * those that differ from what the device holds are sent. Returns the saved row.
 */
export async function saveRecord(entity, id, fields) {
  return db.transaction('rw', db[entity], db.outbox, db.meta, async () => {
    const current = await db[entity].get(id)
    // Until the server confirms a version, every send is (again) the whole create: a
    // rejected create fixed on the phone must carry all its fields.
    const confirmed = current?.version != null
    const changed = confirmed
      ? Object.fromEntries(Object.entries(fields).filter(([key, value]) => !same(current[key], value)))
      : { ...withoutId(serverFields(current)), ...fields }
    if (confirmed && Object.keys(changed).length === 0) return current
    const mutation = {
      id: await nextMutationId(),
      type: `${kindOfStore(entity).type}.upsert`,
      record_id: id,
      // A record the server has never confirmed has no version: this is (still) its create.
      base_version: current?.version ?? null,
      fields: changed,
      queued_at: new Date().toISOString(),
    }
    await db.outbox.add(mutation)
    const row = {
      ...(current || {}), ...changed, id, _state: 'waiting', _error: null, _conflicts: null,
      _changed_at: mutation.queued_at,
    }
    await db[entity].put(row)
    return row
  })
}

/** Attach a photo (its file is already in db.files) to a record. */
export async function attachPhoto(photo) {
  return db.transaction('rw', db.photos, db.outbox, db.meta, async () => {
    const queued_at = new Date().toISOString()
    await db.outbox.add({
      id: await nextMutationId(), type: 'photo.attach', record_id: photo.id, base_version: null,
      fields: {
        record_type: photo.record_type, record_id: photo.record_id, sha256: photo.sha256, bytes: photo.bytes,
        captured_at: photo.captured_at, lat: photo.lat, lon: photo.lon, accuracy_m: photo.accuracy_m,
        phase: photo.phase ?? null,
      },
      queued_at,
    })
    await db.photos.put({ ...photo, status: 'awaiting_upload', _state: 'waiting', _changed_at: queued_at })
  })
}

/** Delete a record (soft, on the server) and queue it. */
export async function deleteRecord(entity, id) {
  return db.transaction('rw', db[entity], db.outbox, db.meta, async () => {
    const current = await db[entity].get(id)
    await db.outbox.add({
      id: await nextMutationId(), type: `${kindOfStore(entity).type}.delete`, record_id: id,
      base_version: current?.version ?? null, queued_at: new Date().toISOString(),
    })
    await db[entity].delete(id)
  })
}

/** Mutations waiting for the server, oldest first. */
export function pending() {
  return db.outbox.orderBy('id').toArray()
}

export function pendingCount() {
  return db.outbox.count()
}

/** The fields still waiting to reach the server for one record, merged in queue order. */
export async function pendingFields(recordId) {
  const rows = await db.outbox.where('record_id').equals(recordId).sortBy('id')
  return Object.assign({}, ...rows.map((row) => row.fields || {}))
}

export { serverFields }

/**
 * Run a form's whole save — its record, its photos, dropping its draft — as one IndexedDB
 * transaction: a tab killed in the middle leaves either all of it or none of it (the
 * draft is then still there). ``work`` may only touch the database.
 */
export function saveTogether(work) {
  return db.transaction('rw', [...STORES.map((store) => db[store]), db.outbox, db.meta, db.drafts, db.files], work)
}
