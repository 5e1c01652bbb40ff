// Why the server refused a record sent from the phone (`_error` of a rejected row: the push
// result's {code, message, field}), in the user's language. The server's message is English
// for developers: it is shown only for a code the app has no words for.

/** Words for a rejected record's error; ``i18n`` is vue-i18n's {t, te}. */
export function rejectionText(error, { t, te }) {
  if (!error) return ''
  const key = `records.reasons.${error.code}`
  if (!error.code || !te(key)) return error.message || t('records.reasons.other')
  if (!error.field) return t(key)
  const field = te(`records.fields.${error.field}`) ? t(`records.fields.${error.field}`) : error.field
  return t(key) + t('records.fieldError', { field })
}
