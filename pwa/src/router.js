// The explicit route table: every screen of the field app.
import { createRouter, createWebHistory } from 'vue-router'
import { session } from './session.js'

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
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach((to) => {
  if (!to.meta.public && !session.signedIn) return { name: 'login', query: { next: to.fullPath } }
  return true
})
