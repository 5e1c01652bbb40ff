import { beforeEach, describe, expect, it, vi } from 'vitest'

const calls = []
let failOn = null
vi.mock('../src/api/client.js', () => ({
  api: async (path, options) => {
    calls.push({ path, options })
    if (calls.length === failOn) throw new Error('offline')
    const items = options.body.items.map((item) => ({ ...item, status: 'approved', reason: null }))
    return { approved: items.length, skipped: 0, items }
  },
}))

const { bulkApprove } = await import('../src/api/queue.js')

const records = (count) => Array.from({ length: count }, (_, at) => ({
  record_type: 'visit', id: `id-${at}`, version: 1, area_code: '990101100201', flags: [],
}))

describe('bulk approval requests', () => {
  beforeEach(() => {
    calls.length = 0
    failOn = null
  })

  it('sends at most 200 records a request and joins the answers', async () => {
    const result = await bulkApprove(records(401))
    expect(calls.map((call) => call.options.body.items.length)).toEqual([200, 200, 1])
    expect(calls[0].path).toBe('/api/review/bulk-approve')
    expect(calls[0].options.method).toBe('POST')
    // Only what the server reads is sent.
    expect(calls[0].options.body.items[0]).toEqual({ record_type: 'visit', id: 'id-0', version: 1 })
    expect(result.approved).toBe(401)
    expect(result.items.at(-1).id).toBe('id-400')
  })

  it('reports what was approved before a request failed', async () => {
    failOn = 2
    const error = await bulkApprove(records(250)).catch((caught) => caught)
    expect(error.message).toBe('offline')
    expect(error.partial.approved).toBe(200)
  })
})
