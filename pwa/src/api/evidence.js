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
