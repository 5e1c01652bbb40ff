// How many forms hold unsaved typing: an app update waits while any does.
import { reactive } from 'vue'

export const forms = reactive({ dirty: 0 })
