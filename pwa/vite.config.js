import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'

// The supervisor's screens are used online, by a few people: their code (ECharts alone is
// ~180 KB gzipped) goes to assets/supervise/ and stays out of the precache, which every
// field phone downloads on install and on each update over 2G-4G.
const SUPERVISE_ONLY = [/\/src\/pages\/supervise\//, /\/src\/components\/supervise\//, /\/src\/(charts|evidence)\//,
  /\/src\/map\/(markers|style)\.js$/,
  /\/node_modules\/(echarts|zrender|tslib|leaflet\.markercluster)\//, /\/src\/api\/(areas|exports|geo|metrics|queue)\.js$/,
  /\/src\/i18n\/(supervise|evidence|review|dashboard)\.js$/]
const SUPERVISE_DIR = 'assets/supervise/'
const superviseOnly = (ids) => ids.length > 0 && ids.every((id) => SUPERVISE_ONLY.some((pattern) => pattern.test(id)))

/** Workbox manifest transform: drop the supervise chunks and the CSS that only they load. */
function withoutSupervisorScreens(entries) {
  const chunks = Object.entries(JSON.parse(readFileSync('dist/.vite/manifest.json', 'utf8')))
  // A chunk, or a style sheet imported on its own (Leaflet.markercluster's), of those screens.
  const isTheirs = ([source, chunk]) => chunk.file.startsWith(SUPERVISE_DIR) || superviseOnly([`/${source}`])
  const files = (list) => list.flatMap(([, chunk]) => [chunk.file, ...(chunk.css || [])])
  const theirs = new Set(files(chunks.filter(isTheirs)))
  const others = new Set(files(chunks.filter((entry) => !isTheirs(entry))))
  const dropped = (url) => url.startsWith(SUPERVISE_DIR) || (theirs.has(url) && !others.has(url))
  return { manifest: entries.filter((entry) => !dropped(entry.url)), warnings: [] }
}

// The Flask app serves dist/ at / under a CSP without 'unsafe-inline' or 'unsafe-eval':
// Vite must emit only external scripts and styles, and templates are compiled at build.
export default defineConfig({
  base: '/',
  define: {
    // vue-i18n: compile messages without eval (CSP), no legacy API, no devtools.
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __INTLIFY_JIT_COMPILATION__: true,
  },
  plugins: [
    // Vant's icon font comes inlined in its CSS (29 KB gzipped, on the first screen); it is
    // moved to its own file, loaded when an icon is drawn and precached like the rest. Its
    // fallback URL on a CDN would be a CSP violation (and a request to another origin).
    {
      name: 'vant-icon-font-file',
      enforce: 'pre',
      transform(code, id) {
        if (!/vant\/es\/icon\/index\.css/.test(id)) return null
        return code.replace(/,\s*url\(\/\/at\.alicdn\.com[^)]*\)\s*format\("woff"\)/, '')
      },
      generateBundle(_options, bundle) {
        const inline = /url\(data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)\)/
        for (const asset of Object.values(bundle)) {
          if (asset.type !== 'asset' || !asset.fileName.endsWith('.css')) continue
          const css = String(asset.source)
          const found = css.match(inline)
          if (!found) continue
          const reference = this.emitFile({ type: 'asset', name: 'vant-icon.woff2', source: Buffer.from(found[1], 'base64') })
          asset.source = css.replace(found[0], `url(/${this.getFileName(reference)})`)
        }
      },
    },
    vue(),
    // Vant components and their CSS are imported where used, not the whole library (~53 KB gz).
    Components({ resolvers: [VantResolver()], dts: false }),
    VitePWA({
      // An update waits for the user: an automatic reload would lose a half-filled form.
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        name: '走访',
        short_name: '走访',
        description: '基层走访、排查与整治的离线工作台',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: '#c8102e',
        background_color: '#ffffff',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,svg,ico,webmanifest,woff2}'],
        navigateFallback: '/index.html',
        // The API is never answered from the app-shell cache.
        navigateFallbackDenylist: [/^\/api\//],
        cleanupOutdatedCaches: true,
        // Background Sync, where the browser has it, wakes an open app to flush its outbox.
        importScripts: ['/sw-sync.js'],
        manifestTransforms: [withoutSupervisorScreens],
      },
    }),
  ],
  build: {
    outDir: 'dist',
    rollupOptions: {
      output: {
        chunkFileNames: (chunk) => `${superviseOnly(chunk.moduleIds) ? SUPERVISE_DIR : 'assets/'}[name]-[hash].js`,
      },
    },
    // Read by bench/pwa.py to tell the first screen's files from the rest.
    manifest: true,
    // The polyfill would be an inline <script>, which the CSP blocks.
    modulePreload: { polyfill: false },
  },
  // `npm run dev` talks to a backend started with `make run`.
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.js'],
    setupFiles: ['fake-indexeddb/auto'],
    // Branch and line coverage of src/, printed after the whole suite (docs/testing.md); no
    // threshold. A run of named files (the second time zone in `npm test`) would print a
    // partial report that reads like the whole, so it has none. The reports go to the
    // terminal; the working files to a directory of this run's own, so that two runs at
    // once on one checkout do not delete each other's.
    coverage: {
      enabled: !process.argv.slice(2).some((arg) => arg.endsWith('.test.js')),
      provider: 'v8',
      include: ['src/**/*.{js,vue}'],
      reporter: ['text-summary', 'text'],
      reportsDirectory: join(tmpdir(), `zoufang-pwa-coverage-${process.pid}`),
    },
  },
})
