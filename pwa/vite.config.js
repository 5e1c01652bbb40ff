import { defineConfig } from 'vite'

// The Flask app serves dist/ at / under a CSP without 'unsafe-inline':
// Vite must emit only external scripts and styles.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    // The polyfill would be an inline <script>, which the CSP blocks.
    modulePreload: { polyfill: false },
  },
  // `npm run dev` talks to a backend started with `make run`.
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
})
