// Build, dev server and test configuration for the Doorstep PWA.
//
// The service worker precaches the app shell only (JS, CSS, HTML, icons, manifest).
// Patient data lives in IndexedDB; /api/ is never cached and never answered with the
// index.html fallback. push-sw.js (hand-written, in public/) is imported into the
// generated worker for Web Push.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  define: {
    // Identifies this release (a 426 "update required" is remembered per build).
    __BUILD_ID__: JSON.stringify(process.env.DOORSTEP_BUILD_ID || new Date().toISOString()),
    // Encryption at rest is always on; DOORSTEP_ENCRYPTION=off only for bench/browser_first_sync.py.
    __ENCRYPTION__: JSON.stringify(process.env.DOORSTEP_ENCRYPTION !== 'off'),
  },
  plugins: [
    preact(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'auto', // writes registerSW.js as a file: no inline script (CSP)
      includeManifestIcons: false, // the glob below already precaches public/
      manifest: {
        name: 'Doorstep community care',
        short_name: 'Doorstep',
        description: 'Home visits, falls assessments, goals and reminders, offline first.',
        lang: 'en-GB',
        dir: 'ltr',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        theme_color: '#005eb8',
        background_color: '#ffffff',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/api(\/|$)/],
        importScripts: ['/push-sw.js'],
        skipWaiting: true,
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        runtimeCaching: [], // data is never cached by the worker: it lives in IndexedDB
      },
    }),
  ],
  server: {
    proxy: { '/api': 'http://127.0.0.1:5000' },
  },
  build: {
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    include: ['tests/**/*.test.{js,jsx}', 'src/**/*.test.js'],
    environment: 'node',
    setupFiles: ['tests/setup.js'],
  },
});
