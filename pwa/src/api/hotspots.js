import { api } from './client.js'

/** The hotspot's statuses and the steps between them, as the server enforces them. */
export const getLifecycle = () => api('/api/hotspots/lifecycle')
