// The device's database (IndexedDB through Dexie): a mirror of the records the user may
// see, the outbox of changes not yet accepted by the server, photo files and upload state,
// and form drafts. Schema versions are only ever appended (habit 11).
import Dexie from 'dexie'
import { KINDS } from '../kinds.js'

export const db = new Dexie('zoufang')

// Records as the server last sent them, merged with local edits not yet synced, one table
// per kind (kinds.js). _state: synced | waiting | conflict | rejected; _error: the server's reason.
const kindTables = (version) => Object.fromEntries(
  KINDS.filter((kind) => kind.since === version).map((kind) => [kind.store, kind.indexes]))

db.version(1).stores({
  ...kindTables(1),
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

// A kind added later brings its table in a version of its own.
const latest = Math.max(...KINDS.map((kind) => kind.since))
for (let version = 2; version <= latest; version += 1) db.version(version).stores(kindTables(version))

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
