// The supervisor's rulings on visits and inspections, read and written on the server.
import { REVIEWED } from '../kinds.js'
import { api } from './client.js'

/** The API path of each reviewed kind by its record_type: {visit: 'visits', …}. */
export const RECORD_PATHS = Object.fromEntries(REVIEWED.map((kind) => [kind.type, kind.store]))

/**
 * Approve, reject or return a record at the version the supervisor looked at (If-Match):
 * if the author changed it meanwhile the server answers 412 and nothing is ruled.
 */
export function reviewRecord(recordType, id, version, reviewStatus, comment = null) {
  return api(`/api/${RECORD_PATHS[recordType]}/${id}/review`, {
    method: 'POST',
    headers: { 'If-Match': `"${version}"` },
    body: { review_status: reviewStatus, review_comment: comment },
  })
}
