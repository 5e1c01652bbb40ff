// Photo files go to the server by tus (resumable, 256 KiB chunks) once the server knows
// the photo (its photo.attach was accepted). The upload URL is kept in IndexedDB, so an
// upload cut off by a dead network, a closed tab or a restarted phone resumes where it
// stopped; bytes the server already holds are not sent at all.
import * as tus from 'tus-js-client'
import { blobHeld } from '../api/evidence.js'
import { db } from '../db/index.js'
import { session } from '../session.js'

export const CHUNK_SIZE = 256 * 1024

/** Send every file whose photo the server knows and does not have yet. */
export async function uploadPhotos(state, signal) {
  const files = await db.files.filter((file) => !file.done).toArray()
  for (const file of files) {
    const photo = await db.photos.get(file.photo_id)
    if (!photo || photo.version == null) continue // not attached on the server yet
    if (photo.status === 'stored' || photo.status === 'rejected') {
      // Done, or refused for its content (the phone shows why): sending it again cannot help.
      await finish(file)
      continue
    }
    if (await blobHeld(file.sha256)) {
      await finish(file)
      continue
    }
    await uploadOne(file, state, signal)
    await finish(file)
  }
}

async function finish(file) {
  // The full file is not needed any more; the thumbnail stays for offline lists.
  await db.files.update(file.photo_id, { done: true, blob: null, upload_url: null })
}

function uploadOne(file, state, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(Object.assign(new Error('upload: aborted'), { status: 0 }))
      return
    }
    const upload = new tus.Upload(file.blob, {
      endpoint: '/api/uploads',
      uploadUrl: file.upload_url || undefined,
      chunkSize: CHUNK_SIZE,
      retryDelays: [0, 1000, 3000],
      metadata: { photo_id: file.photo_id, sha256: file.sha256 },
      headers: { Authorization: `Bearer ${session.token}` },
      storeFingerprintForResuming: false, // the URL is kept in IndexedDB instead
      removeFingerprintOnSuccess: true,
      onUploadUrlAvailable: () => db.files.update(file.photo_id, { upload_url: upload.url }),
      onProgress: (sent, total) => {
        state.uploads[file.photo_id] = { sent, total }
      },
      onSuccess: () => {
        state.uploads[file.photo_id] = { sent: file.blob.size, total: file.blob.size }
        resolve()
      },
      onError: async (error) => {
        const status = error.originalResponse?.getStatus?.()
        if (status === 404 || status === 410) {
          // The server dropped this upload (expired); the next run starts a new one.
          await db.files.update(file.photo_id, { upload_url: null })
        }
        reject(Object.assign(new Error(`upload: ${error.message}`), { status: status ?? 0 }))
      },
    })
    // Given up (the network came back after dying mid-chunk): stop; the next run resumes
    // from the offset the server holds.
    signal?.addEventListener('abort', () => {
      upload.abort()
      reject(Object.assign(new Error('upload: aborted'), { status: 0 }))
    }, { once: true })
    upload.start()
  })
}
