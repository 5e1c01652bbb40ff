// The phone's copy of a photo (src/sync/photos.js, src/photos/store.js) is let go of only
// when the server says the photo is `stored`: in a pulled row, or in its answer right after
// the upload. A finished upload, bytes the server already holds, or a rejection keep it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { db, wipe } from '../src/db/index.js'
import { pending } from '../src/db/outbox.js'
import { removePhoto, sendAgain } from '../src/photos/store.js'
import { uploadPhotos } from '../src/sync/photos.js'

// tus-js-client stand-in: an upload "sends" its file at once and succeeds.
const sent = []
vi.mock('tus-js-client', () => ({
  Upload: class {
    constructor(file, options) {
      Object.assign(this, { file, options, url: '/api/uploads/u1' })
    }

    start() {
      sent.push({ photo_id: this.options.metadata.photo_id, resumed: this.options.uploadUrl ?? null })
      this.options.onSuccess()
    }

    abort() {}
  },
}))

const SHA = 'a'.repeat(64)
const PHOTO = 'p1'

/** The server as the phone sees it: whether it holds the bytes, and the photo's status. */
let server

function answer(status, body) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status, headers: { 'Content-Type': 'application/json' },
  })
}

beforeEach(async () => {
  if (!db.isOpen()) await db.open()
  await wipe()
  sent.length = 0
  server = { held: false, status: 'awaiting_upload', asked: 0 }
  vi.stubGlobal('location', { origin: 'http://phone.test' })
  vi.stubGlobal('fetch', vi.fn(async (url, init = {}) => {
    const path = String(url).replace('http://phone.test', '')
    if (init.method === 'HEAD' && path === `/api/blobs/${SHA}`) return answer(server.held ? 200 : 404)
    if (path === `/api/photos/${PHOTO}`) {
      server.asked += 1
      const rejected = server.status === 'rejected' ? { code: 'corrupt', message: 'Not a photo.' } : null
      return answer(200, { id: PHOTO, status: server.status, rejected_reason: rejected })
    }
    return answer(404, { message: 'not here' })
  }))
})

afterEach(() => {
  vi.unstubAllGlobals()
})

/** A photo attached on the server (it has a version), with its file on the phone. */
async function keep({ status = 'awaiting_upload', uploadUrl = null } = {}) {
  await db.photos.put({ id: PHOTO, record_type: 'visit', record_id: 'v1', sha256: SHA, bytes: 4, version: 1,
    status, rejected_reason: status === 'rejected' ? { code: 'corrupt', message: 'Not a photo.' } : null,
    _state: 'synced' })
  await db.files.put({ photo_id: PHOTO, blob: new Blob(['jpeg']), thumb: new Blob(['t']), sha256: SHA,
    upload_url: uploadUrl, done: false })
}

async function blobKept() {
  const file = await db.files.get(PHOTO)
  return Boolean(file && file.blob && !file.done)
}

const state = () => ({ uploads: {} })

describe('the phone keeps its copy of a photo', () => {
  it('until the server answers stored after the upload; then only the thumbnail stays', async () => {
    await keep()
    server.status = 'stored'
    await uploadPhotos(state())
    expect(sent).toEqual([{ photo_id: PHOTO, resumed: null }])
    const file = await db.files.get(PHOTO)
    expect(file).toMatchObject({ done: true, blob: null, upload_url: null })
    expect(file.thumb).toBeTruthy()
  })

  it('when the upload finished but the server rejected the bytes', async () => {
    await keep()
    server.status = 'rejected'
    await uploadPhotos(state())
    expect(sent).toHaveLength(1)
    expect(await blobKept()).toBe(true)
  })

  it('when the upload finished but the server has not stored the photo yet', async () => {
    await keep()
    await uploadPhotos(state())
    expect(await blobKept()).toBe(true)
  })

  it('when the server holds bytes of that checksum but does not say the photo is stored', async () => {
    await keep()
    server.held = true
    await uploadPhotos(state())
    expect(sent).toEqual([]) // nothing sent twice
    expect(await blobKept()).toBe(true)

    server.status = 'stored'
    await uploadPhotos(state())
    expect(sent).toEqual([])
    expect(await blobKept()).toBe(false)
  })

  it('when a pull said rejected: nothing is sent again by itself, and nothing deleted', async () => {
    await keep({ status: 'rejected' })
    await uploadPhotos(state())
    await uploadPhotos(state())
    expect(sent).toEqual([])
    expect(await blobKept()).toBe(true)
    expect((await db.photos.get(PHOTO)).rejected_reason.code).toBe('corrupt')
  })

  it('lets go once a pull says stored, without asking the server again', async () => {
    await keep({ status: 'stored' })
    await uploadPhotos(state())
    expect(sent).toEqual([])
    expect(server.asked).toBe(0)
    expect(await blobKept()).toBe(false)
  })

  it('sends a rejected photo again, as a new upload, when the user asks', async () => {
    await keep({ status: 'rejected', uploadUrl: '/api/uploads/old' })
    await sendAgain(PHOTO)
    server.status = 'rejected' // refused again: still kept, and not sent on the next run
    await uploadPhotos(state())
    expect(sent).toEqual([{ photo_id: PHOTO, resumed: null }])
    expect(await blobKept()).toBe(true)
    await uploadPhotos(state())
    expect(sent).toHaveLength(1)

    await sendAgain(PHOTO)
    server.status = 'stored'
    await uploadPhotos(state())
    expect(sent).toHaveLength(2)
    expect(await blobKept()).toBe(false)
  })

  it('is removed only when the user removes it, with the photo deleted on the server too', async () => {
    await keep({ status: 'rejected' })
    await removePhoto(PHOTO)
    expect(await db.files.get(PHOTO)).toBeUndefined()
    expect(await db.photos.get(PHOTO)).toBeUndefined()
    expect((await pending()).map((row) => [row.type, row.record_id])).toEqual([['photo.delete', PHOTO]])
  })
})
