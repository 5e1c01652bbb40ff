import { api } from './client.js'

export const push = (clientId, mutations) =>
  api('/api/sync/push', { method: 'POST', body: { client_id: clientId, mutations } })

export const pull = (clientId, cursor, limit = 500) =>
  api('/api/sync/pull', { query: { client_id: clientId, cursor, limit } })
