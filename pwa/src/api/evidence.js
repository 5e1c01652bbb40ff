import { api } from './client.js'
import { RECORD_PATHS } from './review.js'
import { session } from '../session.js'

/** True when the server already holds these bytes (the upload can be skipped). */
export async function blobHeld(sha256) {
  const response = await fetch(`/api/blobs/${sha256}`, {
    method: 'HEAD',
    headers: { Authorization: `Bearer ${session.token}` },
    cache: 'no-store',
  })
  return response.status === 200
}

/** One photo as the server has it now: its status (`stored`, `awaiting_upload`, `rejected`) and reason. */
export function fetchPhoto(photoId, signal) {
  return api(`/api/photos/${photoId}`, { signal })
}

/** The evidence view of one visit or inspection (supervisors and the author). */
export function fetchEvidence(recordType, id, signal) {
  return api(`/api/${RECORD_PATHS[recordType]}/${id}/evidence`, { signal })
}

/**
 * A photo rendition (thumb | display) as an object URL: the image needs the bearer token,
 * which an <img src> cannot send. The caller revokes it.
 */
export async function photoObjectUrl(photoId, variant, signal) {
  const response = await fetch(`/api/photos/${photoId}/${variant}`, {
    headers: { Authorization: `Bearer ${session.token}` },
    credentials: 'omit',
    signal,
  })
  if (!response.ok) {
    const error = new Error(`HTTP ${response.status}`)
    error.status = response.status
    throw error
  }
  return URL.createObjectURL(await response.blob())
}
