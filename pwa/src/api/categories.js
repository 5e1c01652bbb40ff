import { api } from './client.js'

export const listCategories = () => api('/api/categories')
