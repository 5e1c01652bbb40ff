// The sync engine (DESIGN §4): drain the outbox to /api/sync/push, then pull changes into
// the mirror, then send photo files. One run at a time per device (Web Locks across
// tabs), safe to start at any moment: every step can be cut off and run again.
import { reactive } from 'vue'
import * as syncApi from '../api/sync.js'
import { db, getMeta, setMeta } from '../db/index.js'
import { clientId, pendingFields, serverFields } from '../db/outbox.js'
import { kindOfStore, kindOfType, STORES } from '../kinds.js'

const MAX_BATCH = 100
const MAX_BATCH_BYTES = 900 * 1024
const PULL_LIMIT = 500

// The run in progress can be told to give up (its requests may hang on a network that died).
let current = null

/** Abort the run in progress, if any: its requests fail at once and it ends. */
export function abortSync() {
  current?.abort()
}

export const syncState = reactive({
  running: false,
  lastSyncAt: null,
  lastError: null,
  // When the server's Retry-After ends (ms since the epoch; triggers.js): nothing is sent before.
  retryAt: null,
  uploads: {}, // photo_id -> {sent, total}
})

/**
 * Send what waits and fetch what changed. Resolves to true when everything was sent and
 * pulled; false when another tab is syncing or the network or server failed (the next
 * trigger tries again). Never throws for network trouble.
 */
export async function syncNow({ api = syncApi, photos = true } = {}) {
  const run = async () => {
    syncState.running = true
    const controller = new AbortController()
    current = controller
    const signal = controller.signal
    try {
      const id = await clientId()
      await pushAll(api, id, signal)
      await pullAll(api, id, signal)
      // tus-js-client is loaded only when there are photos to send.
      if (photos && (await db.files.filter((file) => !file.done).count())) {
        const { uploadPhotos } = await import('./photos.js')
        await uploadPhotos(syncState, signal)
      }
      syncState.lastSyncAt = new Date().toISOString()
      syncState.lastError = null
      await setMeta('last_sync_at', syncState.lastSyncAt)
      return true
    } catch (error) {
      syncState.lastError = describe(error)
      return false
    } finally {
      syncState.running = false
      if (current === controller) current = null
    }
  }
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request('zoufang-sync', { ifAvailable: true }, (lock) => (lock ? run() : false))
  }
  return run()
}

function describe(error) {
  return {
    status: error?.status ?? null,
    reason: error?.reason ?? null,
    message: error?.message || String(error),
    // Seconds the server asked us to stay away (a 503's or 429's Retry-After).
    retryAfter: error?.retryAfter ?? null,
  }
}

// --- push ---------------------------------------------------------------------------

async function nextBatch() {
  const rows = await db.outbox.orderBy('id').limit(MAX_BATCH).toArray()
  const batch = []
  let size = 0
  for (const row of rows) {
    const mutation = { id: row.id, type: row.type, record_id: row.record_id, base_version: row.base_version }
    if (row.fields) mutation.fields = row.fields
    size += JSON.stringify(mutation).length
    if (batch.length && size > MAX_BATCH_BYTES) break
    batch.push(mutation)
  }
  return batch
}

export async function pushAll(api, id, signal) {
  for (;;) {
    const batch = await nextBatch()
    if (!batch.length) return
    const answer = await api.push(id, batch, { signal })
    await applyResults(answer)
    if (answer.last_mutation_id < batch[0].id) {
      // The server is behind this queue's start: this device's earlier mutations were lost
      // to it (a new database). Nothing can be sent in order; stop and say so.
      throw Object.assign(new Error('server_behind_outbox'), { reason: 'server_behind_outbox' })
    }
  }
}

async function applyResults({ last_mutation_id: last, results }) {
  const stores = [db.outbox, ...STORES.map((store) => db[store])]
  await db.transaction('rw', stores, async () => {
    for (const result of results) {
      const queued = await db.outbox.get(result.id)
      if (!queued) continue
      await db.outbox.delete(result.id)
      await markRecord(queued, result)
    }
    // Whatever the server has already processed leaves the queue (its results came before).
    await db.outbox.where('id').belowOrEqual(last).delete()
  })
}

async function markRecord(queued, result) {
  const entity = kindOfType(queued.type)?.store
  if (!entity) return
  const row = await db[entity].get(queued.record_id)
  if (!row) return
  const stillWaiting = (await db.outbox.where('record_id').equals(queued.record_id).count()) > 0
  if (result.status === 'rejected') {
    await db[entity].put({ ...row, _state: 'rejected', _error: result.error, _attempt: queued.fields || null })
    return
  }
  const update = { ...row, version: result.version ?? row.version }
  if (result.status === 'conflict') {
    update._state = 'conflict'
    update._conflicts = result.conflicts
  } else if (!stillWaiting && row._state === 'waiting') {
    update._state = 'synced'
  }
  await db[entity].put(update)
}

// --- pull ---------------------------------------------------------------------------

export async function pullAll(api, id, signal) {
  for (;;) {
    const cursor = await getMeta('cursor')
    const page = await api.pull(id, cursor, PULL_LIMIT, { signal })
    await applyPage(page)
    if (!page.has_more) return
  }
}

async function applyPage(page) {
  const stores = [db.outbox, db.meta, ...STORES.map((store) => db[store])]
  await db.transaction('rw', stores, async () => {
    if (page.reset) {
      // Rebuild the mirror from this page on; what is still in the outbox stays.
      for (const entity of STORES) {
        const keep = new Set((await db.outbox.toArray()).map((row) => row.record_id))
        await db[entity].filter((row) => !keep.has(row.id) && !['rejected', 'conflict'].includes(row._state)).delete()
      }
    }
    for (const [entity, changes] of Object.entries(page.changes || {})) {
      if (!kindOfStore(entity)) continue
      for (const record of changes.upserted) await mergeServerRow(entity, record)
      for (const recordId of changes.deleted) {
        const waiting = await db.outbox.where('record_id').equals(recordId).count()
        if (!waiting) await db[entity].delete(recordId)
      }
    }
    // The cursor is saved with the page it follows: a page applied twice changes nothing.
    await setMeta('cursor', page.cursor)
  })
}

async function mergeServerRow(entity, record) {
  const local = await db[entity].get(record.id)
  const waiting = await pendingFields(record.id)
  const localOnly = Object.fromEntries(Object.entries(local || {}).filter(([key]) => key.startsWith('_')))
  const row = { ...localOnly, ...serverFields(record), ...waiting }
  if (Object.keys(waiting).length) {
    row._state = 'waiting'
  } else if (!['rejected', 'conflict'].includes(local?._state)) {
    row._state = 'synced'
  }
  await db[entity].put(row)
}
