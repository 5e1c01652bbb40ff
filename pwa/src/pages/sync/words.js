// What the sync screens (Home, 同步) say about a failed run and about a photo held on the
// phone. The server's messages are English and for developers; these are read by cadres.
import { requestRefusalKey } from '../../refusals.js'
import { secondsUntilRetry } from '../../sync/triggers.js'

/** Words for the last failed run (syncState.lastError); `now` drives the Retry-After countdown. */
export function syncErrorText(error, t, now = Date.now()) {
  if (!error) return ''
  if (error.reason === 'server_behind_outbox') return t('sync.errors.behind')
  if (error.status === 0) return t('sync.errors.offline')
  if (error.status === 401) return t('sync.errors.expired')
  const seconds = secondsUntilRetry(now)
  if (seconds) return t('sync.errors.busyRetry', { n: seconds })
  if (error.status === 429) return t('sync.errors.busy')
  if (error.status >= 500) return t('sync.errors.down')
  if (error.reason && uploadAnswerKey(error.reason)) return t(uploadAnswerKey(error.reason))
  const refused = requestRefusalKey(error.reason)
  return t('sync.errors.other', { message: refused ? t(refused) : error.message })
}

/** The toast after a tap on 立即同步 that sent nothing, or failed. */
export function syncFailedToast(t, fallbackKey) {
  const seconds = secondsUntilRetry()
  return seconds ? t('sync.errors.busyRetry', { n: seconds }) : t(fallbackKey)
}

const UPLOAD_ANSWERS = ['sha256_mismatch', 'not_author', 'upload_restarted']

/** The message key for an upload's answer by its reason, or null. */
export function uploadAnswerKey(reason) {
  return UPLOAD_ANSWERS.includes(reason) ? `sync.uploadAnswers.${reason}` : null
}

/**
 * Why a photo file is not being sent, or null while it goes up normally: held back on the
 * phone (`held`: its copy is damaged, or not this user's to send), or its last attempt
 * refused and tried again at the next sync (`refusal`).
 */
export function heldPhotoText(file, t) {
  if (file.held === 'damaged') return t('sync.photoDamaged')
  if (file.held) return uploadAnswerKey(file.held) ? t(uploadAnswerKey(file.held)) : file.held
  return file.refusal && uploadAnswerKey(file.refusal) ? t(uploadAnswerKey(file.refusal)) : null
}
