import { api } from './client.js'

export const login = (username, password, deviceName) =>
  api('/api/auth/login', { method: 'POST', body: { username, password, device_name: deviceName }, token: null })

export const logout = () => api('/api/auth/logout', { method: 'POST' })

export const me = () => api('/api/auth/me')

export const listDevices = () => api('/api/devices')

export const revokeDevice = (id) => api(`/api/devices/${id}`, { method: 'DELETE' })

/** Change your own password; your other devices are signed out, this one stays signed in. */
export const changePassword = (currentPassword, newPassword) =>
  api('/api/auth/password', { method: 'POST', body: { current_password: currentPassword, new_password: newPassword } })
