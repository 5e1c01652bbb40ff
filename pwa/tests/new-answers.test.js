// The words and choices for the server's newer refusals: sign-in limits, requests refused as a
// whole, rulings on one's own record or past the review table, and flags naming another area.
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { ApiError } from '../src/api/client.js'
import { flagLines } from '../src/evidence/flags.js'
import { errorMessage, statusNamed } from '../src/pages/supervise/errorMessage.js'
import auth from '../src/i18n/auth.js'
import common from '../src/i18n/common.js'
import evidence from '../src/i18n/evidence.js'
import records from '../src/i18n/records.js'
import review from '../src/i18n/review.js'
import settings from '../src/i18n/settings.js'
import supervise from '../src/i18n/supervise.js'
import { bulkCandidates, itemKey, markRecheck, photosArriving } from '../src/pages/supervise/queueKeys.js'
import { passwordChangeError, requestRefusalKey, retryAfterSeconds, signInError } from '../src/refusals.js'

const PARTS = { auth, common, evidence, records, review, settings, supervise }

function translator(locale) {
  const messages = Object.fromEntries(Object.entries(PARTS).map(([name, part]) => [name, part[locale]]))
  const i18n = createI18n({ legacy: false, locale, missingWarn: false, fallbackWarn: false,
    messages: { [locale]: messages } })
  const { t, te } = i18n.global
  // A key with no words fails the test rather than showing the key to the user.
  return (key, values) => {
    if (!te(key)) throw new Error(`no ${locale} words for ${key}`)
    return t(key, values)
  }
}

const zh = translator('zh-CN')
const en = translator('en')

function refusal(status, body, retryAfter = null) {
  const error = new ApiError(status, body)
  error.retryAfter = retryAfter
  return error
}

const rateLimited = refusal(429, { reason: 'rate_limited',
  message: 'Too many sign-in attempts from your network address (30 per 1 minute): try again in 42 second(s).' }, 42)
const locked = refusal(429, { reason: 'account_locked', message: 'Too many failed sign-ins; try again in 15 minutes.' },
  900)

describe('sign-in limits', () => {
  it('says the network is limited, with the seconds of Retry-After', () => {
    expect(signInError(rateLimited, zh)).toBe('此网络尝试登录次数过多，请 42 秒后再试。')
    expect(signInError(rateLimited, en)).toBe('Too many sign-in attempts from this network; try again in 42 seconds.')
  })

  it('reads the seconds from the message when the header is missing', () => {
    const noHeader = refusal(429, rateLimited.body)
    expect(retryAfterSeconds(noHeader)).toBe(42)
    expect(signInError(noHeader, zh)).toContain('42 秒')
  })

  it('keeps the account lock in minutes, and any other 429 as the lock', () => {
    expect(signInError(locked, zh)).toBe('账号已锁定，请 15 分钟后再试')
    expect(signInError(refusal(429, null), zh)).toBe('账号已锁定，请稍后再试')
    expect(signInError(refusal(401, { reason: 'invalid_credentials' }), zh)).toBe('用户名或密码错误')
  })

  it('says the same on the change-password form, and names a wrong current password', () => {
    expect(passwordChangeError(rateLimited, zh)).toBe('此网络尝试登录次数过多，请 42 秒后再试。')
    expect(passwordChangeError(locked, zh)).toBe('账号已锁定，请 15 分钟后再试')
    expect(passwordChangeError(refusal(403, { reason: 'wrong_password' }), zh)).toContain('当前密码错误')
    expect(passwordChangeError(refusal(422, { reason: 'password_too_short' }), en))
      .toBe('The new password needs at least 10 characters')
  })
})

describe('requests refused as a whole', () => {
  const cases = [
    ['invalid_text', 400, '含有无法保存的字符', 'Holds a character that cannot be saved'],
    ['invalid_json', 400, '请求格式错误', 'Malformed request'],
    ['json_too_deep', 400, '请求格式错误', 'Malformed request'],
    ['body_too_large', 413, '内容过大', 'Too large'],
  ]

  it.each(cases)('%s has words on the supervisor screens, at sign-in and in the records list',
    (reason, status, chinese, english) => {
      const error = refusal(status, { reason, message: 'English for developers', errors: { json: { summary: ['x'] } } })
      expect(errorMessage(error, zh)).toBe(chinese)
      expect(errorMessage(error, en)).toBe(english)
      expect(signInError(error, zh)).toBe(`登录失败：${chinese}`)
      expect(zh(`records.reasons.${reason}`)).toBe(chinese)
      expect(requestRefusalKey(reason)).not.toBeNull()
    })

  it('a 413 without a reason (a proxy\'s) is still too large', () => {
    expect(errorMessage(refusal(413, null), zh)).toBe('内容过大')
  })

  it('a supervisor screen meeting the rate limit says how long to wait', () => {
    expect(errorMessage(rateLimited, zh)).toBe('此网络尝试登录次数过多，请 42 秒后再试。')
  })
})

