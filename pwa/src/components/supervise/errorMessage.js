// Words for an ApiError (or a failed fetch), the same on every supervisor screen: the
// server's own message is English and for developers, and "network" or "HTTP 502" tells a
// supervisor nothing.

/** Chinese (or English) words for why a request failed. */
export function errorMessage(error, t) {
  const status = error?.status ?? 0
  if (status === 0) return t('supervise.errors.offline')
  if (status === 401) return t('supervise.errors.expired')
  if (status === 403) return t('supervise.errors.forbidden')
  if (status === 404) return t('supervise.errors.notFound')
  if (status === 409 || status === 412) return t('supervise.errors.conflict')
  if (status === 422 || status === 400) {
    const fields = Object.values(error.errors || {}).flatMap((location) => Object.keys(location || {}))
    return t('supervise.errors.validation', { fields: fields.join(', ') || '—' })
  }
  if (status === 429) return t('supervise.errors.busy')
  if (status >= 500) return t('supervise.errors.server', { status })
  return t('supervise.errors.other', { status })
}
