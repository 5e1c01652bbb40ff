// What the phone does with the answers of /api/uploads (src/sync/photos.js) and what the sync
// screens say about them (src/pages/sync/words.js): 460 `sha256_mismatch` with a damaged or
// a sound copy on the phone, 403 `not_author`, 409 `upload_restarted`, and a 503 with
// Retry-After from storage that is down.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createI18n } from 'vue-i18n'
import { db, wipe } from '../src/db/index.js'
import records from '../src/i18n/records.js'
import sync from '../src/i18n/sync.js'
import { heldPhotoText, syncErrorText, syncFailedToast } from '../src/pages/sync/words.js'
import { sha256Hex } from '../src/photos/sha256.js'
import { syncNow, syncState } from '../src/sync/engine.js'
import { uploadPhotos } from '../src/sync/photos.js'

// tus-js-client stand-in: each upload takes the next scripted answer (none: success), and
// keeps its options so a test can ask its retry rule.
const uploads = []
const script = []
vi.mock('tus-js-client', async (importOriginal) => ({
  ...(await importOriginal()),
  Upload: class {
    constructor(file, options) {
      Object.assign(this, { file, options, url: '/api/uploads/u1' })
    }

    start() {
      uploads.push(this)
      const answer = script.shift()
      if (!answer) {
        this.options.onSuccess()
        return
      }
      this.options.onError(Object.assign(new Error('tus: unexpected response'), {
        originalRequest: {}, originalResponse: answer,
      }))
    }

    abort() {}
  },
}))

/** A tus HttpResponse as tus-js-client hands it to onError. */
function tusResponse(status, reason, headers = {}) {
  const body = JSON.stringify({ code: status, status: 'refused', message: 'English for developers', errors: {}, reason })
  return { getStatus: () => status, getBody: () => body, getHeader: (name) => headers[name] ?? null }
}

const PHOTO = 'p1'
const BYTES = 'jpeg bytes as taken'
let sha

beforeEach(async () => {
  if (!db.isOpen()) await db.open()
  await wipe()
  uploads.length = 0
  script.length = 0
  syncState.lastError = null
  syncState.retryAt = null
  sha = await sha256Hex(new TextEncoder().encode(BYTES))
  vi.stubGlobal('location', { origin: 'http://phone.test' })
  vi.stubGlobal('fetch', vi.fn(async (url, init = {}) => {
    const path = String(url).replace('http://phone.test', '')
    if (init.method === 'HEAD') return new Response(null, { status: 404 }) // the server has no such bytes
    if (path === `/api/photos/${PHOTO}`) return Response.json({ id: PHOTO, status: 'awaiting_upload' })
    return Response.json({ message: 'not here' }, { status: 404 })
  }))
})

afterEach(() => {
  vi.unstubAllGlobals()
})

/** A photo the server knows, its file on the phone holding ``bytes``. */
async function keep(bytes = BYTES) {
  await db.photos.put({ id: PHOTO, record_type: 'visit', record_id: 'v1', sha256: sha, bytes: 4, version: 1,
    status: 'awaiting_upload', rejected_reason: null, _state: 'synced' })
  await db.files.put({ photo_id: PHOTO, blob: new Blob([bytes]), thumb: new Blob(['t']), sha256: sha,
    upload_url: null, done: false })
}

const state = () => ({ uploads: {} })

describe('460 sha256_mismatch', () => {
  it('holds back a copy damaged on the phone for good, keeping it for the user to remove', async () => {
    await keep('jpeg bytes as taken, then a flipped bit')
    script.push(tusResponse(460, 'sha256_mismatch'))
    await uploadPhotos(state()) // does not fail the run: the engine would resend it within seconds

    const file = await db.files.get(PHOTO)
    expect(file).toMatchObject({ held: 'damaged', refusal: 'sha256_mismatch', done: false })
    expect(file.blob).toBeTruthy()
    // Later syncs do not send it again.
    await uploadPhotos(state())
    await uploadPhotos(state())
    expect(uploads).toHaveLength(1)
  })

  it('sends a sound copy again at the next sync, once per run', async () => {
    await keep()
    script.push(tusResponse(460, 'sha256_mismatch'))
    await uploadPhotos(state())
    expect(uploads).toHaveLength(1)
    expect(await db.files.get(PHOTO)).toMatchObject({ held: null, refusal: 'sha256_mismatch', done: false })

    await uploadPhotos(state()) // the next sync: this time the bytes arrive whole
    expect(uploads).toHaveLength(2)
    expect(await db.files.get(PHOTO)).toMatchObject({ refusal: null, done: false })
  })

  it('lets the other photos of the run go up', async () => {
    await keep('damaged')
    await db.photos.put({ id: 'p2', record_type: 'visit', record_id: 'v1', sha256: sha, bytes: 4, version: 1,
      status: 'awaiting_upload', _state: 'synced' })
    await db.files.put({ photo_id: 'p2', blob: new Blob([BYTES]), thumb: null, sha256: sha, upload_url: null, done: false })
    script.push(tusResponse(460, 'sha256_mismatch'))
    await uploadPhotos(state())
    expect(uploads.map((upload) => upload.options.metadata.photo_id)).toEqual([PHOTO, 'p2'])
  })
})

