import { api } from './client.js'

export const push = (clientId, mutations, { signal } = {}) =>
  api('/api/sync/push', { method: 'POST', body: { client_id: clientId, mutations }, signal })

export const pull = (clientId, cursor, limit = 500, { signal } = {}) =>
  api('/api/sync/pull', { query: { client_id: clientId, cursor, limit }, signal })
