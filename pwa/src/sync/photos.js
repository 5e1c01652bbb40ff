// Photo files go to the server by tus (resumable, 256 KiB chunks) once the server knows
// the photo (its photo.attach was accepted). The upload URL is kept in IndexedDB, so an
// upload cut off by a dead network, a closed tab or a restarted phone resumes where it
// stopped; bytes the server already holds are not sent at all.
//
// The phone's copy is the only one until the server says the photo is `stored` (in a pull,
// or asked right after the upload): a finished upload, bytes the server already holds or a
// rejection all leave the file where it is. A rejected photo stays, with the server's
// reason, until the user sends it again or removes it (photos/store.js).
//
// Some answers end one photo's attempt without failing the run (the other photos still go,
// and a failed run would be retried within seconds, resending the same file over 2G):
// 460 `sha256_mismatch` (the server got bytes other than the photo's) is tried again at the
// next sync if the phone's copy still has the photo's hash, and held back for good if it
// does not (the copy is damaged: only the user can remove it); 403 `not_author` is held
// back too. A busy server's Retry-After fails the run so that triggers.js waits it out.
import * as tus from 'tus-js-client'
import { blobHeld, fetchPhoto } from '../api/evidence.js'
import { db } from '../db/index.js'
import { sha256Hex } from '../photos/sha256.js'
import { session } from '../session.js'

export const CHUNK_SIZE = 256 * 1024

/** Send every file whose photo the server knows and does not have yet; let go of the stored ones. */
export async function uploadPhotos(state, signal) {
  const files = await db.files.filter((file) => !file.done).toArray()
  for (const file of files) {
    const photo = await db.photos.get(file.photo_id)
    if (!photo || photo.version == null) continue // not attached on the server yet
    if (photo.status === 'stored') {
      await release(file)
      continue
    }
    // Refused for its content: the same bytes again cannot help unless the user asks.
    if (photo.status === 'rejected' && !file.resend) continue
    if (file.held) continue // damaged on the phone, or not this user's to send
    if (!(await blobHeld(file.sha256)) && (await refusedUpload(file, state, signal))) continue
    // This attempt is over: another one (if the server refused these bytes) starts afresh.
    await db.files.update(file.photo_id, { resend: false, upload_url: null, refusal: null })
    if ((await serverStatus(file.photo_id, signal)) === 'stored') await release(file)
  }
}

/**
 * Send the file; true when the server refused it in a way that ends this photo's attempt but
 * not the run (the refusal is kept on the file for the sync screen). Other failures throw.
 */
async function refusedUpload(file, state, signal) {
  try {
    await uploadOne(file, state, signal)
    return false
  } catch (error) {
    let held = null
    if (error.status === 403 && error.reason === 'not_author') {
      held = 'not_author'
    } else if (error.status === 460 && error.reason === 'sha256_mismatch') {
      // Damaged here or on the way: only the phone's copy tells which.
      if ((await sha256Hex(file.blob)) !== file.sha256) held = 'damaged'
    } else {
      throw error
    }
    await db.files.update(file.photo_id, { upload_url: null, refusal: error.reason, held })
    return true
  }
}

async function serverStatus(photoId, signal) {
  try {
    return (await fetchPhoto(photoId, signal)).status
  } catch (error) {
    if (error.status === 404) return null // deleted meanwhile: the next pull drops it from the mirror
    throw error
  }
}

async function release(file) {
  // The server holds the photo: the full file is not needed any more; the thumbnail stays
  // for offline lists.
  await db.files.update(file.photo_id, { done: true, blob: null, upload_url: null, resend: false })
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
      // A server that named a time to come back is not asked again before it (triggers.js waits).
      onShouldRetry: (error, attempt, options) => !retryAfter(error.originalResponse)
        && tus.defaultOptions.onShouldRetry(error, attempt, options),
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
        const response = error.originalResponse
        const status = response?.getStatus?.()
        if (status === 404 || status === 410) {
          // The server dropped this upload (expired); the next run starts a new one.
          await db.files.update(file.photo_id, { upload_url: null })
        }
        // The server's own message when it sent one: tus-js-client's repeats the whole exchange.
        const body = bodyOf(response)
        reject(Object.assign(new Error(`upload: ${body?.message || error.message}`), {
          status: status ?? 0, reason: body?.reason ?? null, retryAfter: retryAfter(response),
        }))
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

/** The server's error body ({message, reason, …}), or null. */
function bodyOf(response) {
  try {
    const body = JSON.parse(response?.getBody?.() || 'null')
    return body && typeof body === 'object' ? body : null
  } catch {
    return null // a proxy's HTML page
  }
}

/** Seconds of a Retry-After header (503 storage down, 429), or null. */
function retryAfter(response) {
  return Number(response?.getHeader?.('Retry-After')) || null
}
