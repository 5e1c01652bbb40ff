import { api } from './client.js'

export const login = (username, password, deviceName) =>
  api('/api/auth/login', { method: 'POST', body: { username, password, device_name: deviceName }, token: null })

export const logout = () => api('/api/auth/logout', { method: 'POST' })

export const me = () => api('/api/auth/me')

export const listDevices = () => api('/api/devices')

export const revokeDevice = (id) => api(`/api/devices/${id}`, { method: 'DELETE' })
