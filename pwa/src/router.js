// The explicit route table: every screen of the field app.
import { showFailToast } from 'vant'
import { createRouter, createWebHistory } from 'vue-router'
import { i18n, loadSuperviseMessages } from './i18n/index.js'
import { REVIEWED } from './kinds.js'
import { session } from './session.js'

export const SUPERVISORS = ['supervisor', 'admin']

const routes = [
  { path: '/login', name: 'login', component: () => import('./pages/auth/Login.vue'), meta: { public: true } },
  { path: '/', name: 'home', component: () => import('./pages/Home.vue') },
  { path: '/households', name: 'households', component: () => import('./pages/households/Households.vue') },
  { path: '/households/new', name: 'household-new', component: () => import('./pages/households/HouseholdForm.vue') },
  { path: '/households/:id', name: 'household', component: () => import('./pages/households/HouseholdDetail.vue') },
  { path: '/households/:id/edit', name: 'household-edit',
    component: () => import('./pages/households/HouseholdForm.vue') },
  { path: '/visits/new', name: 'visit-new', component: () => import('./pages/visits/VisitForm.vue') },
  { path: '/visits/:id', name: 'visit-edit', component: () => import('./pages/visits/VisitForm.vue') },
  { path: '/hotspots', name: 'hotspots', component: () => import('./pages/hotspots/Hotspots.vue') },
  { path: '/hotspots/:id', name: 'hotspot', component: () => import('./pages/hotspots/HotspotDetail.vue') },
  { path: '/inspections/new', name: 'inspection-new',
    component: () => import('./pages/hotspots/InspectionForm.vue') },
  { path: '/inspections/:id', name: 'inspection-edit',
    component: () => import('./pages/hotspots/InspectionForm.vue') },
  { path: '/records', name: 'records', component: () => import('./pages/records/Records.vue') },
  { path: '/sync', name: 'sync', component: () => import('./pages/sync/Sync.vue') },
  { path: '/settings', name: 'settings', component: () => import('./pages/settings/Settings.vue') },
  // The supervisor's workspace: read from the server, so it needs the network.
  {
    path: '/supervise',
    component: () => Promise.all([import('./pages/supervise/SuperviseLayout.vue'), loadSuperviseMessages()])
      .then(([layout]) => layout),
    meta: { roles: SUPERVISORS },
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

router.beforeEach((to) => {
  if (!to.meta.public && !session.signedIn) return { name: 'login', query: { next: to.fullPath } }
  // The server refuses these reads anyway; the screens are not offered to other roles.
  if (to.meta.roles && !session.hasRole(...to.meta.roles)) return { name: 'home' }
  return true
})

// The supervisor's screens are not precached (vite.config.js): without a network, and not
// yet in the browser's cache, their code cannot load. Say so rather than do nothing.
router.onError((error, to) => {
  if (to?.path?.startsWith('/supervise') && /import|fetch|module/i.test(String(error?.message))) {
    showFailToast(i18n.global.t('common.needsNetwork'))
  }
})
