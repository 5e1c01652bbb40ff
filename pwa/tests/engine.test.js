// The sync engine (src/sync/engine.js) against a small in-memory server that keeps the
// rules of DESIGN §4: per-client last_mutation_id, retries answered from stored results,
// a gap stops processing, a rejection still advances; pull pages over a change sequence
// with tombstones, and reset:true for a cursor older than the last pruning.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../src/api/client.js'
import { db, getMeta, setMeta, wipe } from '../src/db/index.js'
import { pending, saveRecord, attachPhoto } from '../src/db/outbox.js'
import { pullAll, pushAll, syncNow, syncState } from '../src/sync/engine.js'
import { uploadPhotos } from '../src/sync/photos.js'

// The engine imports the tus uploader lazily; here it must only be reached when a file waits.
vi.mock('../src/sync/photos.js', () => ({ uploadPhotos: vi.fn(async () => {}) }))

const PLURAL = { household: 'households', visit: 'visits', hotspot: 'hotspots', inspection: 'inspections', photo: 'photos' }

class FakeServer {
  constructor({ pageSize = 500, reject = () => null, conflicts = () => [] } = {}) {
    Object.assign(this, { pageSize, reject, conflicts })
    this.records = Object.fromEntries(Object.values(PLURAL).map((entity) => [entity, new Map()]))
    this.log = [] // {seq, entity, id}
    this.seq = 0
    this.mark = 0 // the change number up to which the log was last pruned
    this.clients = new Map() // client id -> {last, results}
    this.applied = [] // every mutation actually applied: [clientId, id]
    this.pushFailures = [] // per push call: 'lost' (applied, answer lost) or 503
    this.pullFailures = [] // per pull call: true to fail offline
    this.pulls = [] // cursors asked for
    this.mangle = null // page => page, to hand out a broken page
  }

  write(entity, fields) {
    const table = this.records[entity]
    const old = table.get(fields.id)
    const row = { ...old, ...fields, version: (old?.version || 0) + 1, deleted: false }
    table.set(row.id, row)
    this.log.push({ seq: ++this.seq, entity, id: row.id })
    return row
  }

  remove(entity, id) {
    const row = this.records[entity].get(id)
    if (!row || row.deleted) return row
    row.deleted = true
    row.version += 1
    this.log.push({ seq: ++this.seq, entity, id })
    return row
  }

  /** Drop tombstones and superseded changes: older cursors must start again. */
  prune() {
    const latest = new Map(this.log.map((change) => [`${change.entity}/${change.id}`, change]))
    this.log = [...latest.values()]
      .filter((change) => !this.records[change.entity].get(change.id).deleted)
      .sort((a, b) => a.seq - b.seq)
    this.mark = this.seq
  }

  count(entity) {
    return [...this.records[entity].values()].filter((row) => !row.deleted).length
  }

  apply(clientId, mutation) {
    this.applied.push([clientId, mutation.id])
    const [kind, action] = mutation.type.split('.')
    const entity = PLURAL[kind]
    const answer = (status, row, extra = {}) => ({
      id: mutation.id, status, record_id: mutation.record_id, version: row?.version ?? null,
      conflicts: [], error: null, ...extra,
    })
    const error = this.reject(mutation)
    if (error) return answer('rejected', null, { error })
    const old = this.records[entity].get(mutation.record_id)
    if (action === 'delete') return answer('applied', this.remove(entity, mutation.record_id))
    if (action === 'attach' && old) return answer('applied', old)
    if (!old && mutation.base_version != null) {
      return answer('rejected', null, { error: { code: 'not_found', message: 'no such record' } })
    }
    const row = this.write(entity, { ...mutation.fields, id: mutation.record_id })
    const conflicts = this.conflicts(mutation) || []
    return answer(conflicts.length ? 'conflict' : 'applied', row, { conflicts })
  }

