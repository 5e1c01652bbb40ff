// Words for an ApiError (or a failed fetch), the same on every supervisor screen: the
// server's own message is English and for developers, and "network" or "HTTP 502" tells a
// supervisor nothing.
import { requestRefusalKey, retryAfterSeconds } from '../../refusals.js'

const REVIEW_STATUSES = ['pending', 'approved', 'returned', 'rejected']

/**
 * The review status a 409 `invalid_transition` names, or null: from the answer's data
 * (`errors.current.review_status`), else from its English message ("This visit is
 * returned; …"), as a server without that data says it.
 */
export function statusNamed(error) {
  const given = error?.errors?.current?.review_status
  if (REVIEW_STATUSES.includes(given)) return given
  const status = /\bis (\w+);/.exec(error?.message || '')?.[1]
  return REVIEW_STATUSES.includes(status) ? status : null
}

/** Words for the reasons that say more than their status; null for the others. */
function byReason(error, t) {
  const refused = requestRefusalKey(error.reason)
  if (refused) return t(refused)
  if (error.reason === 'rate_limited') {
    const seconds = retryAfterSeconds(error)
    return seconds ? t('auth.rateLimited', { n: seconds }) : t('auth.rateLimitedSoon')
  }
  if (error.reason === 'own_record') return t('supervise.errors.ownRecord')
  if (error.reason === 'invalid_transition') {
    const status = statusNamed(error)
    if (!status) return t('supervise.errors.invalidTransitionUnknown')
    const key = ['returned', 'rejected'].includes(status) ? 'invalidTransitionWaiting' : 'invalidTransition'
    return t(`supervise.errors.${key}`, { status: t(`supervise.review.${status}`) })
  }
  return null
}

/** Chinese (or English) words for why a request failed. */
export function errorMessage(error, t) {
  const status = error?.status ?? 0
  if (status === 0) return t('supervise.errors.offline')
  const words = error.reason ? byReason(error, t) : null
  if (words) return words
  if (status === 401) return t('supervise.errors.expired')
  if (status === 403) return t('supervise.errors.forbidden')
  if (status === 404) return t('supervise.errors.notFound')
  if (status === 409 || status === 412) return t('supervise.errors.conflict')
  if (status === 413) return t('common.refused.tooLarge')
  if (status === 422 || status === 400) {
    const fields = Object.values(error.errors || {}).flatMap((location) => Object.keys(location || {}))
    return t('supervise.errors.validation', { fields: fields.join(', ') || '—' })
  }
  if (status === 429) return t('supervise.errors.busy')
  if (status >= 500) return t('supervise.errors.server', { status })
  return t('supervise.errors.other', { status })
}
