import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { errorMessage } from '../src/pages/supervise/errorMessage.js'
import { ApiError } from '../src/api/client.js'
import supervise from '../src/i18n/supervise.js'

const t = (key, values) => (values ? `${key} ${JSON.stringify(values)}` : key)

describe('error messages of the supervisor screens', () => {
  it('chooses the words by status and names the fields refused', () => {
    expect(errorMessage({ status: 0 }, t)).toBe('supervise.errors.offline')
    expect(errorMessage(new ApiError(0, null), t)).toBe('supervise.errors.offline')
    expect(errorMessage({ status: 404 }, t)).toBe('supervise.errors.notFound')
    expect(errorMessage({ status: 412 }, t)).toBe('supervise.errors.conflict')
    expect(errorMessage({ status: 422, errors: { query: { from: ['x'], to: ['y'] } } }, t))
      .toBe('supervise.errors.validation {"fields":"from, to"}')
    expect(errorMessage({ status: 429 }, t)).toBe('supervise.errors.busy')
    expect(errorMessage({ status: 503 }, t)).toBe('supervise.errors.server {"status":503}')
    expect(errorMessage(null, t)).toBe('supervise.errors.offline')
  })

  it('never shows the server\'s English message or "HTTP 502" in Chinese', () => {
    const i18n = createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': { supervise: supervise['zh-CN'] } } })
    const failure = new ApiError(502, { message: 'Bad Gateway' })
    const words = errorMessage(failure, i18n.global.t)
    expect(words).toBe('服务器出错（502），请稍后重试')
    expect(words).not.toContain('Bad Gateway')
  })
})
