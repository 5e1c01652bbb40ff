// The hotspot lifecycle as the app keeps it (src/lifecycles.js): the server's answer is
// stored on the phone and used offline, and the steps offered follow its roles.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { db, getMeta, wipe } from '../src/db/index.js'

const ANSWER = {
  initial: 'listed',
  states: [{ code: 'listed', zh: '已挂牌', en: 'Listed' }, { code: 'rectifying', zh: '整治中', en: 'Rectifying' },
    { code: 'acceptance_requested', zh: '待验收', en: 'Awaiting acceptance' }, { code: 'closed', zh: '已销号', en: 'Closed' }],
  steps: [
    { from: 'listed', to: 'rectifying', roles: ['inspector', 'supervisor', 'admin'], zh: '开始整治', en: 'Start rectifying' },
    { from: 'acceptance_requested', to: 'closed', roles: ['supervisor', 'admin'], zh: '验收通过（销号）', en: 'Accept (close)' },
    { from: 'acceptance_requested', to: 'rectifying', roles: ['supervisor', 'admin'], zh: '退回整改', en: 'Send back' },
  ],
}

const getLifecycle = vi.fn()
vi.mock('../src/api/hotspots.js', () => ({ getLifecycle: (...args) => getLifecycle(...args) }))

const roles = (...mine) => (...allowed) => allowed.some((role) => mine.includes(role))

beforeEach(async () => {
  vi.resetModules()
  getLifecycle.mockReset()
  if (!db.isOpen()) await db.open()
  await wipe()
  vi.stubGlobal('navigator', { onLine: true })
})

afterEach(() => vi.unstubAllGlobals())

describe('the hotspot lifecycle on the phone', () => {
  it('is fetched once, kept, and offers each user only the steps of their roles', async () => {
    getLifecycle.mockResolvedValue(ANSWER)
    const { loadLifecycles, statusLabel, stepsFrom } = await import('../src/lifecycles.js')
    await loadLifecycles()
    expect(await getMeta('lifecycles')).toEqual({ hotspot: ANSWER })

    expect(stepsFrom('hotspot', 'acceptance_requested', roles('inspector'))).toEqual([])
    expect(stepsFrom('hotspot', 'acceptance_requested', roles('supervisor'), 'en')).toEqual([
      { to: 'closed', label: 'Accept (close)' }, { to: 'rectifying', label: 'Send back' }])
    expect(stepsFrom('hotspot', 'listed', roles('inspector'))).toEqual([{ to: 'rectifying', label: '开始整治' }])
    expect(statusLabel('hotspot', 'acceptance_requested')).toBe('待验收')
    expect(statusLabel('hotspot', 'acceptance_requested', 'en')).toBe('Awaiting acceptance')

    await loadLifecycles()
    expect(getLifecycle).toHaveBeenCalledTimes(1)
  })

  it('works offline from the copy kept at the last start', async () => {
    getLifecycle.mockResolvedValue(ANSWER)
    await (await import('../src/lifecycles.js')).loadLifecycles()

    // The next start of the app, without a network.
    vi.resetModules()
    vi.stubGlobal('navigator', { onLine: false })
    getLifecycle.mockRejectedValue(new Error('offline'))
    const { loadLifecycles, statusLabel, stepsFrom } = await import('../src/lifecycles.js')
    expect(stepsFrom('hotspot', 'listed', roles('inspector'))).toEqual([])
    await loadLifecycles()
    expect(getLifecycle).toHaveBeenCalledTimes(1)
    expect(stepsFrom('hotspot', 'listed', roles('inspector'))).toEqual([{ to: 'rectifying', label: '开始整治' }])
    expect(statusLabel('hotspot', 'closed')).toBe('已销号')
  })

  it('shows a status by its code until the lifecycle is known', async () => {
    getLifecycle.mockRejectedValue(new Error('offline'))
    const { loadLifecycles, statusLabel, stepsFrom } = await import('../src/lifecycles.js')
    await loadLifecycles()
    expect(statusLabel('hotspot', 'closed')).toBe('closed')
    expect(stepsFrom('hotspot', 'listed', roles('inspector'))).toEqual([])
  })
})