  async push(clientId, mutations) {
    const failure = this.pushFailures.shift()
    // A 503 is a push whose one transaction was rolled back: nothing of it was kept.
    if (failure === 503) throw new ApiError(503, { reason: 'unavailable', message: 'database busy' })
    if (!this.clients.has(clientId)) this.clients.set(clientId, { last: 0, results: new Map() })
    const client = this.clients.get(clientId)
    const results = []
    for (const mutation of [...mutations].sort((a, b) => a.id - b.id)) {
      if (mutation.id <= client.last) {
        results.push(client.results.get(mutation.id)) // a retry: answered, not applied again
        continue
      }
      if (mutation.id > client.last + 1) break // a gap: the client resends from last + 1
      const result = this.apply(clientId, structuredClone(mutation))
      client.results.set(mutation.id, result)
      client.last = mutation.id
      results.push(result)
    }
    // Applied and committed, but the answer never reached the phone.
    if (failure === 'lost') throw new ApiError(0, null)
    return structuredClone({ last_mutation_id: client.last, results })
  }

  async pull(clientId, cursor, limit) {
    this.pulls.push(cursor)
    if (this.pullFailures.shift()) throw new ApiError(0, null)
    let [from, mark] = cursor ? cursor.split('.').map(Number) : [0, this.mark]
    const reset = cursor != null && mark < this.mark
    if (reset) from = 0
    const after = this.log.filter((change) => change.seq > from)
    const page = after.slice(0, Math.min(limit, this.pageSize))
    const changes = {}
    for (const { entity, id } of page) {
      changes[entity] ||= { upserted: [], deleted: [] }
      const { deleted, ...row } = this.records[entity].get(id)
      if (deleted) changes[entity].deleted.push(id)
      else changes[entity].upserted.push(row)
    }
    const answer = structuredClone({
      cursor: `${page.length ? page.at(-1).seq : from}.${this.mark}`,
      has_more: after.length > page.length,
      reset,
      last_mutation_id: this.clients.get(clientId)?.last ?? 0,
      changes,
    })
    return this.mangle ? this.mangle(answer) : answer
  }
}

const HOUSE = { area_code: '510104001001', address: '幸福村3组12号', head_name: '张三', phone: '13800000000' }
const house = (id, extra = {}) => ({ id, ...HOUSE, ...extra })

beforeEach(async () => {
  await wipe()
  syncState.lastError = null
  syncState.lastSyncAt = null
  uploadPhotos.mockClear()
})

afterEach(() => {
  expect(syncState.running).toBe(false)
})

