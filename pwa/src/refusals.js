// Words for the server's refusals that any screen can meet: the request itself refused
// (malformed, too large, text no database stores) and the sign-in limits. The server's own
// message is English and for developers; these are what a person reads.

// A request refused before any rule looked at it: the same words on every screen.
const REQUEST_REASONS = {
  invalid_text: 'common.refused.invalidText',
  invalid_json: 'common.refused.malformed',
  json_too_deep: 'common.refused.malformed',
  body_too_large: 'common.refused.tooLarge',
}

/** The message key for a refusal of the request as a whole, or null when `reason` is not one. */
export function requestRefusalKey(reason) {
  return REQUEST_REASONS[reason] || null
}

/**
 * Whole seconds to wait, from the Retry-After header when the client read it, else from the
 * first "N second(s)" or "N minute(s)" in the server's message; null when neither says.
 */
export function retryAfterSeconds(error) {
  const header = Number(error?.retryAfter)
  if (header > 0) return Math.ceil(header)
  const text = error?.message || ''
  const seconds = /(\d+)\s*second/.exec(text)?.[1]
  if (seconds) return Number(seconds)
  const minutes = /(\d+)\s*minute/.exec(text)?.[1]
  return minutes ? Number(minutes) * 60 : null
}

/**
 * Why a sign-in or a password change was refused for a while, or null when it was not:
 * too many attempts from this network (`rate_limited`, per address) or the username locked
 * after wrong passwords (`account_locked`). Any other 429 is read as the lock, as before.
 */
export function signInLimit(error, t) {
  if (error?.status !== 429 && !['rate_limited', 'account_locked'].includes(error?.reason)) return null
  const seconds = retryAfterSeconds(error)
  if (error.reason === 'rate_limited') {
    return seconds ? t('auth.rateLimited', { n: seconds }) : t('auth.rateLimitedSoon')
  }
  return seconds ? t('auth.locked', { minutes: Math.ceil(seconds / 60) }) : t('auth.lockedSoon')
}

/** Words for a failed sign-in, on the sign-in screen and when signing in again. */
export function signInError(error, t) {
  if (error?.status === 0) return t('auth.offline')
  const limited = signInLimit(error, t)
  if (limited) return limited
  if (error.status === 401 || error.reason === 'invalid_credentials') return t('auth.wrongPassword')
  if (error.reason === 'account_inactive') return t('auth.inactive')
  const refused = requestRefusalKey(error.reason)
  return t('auth.failed', { message: refused ? t(refused) : error.message })
}

/** Words for a refused password change: the sign-in limits, a wrong current password, a short new one. */
export function passwordChangeError(error, t) {
  if (error?.status === 0) return t('settings.password.offline')
  const limited = signInLimit(error, t)
  if (limited) return limited
  if (error?.reason === 'wrong_password') return t('settings.password.wrong')
  if (error?.reason === 'password_too_short') return t('settings.password.tooShort', { n: 10 })
  const refused = requestRefusalKey(error?.reason)
  return t('settings.password.failed', { message: refused ? t(refused) : error?.message || '' })
}
