// When the app syncs (src/sync/triggers.js), driven through the real engine and API client
// against a fake server answering fetch, on fake timers: at start, on `online` (dropping a
// run hung on the dead network), on `visibilitychange` to visible, every minute while in
// front, one more run for a request made during a run, and after a failure again in 10 s —
// or as long as the server's Retry-After asked.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { db, wipe } from '../src/db/index.js'
import { pending, saveRecord } from '../src/db/outbox.js'
import { session } from '../src/session.js'
import { syncState } from '../src/sync/engine.js'

const HOUSE = { area_code: '510104001001', address: '幸福村3组12号', head_name: '张三', phone: '13800000000' }

/** /api/sync/push and /pull as the server answers them, with a log of what was asked when. */
class FakeServer {
  constructor() {
    this.requests = [] // {path, at}
    this.pushAnswers = [] // per push: a Response to send instead of applying
    this.hangPulls = 0 // pulls left to hold until their request is aborted
    this.applied = []
    this.last = 0
  }

  count(path) {
    return this.requests.filter((request) => request.path === path).length
  }

  fetch = async (url, { method, body, signal }) => {
    const { pathname } = new URL(url)
    this.requests.push({ path: pathname, at: Date.now() })
    if (pathname === '/api/sync/push') {
      const scripted = this.pushAnswers.shift()
      if (scripted) return scripted
      const { mutations } = JSON.parse(body)
      const results = mutations.map((mutation) => {
        this.applied.push(mutation.id)
        this.last = Math.max(this.last, mutation.id)
        return { id: mutation.id, status: 'applied', record_id: mutation.record_id, version: 1, conflicts: [], error: null }
      })
      return Response.json({ last_mutation_id: this.last, results })
    }
    if (pathname === '/api/sync/pull') {
      if (this.hangPulls > 0) {
        this.hangPulls -= 1
        // A request on a network that died: nothing comes back until it is given up.
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
      }
      return Response.json({ cursor: '0.0', has_more: false, reset: false, last_mutation_id: this.last, changes: {} })
    }
    throw new Error(`unexpected request ${method} ${pathname}`)
  }
}

const unavailable = (headers = {}) => Response.json(
  { code: 503, status: 'Service Unavailable', message: 'The database is unavailable or busy; try again shortly.',
    errors: {}, reason: 'database_unavailable' },
  { status: 503, headers },
)

const TRIGGERS = new URL('../src/sync/triggers.js', import.meta.url).pathname
let cases = 0
let server
let triggers
let stop

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  await wipe()
  server = new FakeServer()
  vi.stubGlobal('fetch', server.fetch)
  vi.stubGlobal('location', new URL('http://phone.test/'))
  vi.stubGlobal('navigator', { onLine: true })
  vi.stubGlobal('window', new EventTarget())
  vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }))
  Object.assign(session, { token: 'device-token', user: { username: 'demo-cadre', roles: ['cadre'] }, needsSignIn: false })
  syncState.lastError = null
  syncState.retryAt = null
  // A fresh copy of the module (its timers and listeners) per test; the database is shared.
  triggers = await import(/* @vite-ignore */ `${TRIGGERS}?case=${++cases}`)
  stop = null
})

afterEach(async () => {
  stop?.()
  vi.clearAllTimers()
  vi.useRealTimers()
  vi.unstubAllGlobals()
  // startSyncTriggers hooks the shared outbox table: this test's copy must not sync for the next.
  const creating = db.outbox.hook('creating')
  for (const subscriber of [...creating.subscribers]) creating.unsubscribe(subscriber)
})

/**
 * Let the run in progress get as far as it can without the clock moving: fake-indexeddb
 * answers on real setImmediate turns, which fake timers do not drive.
 */
async function settle() {
  for (let turn = 0; turn < 50; turn += 1) {
    await new Promise((resolve) => setImmediate(resolve))
    await vi.advanceTimersByTimeAsync(0)
  }
}

/** Move the clock by ``ms``, a second at a time, letting each run finish on the way. */
async function advance(ms) {
  await settle()
  for (let left = ms; left > 0; left -= 1000) {
    await vi.advanceTimersByTimeAsync(Math.min(left, 1000))
    await settle()
  }
}