describe('push', () => {
  it('sends the outbox, empties it and marks the records synced with their version', async () => {
    const server = new FakeServer()
    await saveRecord('households', 'h1', HOUSE)
    await saveRecord('visits', 'v1', { household_id: 'h1', kind: 'routine', summary: '走访' })
    expect(await syncNow({ api: server })).toBe(true)
    expect(await pending()).toEqual([])
    expect(await db.households.get('h1')).toMatchObject({ ...HOUSE, version: 1, _state: 'synced' })
    expect(await db.visits.get('v1')).toMatchObject({ version: 1, _state: 'synced' })
    expect(server.records.visits.get('v1')).toMatchObject({ household_id: 'h1', summary: '走访' })
    expect(syncState.lastError).toBeNull()
    expect(syncState.lastSyncAt).toBeTruthy()
    expect(await getMeta('last_sync_at')).toBe(syncState.lastSyncAt)
  })

  it('resends after a lost response and the server answers from its stored results: no duplicate', async () => {
    const server = new FakeServer()
    await saveRecord('households', 'h1', HOUSE)
    await saveRecord('visits', 'v1', { household_id: 'h1', kind: 'routine' })
    server.pushFailures.push('lost')
    expect(await syncNow({ api: server })).toBe(false)
    expect(syncState.lastError).toMatchObject({ status: 0 })
    // The server has both; the phone cannot know, so it keeps both queued.
    expect(server.count('visits')).toBe(1)
    expect((await pending()).map((m) => m.id)).toEqual([1, 2])
    expect((await db.visits.get('v1'))._state).toBe('waiting')

    // An edit made meanwhile is queued behind them.
    await saveRecord('visits', 'v1', { summary: '补记' })
    expect(await syncNow({ api: server })).toBe(true)
    expect(server.applied).toEqual([[expect.any(String), 1], [expect.any(String), 2], [expect.any(String), 3]])
    expect(server.count('visits')).toBe(1)
    expect(server.count('households')).toBe(1)
    expect(server.records.visits.get('v1')).toMatchObject({ summary: '补记', version: 2 })
    expect(await pending()).toEqual([])
    expect(await db.visits.get('v1')).toMatchObject({ summary: '补记', version: 2, _state: 'synced' })
    expect(syncState.lastError).toBeNull()
  })

  it('keeps the whole outbox on a 503 and succeeds on the next run', async () => {
    const server = new FakeServer()
    await saveRecord('households', 'h1', HOUSE)
    await saveRecord('households', 'h2', HOUSE)
    server.pushFailures.push(503)
    expect(await syncNow({ api: server })).toBe(false)
    expect(syncState.lastError).toMatchObject({ status: 503, reason: 'unavailable' })
    expect((await pending()).map((m) => m.id)).toEqual([1, 2])
    expect(server.applied).toEqual([])
    expect((await db.households.get('h1'))._state).toBe('waiting')

    expect(await syncNow({ api: server })).toBe(true)
    expect(syncState.lastError).toBeNull()
    expect(await pending()).toEqual([])
    expect(server.count('households')).toBe(2)
  })

  it('marks a rejected record with the reason and moves on; fixed, it is resent whole', async () => {
    const server = new FakeServer({
      reject: (m) => (m.fields?.phone === '12'
        ? { code: 'validation', field: 'phone', message: '电话号码不对' } : null),
    })
    await saveRecord('households', 'bad', { ...HOUSE, phone: '12' })
    await saveRecord('households', 'good', HOUSE)
    expect(await syncNow({ api: server })).toBe(true)
    expect(await pending()).toEqual([])
    expect(server.clients.values().next().value.last).toBe(2)
    expect(await db.households.get('bad')).toMatchObject({
      _state: 'rejected', _error: { code: 'validation', field: 'phone', message: '电话号码不对' },
      _attempt: { ...HOUSE, phone: '12' },
    })
    expect(await db.households.get('good')).toMatchObject({ _state: 'synced', version: 1 })
    expect(server.records.households.has('bad')).toBe(false)

    await saveRecord('households', 'bad', { phone: '13900000000' })
    expect((await pending())[0]).toMatchObject({ id: 3, base_version: null, fields: { ...HOUSE, phone: '13900000000' } })
    expect(await syncNow({ api: server })).toBe(true)
    expect(server.records.households.get('bad')).toMatchObject({ ...HOUSE, phone: '13900000000', version: 1 })
    expect(await db.households.get('bad')).toMatchObject({ _state: 'synced', _error: null, version: 1 })
  })

  it('marks a conflict with what the server replaced', async () => {
    const replaced = [{ field: 'summary', server_value: '书记改的', server_version: 2 }]
    const server = new FakeServer({ conflicts: (m) => (m.id === 2 ? replaced : []) })
    await saveRecord('visits', 'v1', { household_id: 'h1', kind: 'routine', summary: '初稿' })
    await syncNow({ api: server })
    await saveRecord('visits', 'v1', { summary: '我改的' })
    expect(await syncNow({ api: server })).toBe(true)
    expect(await pending()).toEqual([])
    expect(await db.visits.get('v1')).toMatchObject({ summary: '我改的', version: 2, _state: 'conflict', _conflicts: replaced })
  })

  it('stops, keeping the outbox, when the server is behind the queue (a gap)', async () => {
    const server = new FakeServer()
    await setMeta('next_mutation_id', 5)
    await saveRecord('households', 'h1', HOUSE)
    expect(await syncNow({ api: server })).toBe(false)
    expect(syncState.lastError).toMatchObject({ reason: 'server_behind_outbox' })
    expect(server.applied).toEqual([])
    expect((await pending()).map((m) => m.id)).toEqual([5])
  })

  it('sends a photo.attach after its record, and only calls the uploader when a file waits', async () => {
    const server = new FakeServer()
    await saveRecord('visits', 'v1', { household_id: 'h1', kind: 'routine' })
    await attachPhoto({ id: 'p1', record_type: 'visit', record_id: 'v1', sha256: 'ab'.repeat(32), bytes: 9 })
    expect(await syncNow({ api: server })).toBe(true)
    expect(uploadPhotos).not.toHaveBeenCalled()
    expect(server.records.photos.get('p1')).toMatchObject({ record_type: 'visit', record_id: 'v1' })
    expect(await db.photos.get('p1')).toMatchObject({ _state: 'synced', version: 1 })

    await db.files.put({ photo_id: 'p1', blob: null, sha256: 'ab'.repeat(32), done: false })
    expect(await syncNow({ api: server })).toBe(true)
    expect(uploadPhotos).toHaveBeenCalledTimes(1)
  })
})

