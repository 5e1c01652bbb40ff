import { createApp, watch } from 'vue'
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import './style.css'
import App from './App.vue'
import { loadCategories } from './categories.js'
import { i18n } from './i18n/index.js'
import { loadLifecycles } from './lifecycles.js'
import { router } from './router.js'
import { session } from './session.js'
import { startSyncTriggers } from './sync/triggers.js'

createApp(App).use(router).use(i18n).mount('#app')
startSyncTriggers()
// The category lists and lifecycles must be on the phone before it goes offline: fetched
// at each start and right after sign-in.
watch(() => session.token, (token) => token && Promise.all([loadCategories(), loadLifecycles()]),
  { immediate: true })
