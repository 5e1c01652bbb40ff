// A record the server refused shows why in the user's words (src/pages/records/rejection.js,
// used by the visit, household, hotspot and inspection screens): the server's English message
// only for a code the app has no words for. Every code the server can send has words.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import records from '../src/i18n/records.js'
import { rejectionText } from '../src/pages/records/rejection.js'

function i18nFor(locale) {
  return createI18n({ legacy: false, locale, missingWarn: false, fallbackWarn: false,
    messages: { [locale]: { records: records[locale] } } }).global
}

const zh = i18nFor('zh-CN')
const en = i18nFor('en')

// The codes as the server declares them: RecordError's status table, and the push's list in docs/sync.md.
const ERRORS = readFileSync(new URL('../../backend/errors.py', import.meta.url), 'utf8')
const TABLE = /RECORD_ERROR_STATUS = \{([^}]*)\}/.exec(ERRORS)[1]
const SERVER_CODES = [...TABLE.matchAll(/"([a-z_]+)":/g)].map((match) => match[1])
const SYNC_DOC = readFileSync(new URL('../../docs/sync.md', import.meta.url), 'utf8')
const PUSH_LIST = /Error codes in `results\[\]\.error\.code`:([\s\S]*?)\n\n/.exec(SYNC_DOC)[1]
// The paragraph names a field or two besides the codes ("`validation` (with `field`)").
const DOC_CODES = [...PUSH_LIST.matchAll(/`([a-z_]+)`/g)].map((match) => match[1])
  .filter((word) => !['field', 'area_code'].includes(word))

describe('a rejected record says why in Chinese', () => {
  it('for the codes the server sends now', () => {
    const error = (code, field) => ({ code, field, message: `English for developers (${code})` })
    expect(rejectionText(error('not_found'), zh)).toBe('记录不存在')
    expect(rejectionText(error('forbidden'), zh)).toBe('无权限')
    expect(rejectionText(error('invalid_transition'), zh)).toBe('状态不允许此操作')
    expect(rejectionText(error('own_record'), zh)).toBe('本人填报，须由其他督查审核')
    expect(rejectionText(error('validation', 'visited_at'), zh)).toBe('信息有误（走访时间）')
    expect(rejectionText(error('validation', 'visited_at'), en)).toBe('Invalid information (Visited at)')
    expect(rejectionText(error('own_record'), en)).not.toContain('English for developers')
  })

  it('falls back to the server’s message only for a code it has no words for', () => {
    expect(rejectionText({ code: 'new_rule', message: 'Something new.' }, zh)).toBe('Something new.')
    expect(rejectionText({ code: 'new_rule' }, zh)).toBe('被服务器拒绝')
    expect(rejectionText(null, zh)).toBe('')
  })

  it('has words in both languages for every code of the records service and of a push', () => {
    expect(SERVER_CODES).toEqual(expect.arrayContaining(['not_found', 'forbidden', 'invalid_transition', 'own_record']))
    expect(DOC_CODES).toEqual(expect.arrayContaining(['validation', 'not_found', 'result_expired']))
    for (const code of new Set([...SERVER_CODES, ...DOC_CODES])) {
      for (const i18n of [zh, en]) {
        expect(i18n.te(`records.reasons.${code}`), `${i18n.locale.value}: ${code}`).toBe(true)
      }
    }
  })
})