describe('pull', () => {
  it('follows has_more page by page and saves each page’s cursor', async () => {
    const server = new FakeServer({ pageSize: 2 })
    for (const id of ['a', 'b', 'c', 'd', 'e']) server.write('households', house(id))
    await pullAll(server, 'client-1')
    expect(server.pulls).toEqual([null, '2.0', '4.0'])
    expect(await db.households.count()).toBe(5)
    expect(await db.households.get('c')).toMatchObject({ ...HOUSE, version: 1, _state: 'synced' })
    expect(await getMeta('cursor')).toBe('5.0')
  })

  it('keeps the cursor of the last applied page when a pull fails midway, and resumes there', async () => {
    const server = new FakeServer({ pageSize: 2 })
    for (const id of ['a', 'b', 'c', 'd', 'e']) server.write('households', house(id))
    server.pullFailures.push(false, true)
    await expect(pullAll(server, 'client-1')).rejects.toMatchObject({ status: 0 })
    expect(await getMeta('cursor')).toBe('2.0')
    expect((await db.households.toArray()).map((row) => row.id)).toEqual(['a', 'b'])

    await pullAll(server, 'client-1')
    expect(server.pulls.slice(2)).toEqual(['2.0', '4.0'])
    expect(await db.households.count()).toBe(5)
  })

  it('applies a page all or nothing: a page that fails to apply leaves the cursor where it was', async () => {
    const server = new FakeServer({ pageSize: 2 })
    for (const id of ['a', 'b', 'c', 'd']) server.write('households', house(id))
    server.mangle = (page) => {
      if (page.cursor === '4.0') page.changes.households.upserted.push({ address: 'no id' })
      return page
    }
    await expect(pullAll(server, 'client-1')).rejects.toThrow()
    expect(await getMeta('cursor')).toBe('2.0')
    expect((await db.households.toArray()).map((row) => row.id)).toEqual(['a', 'b'])

    server.mangle = null
    await pullAll(server, 'client-1')
    expect(await db.households.count()).toBe(4)
    expect(await getMeta('cursor')).toBe('4.0')
  })

  it('removes deleted records, except those with changes still waiting to be sent', async () => {
    const server = new FakeServer()
    server.write('households', house('x'))
    server.write('households', house('y'))
    await pullAll(server, 'client-1')
    await saveRecord('households', 'y', { phone: '13911111111' })

    server.remove('households', 'x')
    server.remove('households', 'y')
    await pullAll(server, 'client-1')
    expect(await db.households.get('x')).toBeUndefined()
    expect(await db.households.get('y')).toMatchObject({ phone: '13911111111', _state: 'waiting' })
    expect(await pending()).toHaveLength(1)
  })

  it('keeps my waiting changes over the server’s copy until they are sent', async () => {
    const server = new FakeServer()
    server.write('households', house('h1'))
    await pullAll(server, 'client-1')
    await saveRecord('households', 'h1', { phone: '13922222222' })
    server.write('households', { id: 'h1', address: '书记改的地址' })
    await pullAll(server, 'client-1')
    expect(await db.households.get('h1')).toMatchObject({
      address: '书记改的地址', phone: '13922222222', version: 2, _state: 'waiting',
    })
  })

  it('rebuilds the mirror on reset, keeping records with waiting changes and the outbox', async () => {
    const server = new FakeServer({ pageSize: 2 })
    for (const id of ['a', 'b', 'c']) server.write('households', house(id))
    await pullAll(server, 'client-1')
    // Local work: a new household never sent and an edit of 'b'.
    await saveRecord('households', 'mine', HOUSE)
    await saveRecord('households', 'b', { phone: '13933333333' })
    const outbox = await pending()

    // Meanwhile on the server: 'a' and 'b' deleted, 'd' and 'e' added, old changes pruned.
    server.remove('households', 'a')
    server.remove('households', 'b')
    server.write('households', house('d'))
    server.write('households', house('e'))
    server.prune()
    await pullAll(server, 'client-1')

    const ids = (await db.households.toArray()).map((row) => row.id).sort()
    expect(ids).toEqual(['b', 'c', 'd', 'e', 'mine'])
    expect(await db.households.get('mine')).toMatchObject({ _state: 'waiting' })
    expect(await db.households.get('b')).toMatchObject({ phone: '13933333333', _state: 'waiting' })
    expect(await pending()).toEqual(outbox)
    expect(await getMeta('cursor')).toBe(`${server.seq}.${server.mark}`)
  })
})

