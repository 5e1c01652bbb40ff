import { createApp } from 'vue'
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import './style.css'
import App from './App.vue'
import { i18n } from './i18n/index.js'
import { router } from './router.js'
import { startSyncTriggers } from './sync/triggers.js'

createApp(App).use(router).use(i18n).mount('#app')
startSyncTriggers()