describe('rulings the review table refuses', () => {
  it('says a supervisor does not rule on their own record', () => {
    const error = refusal(403, { reason: 'own_record', message: 'You wrote this visit: another supervisor rules on it.' })
    expect(errorMessage(error, zh)).toBe('本人填报，须由其他督查审核')
    expect(errorMessage(error, en)).toBe('You wrote it: another supervisor reviews it')
  })

  it('names the status the record is in now', () => {
    const returned = refusal(409, { reason: 'invalid_transition', message: 'This visit is returned; it goes back to '
      + 'pending when its author changes it, and is ruled on then.' })
    expect(statusNamed(returned)).toBe('returned')
    expect(errorMessage(returned, zh)).toBe('这条记录现为“已退回”，须等填报人修改后重新提交才能再审核')
    const approved = refusal(409, { reason: 'invalid_transition',
      message: 'This inspection is approved; it may become returned or rejected.' })
    expect(errorMessage(approved, zh)).toBe('这条记录现为“已通过”，不能这样审核')
    expect(errorMessage(refusal(409, { reason: 'invalid_transition', message: '?' }), zh))
      .toBe('这条记录的审核状态已变化，不能这样审核')
    expect(zh('supervise.actions.reread', { message: errorMessage(approved, zh) })).toContain('已重新读取')
  })

  it('reads the status from the answer’s data before its English message', () => {
    // As the server answers now: the status as data, the message free to change its wording.
    const returned = refusal(409, { reason: 'invalid_transition', message: 'Wording changed; no status here.',
      errors: { json: { review_status: ['…'] }, current: { review_status: 'returned' } } })
    expect(statusNamed(returned)).toBe('returned')
    expect(errorMessage(returned, zh)).toBe('这条记录现为“已退回”，须等填报人修改后重新提交才能再审核')
    // The data wins over a message that names another status.
    const rejected = refusal(409, { reason: 'invalid_transition', message: 'This visit is approved; it may become x.',
      errors: { current: { review_status: 'rejected' } } })
    expect(statusNamed(rejected)).toBe('rejected')
    // Not a status the app knows: the message, then the general words.
    const odd = refusal(409, { reason: 'invalid_transition', message: 'This visit is approved; …',
      errors: { current: { review_status: 'archived' } } })
    expect(statusNamed(odd)).toBe('approved')
  })
})

describe('bulk approval and the approver\'s own records', () => {
  const item = (id, extra = {}) => ({ record_type: 'visit', id, flag_count: 0, photo_count: 1, photos_stored: 1,
    author_id: 2, ...extra })

  it('leaves out the records the approver wrote', () => {
    const listed = [item('mine', { author_id: 7 }), item('theirs'),
      item('mine-arriving', { author_id: 7, photos_stored: 0 })]
    expect(bulkCandidates(listed, 7).map(itemKey)).toEqual(['visit:theirs'])
    expect(photosArriving(listed, 7)).toEqual([])
    expect(bulkCandidates(listed).map(itemKey)).toEqual(['visit:mine', 'visit:theirs'])
  })

  it('marks what the server skipped as own or with photos still arriving, with words for both', () => {
    const listed = [item('a'), item('b')]
    const marked = markRecheck(listed, [
      { record_type: 'visit', id: 'a', status: 'skipped', reason: 'own_record' },
      { record_type: 'visit', id: 'b', status: 'skipped', reason: 'photos_not_stored' },
    ])
    expect(marked.map((entry) => entry.recheck)).toEqual(['own_record', 'photos_not_stored'])
    expect(bulkCandidates(marked)).toEqual([])
    expect(zh('review.item.recheck.photos_not_stored')).toBe('照片尚未全部上传')
    expect(zh('review.bulk.reasons.own_record', { count: 2 })).toContain('本人填报')
    expect(en('review.bulk.reasons.photos_not_stored', { count: 1 })).toContain('photos have not all arrived')
  })
})

describe('flags naming a record in another area', () => {
  it('give words without a link for a reused photo', () => {
    const lines = flagLines('reused', { also_on: [{ in_another_area: true },
      { photo_id: 'p', record_type: 'visit', record_id: 'r1' }] })
    expect(lines).toEqual([
      { key: 'evidence.flag.reusedOn', params: {}, elsewhere: true },
      { key: 'evidence.flag.reusedOn', params: {}, link: { type: 'visit', id: 'r1' } },
    ])
    expect(zh('evidence.flag.otherArea')).toBe('另一辖区的记录')
    expect(en('evidence.flag.otherArea')).toBe('a record in another area')
  })

  it('give words without a link, or a number of bits, for a near duplicate', () => {
    const [line] = flagLines('near_duplicate', { photos: [{ in_another_area: true }] })
    expect(line).toEqual({ key: 'evidence.flag.nearDuplicate', params: { bits: undefined }, elsewhere: true })
    expect(zh(line.key, line.params)).not.toContain('undefined')
  })

  it('show no software line when the software is hidden', () => {
    expect(flagLines('edited', {})).toEqual([])
    expect(flagLines('edited', null)).toEqual([])
    expect(flagLines('edited', { software: 'Snapseed' })[0].params).toEqual({ software: 'Snapseed' })
  })
})