/** navigator.locks as a browser keeps it for one origin: one holder per name, shared by its tabs. */
class FakeLockManager {
  constructor() {
    this.held = new Set()
    this.queued = new Map() // name -> [resolve]
  }

  async request(name, options, callback) {
    if (typeof options === 'function') [options, callback] = [{}, options]
    if (this.held.has(name)) {
      if (options.ifAvailable) return callback(null)
      await new Promise((resolve) => this.queued.set(name, [...(this.queued.get(name) || []), resolve]))
    }
    this.held.add(name)
    try {
      return await callback({ name, mode: options.mode || 'exclusive' })
    } finally {
      this.held.delete(name)
      const next = this.queued.get(name)?.shift()
      next?.()
    }
  }
}

describe('one run at a time across tabs (Web Locks)', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('a run started while another tab syncs sends nothing and says so; the lock is free after', async () => {
    vi.stubGlobal('navigator', { locks: new FakeLockManager() })
    const server = new FakeServer()
    const push = server.push.bind(server)
    let open
    const gate = new Promise((resolve) => { open = resolve })
    let inFlight = 0
    let most = 0
    server.push = async (...args) => {
      inFlight += 1
      most = Math.max(most, inFlight)
      try {
        await gate // the first tab's push is on the wire
        return await push(...args)
      } finally {
        inFlight -= 1
      }
    }
    await saveRecord('households', 'h1', HOUSE)

    const first = syncNow({ api: server })
    await vi.waitFor(() => expect(inFlight).toBe(1))
    const second = syncNow({ api: server })
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Two pushes of the same outbox at once would race on IndexedDB and on the server.
    expect(most).toBe(1)
    open()
    expect(await second).toBe(false)
    expect(await first).toBe(true)
    expect(most).toBe(1)
    expect(server.applied).toHaveLength(1)
    expect(await pending()).toEqual([])

    // Released: the next run takes it.
    await saveRecord('households', 'h2', HOUSE)
    expect(await syncNow({ api: server })).toBe(true)
    expect(server.count('households')).toBe(2)
  })
})