describe('403 not_author', () => {
  it('stops sending the photo and says why', async () => {
    await keep()
    script.push(tusResponse(403, 'not_author'))
    await uploadPhotos(state())
    await uploadPhotos(state())
    expect(uploads).toHaveLength(1)
    expect(await db.files.get(PHOTO)).toMatchObject({ held: 'not_author', done: false })
  })
})

describe('503 with Retry-After from /api/uploads (storage down)', () => {
  it('is not retried by tus before the server’s time; the run fails with its Retry-After', async () => {
    await keep()
    const down = tusResponse(503, 'storage_unavailable', { 'Retry-After': '10' })
    script.push(down)
    const api = {
      push: async () => ({ last_mutation_id: 0, results: [] }),
      pull: async () => ({ cursor: '0.0', has_more: false, reset: false, changes: {} }),
    }
    expect(await syncNow({ api })).toBe(false)
    expect(syncState.lastError).toMatchObject({ status: 503, reason: 'storage_unavailable', retryAfter: 10,
      message: 'upload: English for developers' })

    const { onShouldRetry } = uploads[0].options
    expect(onShouldRetry({ originalRequest: {}, originalResponse: down }, 0, uploads[0].options)).toBe(false)
    // Without Retry-After tus-js-client's own rule stands: a 5xx is retried, a 460 is not.
    const busy = tusResponse(503, 'storage_unavailable')
    expect(onShouldRetry({ originalRequest: {}, originalResponse: busy }, 0, uploads[0].options)).toBe(true)
    const mismatch = tusResponse(460, 'sha256_mismatch')
    expect(onShouldRetry({ originalRequest: {}, originalResponse: mismatch }, 0, uploads[0].options)).toBe(false)
    // The file stays on the phone, not held: the next allowed run sends it.
    expect(await db.files.get(PHOTO)).toMatchObject({ done: false })
    expect((await db.files.get(PHOTO)).held).toBeFalsy()
  })
})

// --- words ------------------------------------------------------------------------------

function translator(locale) {
  const i18n = createI18n({ legacy: false, locale, missingWarn: false, fallbackWarn: false,
    messages: { [locale]: { sync: sync[locale], records: records[locale] } } })
  const { t, te } = i18n.global
  return (key, values) => {
    if (!te(key)) throw new Error(`no ${locale} words for ${key}`)
    return t(key, values)
  }
}

const zh = translator('zh-CN')
const en = translator('en')

describe('words for upload answers', () => {
  it('names a damaged copy and a photo that is not the user’s', () => {
    expect(heldPhotoText({ held: 'damaged' }, zh)).toBe('照片文件已损坏，请删除后重新拍摄')
    expect(heldPhotoText({ held: 'damaged' }, en)).toBe('The photo file is damaged; delete it and take it again')
    expect(heldPhotoText({ held: 'not_author' }, zh)).toBe('只有记录的填报人可以上传照片')
    expect(heldPhotoText({ held: 'not_author' }, en)).toBe('Only the record’s author can upload its photos')
    expect(heldPhotoText({ refusal: 'sha256_mismatch' }, zh)).toContain('下次同步时重新上传')
    expect(heldPhotoText({}, zh)).toBeNull()
  })

  it('says every upload reason in Chinese and English when a run fails on it', () => {
    for (const reason of ['sha256_mismatch', 'not_author', 'upload_restarted']) {
      const status = { sha256_mismatch: 460, not_author: 403, upload_restarted: 409 }[reason]
      const error = { status, reason, message: 'upload: tus: unexpected response' }
      for (const t of [zh, en]) {
        const text = syncErrorText(error, t)
        expect(text).not.toContain('tus')
        expect(text).toBe(t(`sync.uploadAnswers.${reason}`))
      }
    }
  })
})

describe('while a Retry-After is waited out', () => {
  it('says the server is busy and how many seconds are left, on the screen and after a tap', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(new Date('2025-03-01T08:00:00Z'))
      syncState.retryAt = Date.now() + 30_000
      const error = { status: 503, reason: 'storage_unavailable', message: 'down', retryAfter: 30 }
      expect(syncErrorText(error, zh)).toBe('服务器繁忙，30 秒后自动重试')
      expect(syncErrorText(error, en, Date.now() + 12_500)).toBe('Server busy; retrying in 18 s')
      vi.setSystemTime(new Date('2025-03-01T08:00:21Z'))
      expect(syncFailedToast(zh, 'sync.failed')).toBe('服务器繁忙，9 秒后自动重试')
      expect(syncFailedToast(zh, 'records.home.syncFailed')).toBe('服务器繁忙，9 秒后自动重试')
      // Once the time is past, the usual words.
      vi.setSystemTime(new Date('2025-03-01T08:00:31Z'))
      expect(syncFailedToast(zh, 'sync.failed')).toBe(zh('sync.failed'))
      expect(syncErrorText(error, zh)).toBe(zh('sync.errors.down'))
    } finally {
      vi.useRealTimers()
    }
  })
})
