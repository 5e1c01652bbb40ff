// The review queue (/api/review).
import { api } from './client.js'

export const BULK_MAX = 200

/** One page of pending records: {items, next_cursor}; query holds the filters, limit and cursor. */
export function fetchQueue(query, signal) {
  return api('/api/review/queue', { query, signal })
}

/**
 * Approve the given records ({record_type, id, version}) at the version listed, 200 a request;
 * the answers joined into one {approved, skipped, items}. A failing request stops there: the
 * ones before it are approved and reported, so it throws with `partial` set.
 */
export async function bulkApprove(items) {
  const result = { approved: 0, skipped: 0, items: [] }
  for (let at = 0; at < items.length; at += BULK_MAX) {
    const body = { items: items.slice(at, at + BULK_MAX).map(({ record_type, id, version }) => ({ record_type, id, version })) }
    try {
      const answer = await api('/api/review/bulk-approve', { method: 'POST', body })
      result.approved += answer.approved
      result.skipped += answer.skipped
      result.items.push(...answer.items)
    } catch (error) {
      error.partial = result
      throw error
    }
  }
  return result
}
