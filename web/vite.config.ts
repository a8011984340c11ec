// Vite build of the dashboard. The output (dist/) is embedded into the jarvis
// binary by cmake/JarvisDashboard.cmake and served by `jarvis serve` at "/":
// every file keeps a content-hashed name under assets/ (served with a
// year-long cache), and nothing is loaded from outside the server (no CDN).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsInlineLimit: 0, // no data: URLs: every asset is a file with its own content type
    modulePreload: { polyfill: false }, // no inline polyfill; the page is one module anyway
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` serves the page with hot reload and forwards the API to a
    // running `jarvis serve` (JARVIS_URL, default http://127.0.0.1:5050).
    proxy: Object.fromEntries(
      ['/api', '/v1', '/metrics', '/health'].map((p) => [p, process.env.JARVIS_URL ?? 'http://127.0.0.1:5050']),
    ),
  },
});
