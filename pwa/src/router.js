// The explicit route table: every screen of the field app.
import { showFailToast } from 'vant'
import { createRouter, createWebHistory } from 'vue-router'
import { i18n, loadMessages } from './i18n/index.js'
import { REVIEWED } from './kinds.js'
import { session } from './session.js'

export const SUPERVISORS = ['supervisor', 'admin']

// The messages each group of screens uses (i18n/index.js), loaded with its route.
const FIELD = { messages: ['records', 'households', 'visits', 'hotspots'] }
const SUPERVISE = ['supervise', 'evidence', 'review', 'dashboard', 'hotspots', 'auth']

const routes = [
  { path: '/login', name: 'login', component: () => import('./pages/auth/Login.vue'),
    meta: { public: true, messages: ['auth'] } },
  { path: '/', name: 'home', component: () => import('./pages/Home.vue'), meta: { messages: ['records', 'sync'] } },
  { path: '/households', name: 'households', component: () => import('./pages/households/Households.vue'), meta: FIELD },
  { path: '/households/new', name: 'household-new', component: () => import('./pages/households/HouseholdForm.vue'),
    meta: FIELD },
  { path: '/households/:id', name: 'household', component: () => import('./pages/households/HouseholdDetail.vue'),
    meta: FIELD },
  { path: '/households/:id/edit', name: 'household-edit',
    component: () => import('./pages/households/HouseholdForm.vue'), meta: FIELD },
  { path: '/visits/new', name: 'visit-new', component: () => import('./pages/visits/VisitForm.vue'), meta: FIELD },
  { path: '/visits/:id', name: 'visit-edit', component: () => import('./pages/visits/VisitForm.vue'), meta: FIELD },
  { path: '/hotspots', name: 'hotspots', component: () => import('./pages/hotspots/Hotspots.vue'), meta: FIELD },
  { path: '/hotspots/:id', name: 'hotspot', component: () => import('./pages/hotspots/HotspotDetail.vue'), meta: FIELD },
  { path: '/inspections/new', name: 'inspection-new',
    component: () => import('./pages/hotspots/InspectionForm.vue'), meta: FIELD },
  { path: '/inspections/:id', name: 'inspection-edit',
    component: () => import('./pages/hotspots/InspectionForm.vue'), meta: FIELD },
  { path: '/records', name: 'records', component: () => import('./pages/records/Records.vue'), meta: FIELD },
  { path: '/sync', name: 'sync', component: () => import('./pages/sync/Sync.vue'), meta: { messages: ['sync'] } },
  { path: '/settings', name: 'settings', component: () => import('./pages/settings/Settings.vue'),
    meta: { messages: ['settings', 'auth'] } },
  // The supervisor's workspace: read from the server, so it needs the network.
  {
    path: '/supervise',
    component: () => import('./pages/supervise/SuperviseLayout.vue'),
    meta: { roles: SUPERVISORS, messages: SUPERVISE },
    children: [
      { path: '', redirect: { name: 'supervise-review' } },
      { path: 'map', name: 'supervise-map', component: () => import('./pages/supervise/SuperviseMap.vue') },
      { path: 'review', name: 'supervise-review', component: () => import('./pages/supervise/ReviewQueue.vue') },
      { path: 'dashboard', name: 'supervise-dashboard',
        component: () => import('./pages/supervise/Dashboard.vue') },
      { path: 'exports', name: 'supervise-exports', component: () => import('./pages/supervise/Exports.vue') },
      { path: `:type(${REVIEWED.map((kind) => kind.store).join('|')})/:id`, name: 'supervise-evidence',
        component: () => import('./pages/supervise/Evidence.vue') },
    ],
  },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory(), routes })

const messagesOf = (to) => [...new Set(to.matched.flatMap((record) => record.meta.messages || []))]

router.beforeEach((to) => {
  if (!to.meta.public && !session.signedIn) return { name: 'login', query: { next: to.fullPath } }
  // The server refuses these reads anyway; the screens are not offered to other roles.
  if (to.meta.roles && !session.hasRole(...to.meta.roles)) return { name: 'home' }
  // Fetched while the screen's own code loads (a failure is met again below).
  loadMessages(...messagesOf(to)).catch(() => {})
  return true
})

// The screen shows once its words are there (loadMessages fetches each part once).
router.beforeResolve((to) => loadMessages(...messagesOf(to)).then(() => true))

// The supervisor's screens are not precached (vite.config.js): without a network, and not
// yet in the browser's cache, their code cannot load. Say so rather than do nothing.
router.onError((error, to) => {
  if (to?.path?.startsWith('/supervise') && /import|fetch|module/i.test(String(error?.message))) {
    showFailToast(i18n.global.t('common.needsNetwork'))
  }
})
