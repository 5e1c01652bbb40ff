import { beforeEach, describe, expect, it, vi } from 'vitest'

// A county, one township, one village and a grid under it, as /api/areas/{code} answers.
const TREE = {
  990101000000: null,
  990101100000: '990101000000',
  990101100201: '990101100000',
  990101100901: '990101100201',
}
const asked = []
vi.mock('../src/api/client.js', () => ({
  api: async (path) => {
    const code = path.split('/').at(-1)
    asked.push(code)
    if (!(code in TREE)) throw Object.assign(new Error('not found'), { status: 404 })
    return { code, parent_code: TREE[code] }
  },
}))

const { areaPath } = await import('../src/api/areas.js')

describe('the path down to an area', () => {
  beforeEach(() => { asked.length = 0 })

  it('lists the codes from just under the root down to the area, asking up to the root', async () => {
    expect(await areaPath('990101100901', '990101000000')).toEqual(['990101100000', '990101100201', '990101100901'])
    expect(asked).toEqual(['990101100901', '990101100201', '990101100000'])
  })

  it('starts under a root lower down the tree', async () => {
    expect(await areaPath('990101100901', '990101100000')).toEqual(['990101100201', '990101100901'])
  })

  it('is empty for the root itself and fails for an area out of reach', async () => {
    expect(await areaPath('990101000000', '990101000000')).toEqual([])
    expect(asked).toEqual([])
    await expect(areaPath('990199000000', '990101000000')).rejects.toThrow('not found')
  })
})