describe('Retry-After', () => {
  it('waits as long as the server’s Retry-After before sending again, whatever else asks', async () => {
    await saveRecord('households', 'h1', HOUSE)
    server.pushAnswers.push(unavailable({ 'Retry-After': '30' }))
    expect(await triggers.requestSync()).toBe(false)
    expect(server.count('/api/sync/push')).toBe(1)
    expect(syncState.lastError).toMatchObject({ status: 503, reason: 'database_unavailable', retryAfter: 30 })

    // Past the usual 10 s retry, and with a save, a tab brought back or a tap on 立即同步
    // asking meanwhile, the server is left alone.
    await advance(15_000)
    expect(await triggers.requestSync()).toBe(false)
    await advance(14_000)
    expect(server.count('/api/sync/push')).toBe(1)
    expect(await pending()).toHaveLength(1)

    // At 30 s the retry goes out by itself and the household reaches the server.
    await advance(1_000)
    expect(server.count('/api/sync/push')).toBe(2)
    const [first, second] = server.requests.filter((request) => request.path === '/api/sync/push')
    expect(second.at - first.at).toBe(30_000)
    expect(server.applied).toEqual([1])
    expect(await pending()).toEqual([])
    expect(await db.households.get('h1')).toMatchObject({ _state: 'synced', version: 1 })
    expect(syncState.lastError).toBeNull()
  })

  it('keeps a request made during the run from going out before the Retry-After', async () => {
    await saveRecord('households', 'h1', HOUSE)
    server.pushAnswers.push(unavailable({ 'Retry-After': '30' }))
    const first = triggers.requestSync()
    triggers.requestSync() // a save or a tap while the run is going
    expect(await first).toBe(false)
    await advance(29_000)
    expect(server.count('/api/sync/push')).toBe(1)
    expect(triggers.secondsUntilRetry()).toBe(1)
    await advance(1_000)
    expect(server.count('/api/sync/push')).toBe(2)
    expect(await pending()).toEqual([])
  })

  it('tries again after 10 s when the server gave no Retry-After', async () => {
    await saveRecord('households', 'h1', HOUSE)
    server.pushAnswers.push(unavailable())
    expect(await triggers.requestSync()).toBe(false)
    await advance(9_999)
    expect(server.count('/api/sync/push')).toBe(1)
    await advance(1)
    expect(server.count('/api/sync/push')).toBe(2)
    expect(await pending()).toEqual([])
  })

  it('keeps honouring a second Retry-After, then returns to normal after a success', async () => {
    await saveRecord('households', 'h1', HOUSE)
    server.pushAnswers.push(unavailable({ 'Retry-After': '5' }), unavailable({ 'Retry-After': '20' }))
    await triggers.requestSync()
    await advance(5_000)
    expect(server.count('/api/sync/push')).toBe(2)
    await advance(19_999)
    expect(server.count('/api/sync/push')).toBe(2)
    await advance(1)
    expect(server.count('/api/sync/push')).toBe(3)
    expect(await pending()).toEqual([])
    // Synced: the next request goes out at once.
    await saveRecord('households', 'h2', HOUSE)
    expect(await triggers.requestSync()).toBe(true)
    expect(server.applied).toEqual([1, 2])
  })
})

describe('sync triggers', () => {
  const pulls = () => server.count('/api/sync/pull')

  it('syncs at start', async () => {
    stop = triggers.startSyncTriggers()
    await settle()
    expect(pulls()).toBe(1)
  })

  it('syncs when the app comes back to the front, not when it goes to the back', async () => {
    stop = triggers.startSyncTriggers()
    await settle()
    document.visibilityState = 'hidden'
    document.dispatchEvent(new Event('visibilitychange'))
    await settle()
    expect(pulls()).toBe(1)
    document.visibilityState = 'visible'
    document.dispatchEvent(new Event('visibilitychange'))
    await settle()
    expect(pulls()).toBe(2)
  })

  it('syncs every minute while in front, and not while in the back', async () => {
    stop = triggers.startSyncTriggers()
    await settle()
    await advance(60_000)
    expect(pulls()).toBe(2)
    await advance(60_000)
    expect(pulls()).toBe(3)
    document.visibilityState = 'hidden'
    await advance(180_000)
    expect(pulls()).toBe(3)
  })

  it('on `online`, gives up a run hung on the dead network and syncs again', async () => {
    server.hangPulls = 1
    stop = triggers.startSyncTriggers()
    await settle()
    expect(pulls()).toBe(1)
    expect(syncState.running).toBe(true)

    window.dispatchEvent(new Event('online'))
    await settle()
    // Without the abort, the second pull would wait for the first's 30 s timeout.
    expect(pulls()).toBe(2)
    expect(syncState.running).toBe(false)
    expect(syncState.lastError).toBeNull()
    expect(syncState.lastSyncAt).toBe(new Date().toISOString())
  })

  it('makes one more run for requests made during a run, not one per request', async () => {
    server.hangPulls = 1
    const first = triggers.requestSync()
    await settle()
    expect(pulls()).toBe(1)
    await saveRecord('households', 'h1', HOUSE)
    const second = triggers.requestSync()
    triggers.requestSync()
    // The hung run fails (as it would at its timeout); the waiting request runs once after it.
    await advance(30_000)
    expect(await first).toBe(true)
    expect(await second).toBe(true)
    expect(pulls()).toBe(2)
    expect(server.count('/api/sync/push')).toBe(1)
    expect(await pending()).toEqual([])
  })

  it('sends a save on its own, shortly after it lands in the outbox', async () => {
    stop = triggers.startSyncTriggers()
    await settle()
    await saveRecord('households', 'h1', HOUSE)
    await advance(300)
    expect(server.count('/api/sync/push')).toBe(1)
    expect(await pending()).toEqual([])
  })

  it('does nothing offline or signed out', async () => {
    navigator.onLine = false
    expect(await triggers.requestSync()).toBe(false)
    navigator.onLine = true
    session.token = null
    expect(await triggers.requestSync()).toBe(false)
    expect(server.requests).toEqual([])
  })
})
