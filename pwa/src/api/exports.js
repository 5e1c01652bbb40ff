// Ledgers (走访台账, 乱点整治台账) as Excel or CSV, with progress. Asking for one starts a job on
// the server (202 and the job); the job is polled while a worker writes the file ("generating",
// with the job's own percent), then its file is fetched in chunks, counted against
// Content-Length ("downloading"). Not through api(): that reads JSON, and the file is bytes.
import { ApiError } from './client.js'
import { dayRange } from '../time.js'
import { session } from '../session.js'

export const LEDGERS = ['visits', 'hotspots']
export const FORMATS = ['xlsx', 'csv']

/** The name in a Content-Disposition header: filename*=UTF-8''… first, then filename="…". */
export function filenameFromDisposition(header, fallback = 'download') {
  if (!header) return fallback
  const extended = header.match(/filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i)
  if (extended) {
    try {
      return decodeURIComponent(extended[2].trim().replace(/^"|"$/g, ''))
    } catch {
      // a malformed escape: fall back to the plain name
    }
  }
  const plain = header.match(/filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i)
  if (plain) return (plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : plain[1].trim()) || fallback
  return fallback
}

/** Whole percent of bytes received, 0–100; null when the total is unknown. */
export function progressPercent(received, total) {
  if (!Number.isFinite(total) || total <= 0) return null
  return Math.min(100, Math.floor((received / total) * 100))
}

/**
 * The export's query from the form: days from..to (both included, county days) become the
 * instants since (first midnight) and until (the midnight after the last day).
 */
export function ledgerQuery({ area, from, to, status, author } = {}, zone) {
  const query = {}
  if (area) query.area = area
  Object.assign(query, dayRange(from, to, zone))
  if (status) query.status = status
  if (author) query.author = String(author)
  return query
}

export const POLL_MS = 1000

/**
 * Download a ledger. onProgress({phase: 'generating'|'downloading'|'done', received, total,
 * percent, text}). Resolves {blob, filename}; throws ApiError (status 0: network or cancelled;
 * a job that failed on the server: its status 500 and reason job_failed).
 */
export async function downloadLedger({ ledger, format, query = {}, signal, onProgress = () => {}, pollMs = POLL_MS }) {
  const url = new URL(`/api/exports/${ledger}.${format}`, location.origin)
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value)
  onProgress({ phase: 'generating', received: 0, total: null, percent: null, text: '' })
  let job = await (await request(url, { method: 'POST', signal })).json()
  while (job.state !== 'done') {
    if (job.state === 'failed') {
      throw new ApiError(500, { code: 500, message: job.last_error || 'The export failed.', reason: 'job_failed' })
    }
    onProgress({ phase: 'generating', received: 0, total: null, percent: job.progress, text: job.progress_text })
    await wait(pollMs, signal)
    job = await (await request(new URL(`/api/jobs/${job.id}`, location.origin), { signal })).json()
  }
  const response = await request(new URL(job.download_url, location.origin), { signal })
  const total = Number(response.headers.get('Content-Length')) || null
  const filename = filenameFromDisposition(response.headers.get('Content-Disposition'), `${ledger}.${format}`)
  const chunks = []
  let received = 0
  onProgress({ phase: 'downloading', received, total, percent: progressPercent(received, total) })
  try {
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      received += value.length
      onProgress({ phase: 'downloading', received, total, percent: progressPercent(received, total) })
    }
  } catch (error) {
    throw cancelledOrOffline(error)
  }
  const blob = new Blob(chunks, { type: response.headers.get('Content-Type') || 'application/octet-stream' })
  onProgress({ phase: 'done', received, total: total ?? received, percent: 100 })
  return { blob, filename }
}

/** fetch with the device token; an error answer becomes ApiError (a 401 signs the session out). */
async function request(url, { method = 'GET', signal } = {}) {
  let response
  try {
    response = await fetch(url, {
      method, headers: session.token ? { Authorization: `Bearer ${session.token}` } : {},
      credentials: 'omit', cache: 'no-store', signal,
    })
  } catch (error) {
    throw cancelledOrOffline(error)
  }
  if (!response.ok) {
    let body = null
    try {
      body = await response.json()
    } catch {
      body = null
    }
    const error = new ApiError(response.status, body)
    if (response.status === 401 && session.token) session.expired(error)
    throw error
  }
  return response
}

/** Resolves after ms, or rejects as cancelled when the signal aborts first. */
function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledOrOffline({ name: 'AbortError' }))
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(cancelledOrOffline({ name: 'AbortError' }))
    }, { once: true })
  })
}

function cancelledOrOffline(error) {
  const failure = new ApiError(0, null)
  failure.cancelled = error?.name === 'AbortError'
  return failure
}

/** Hand the file to the browser's downloads under its name. */
export function saveFile(blob, filename) {
  const href = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = href
  link.download = filename
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  // The click has started the download; the URL may go once it has read the blob.
  setTimeout(() => URL.revokeObjectURL(href), 60000)
}
