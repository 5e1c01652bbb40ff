// The device's database (IndexedDB through Dexie): a mirror of the records the user may
// see, the outbox of changes not yet accepted by the server, photo files and upload state,
// and form drafts. Schema versions are only ever appended (habit 11).
import Dexie from 'dexie'

export const ENTITIES = ['households', 'visits', 'hotspots', 'inspections', 'photos']

export const db = new Dexie('zoufang')

db.version(1).stores({
  // Records as the server last sent them, merged with local edits not yet synced.
  // _state: synced | waiting | conflict | rejected; _error: the server's reason.
  households: 'id, area_code, _state, updated_at',
  visits: 'id, household_id, _state, visited_at',
  hotspots: 'id, area_code, _state, updated_at',
  inspections: 'id, hotspot_id, _state, inspected_at',
  photos: 'id, [record_type+record_id], _state, _upload',
  // Mutations in the order they were made; id is the per-client mutation id.
  outbox: 'id, record_id, type',
  // Photo files kept until the server says `stored`: {photo_id, blob, thumb, sha256, upload_url, done,
  // resend (the user asked to send a refused photo again), draft}.
  files: 'photo_id',
  // Autosaved forms: {key, value, saved_at}.
  drafts: 'key',
  // Settings and sync position: {key, value}.
  meta: 'key',
})

export async function getMeta(key, fallback = null) {
  const row = await db.meta.get(key)
  return row === undefined ? fallback : row.value
}

export function setMeta(key, value) {
  return db.meta.put({ key, value })
}

/** Forget everything of the signed-in user on this device. */
export async function wipe() {
  await db.transaction('rw', db.tables, async () => {
    await Promise.all(db.tables.map((table) => table.clear()))
  })
}
