import { fileURLToPath } from 'node:url';
import { defineConfig, type ProxyOptions } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const core = fileURLToPath(new URL('../core/src/index.ts', import.meta.url));

/** Where `npm run dev` sends API calls: a `rempart serve` on this machine unless told otherwise. */
const apiTarget = process.env['REMPART_DEV_API'] ?? 'http://127.0.0.1:8080';

// The server refuses state-changing requests and WebSocket upgrades from another origin
// (anti-forgery check). The dev server is that other origin, so the proxy drops the header;
// the CSRF token and SameSite=Strict cookie still apply. Never used by the production build.
const proxy: ProxyOptions = {
  target: apiTarget,
  ws: true,
  configure: (server) => {
    server.on('proxyReq', (request) => request.removeHeader('origin'));
    server.on('proxyReqWs', (request) => request.removeHeader('origin'));
  },
};

export default defineConfig({
  root,
  resolve: { alias: { '@rempart/core': core } },
  oxc: { jsx: { runtime: 'automatic' } },
  server: { proxy: { '/api': proxy, '/healthz': proxy } },
  preview: { proxy: { '/api': proxy, '/healthz': proxy } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2023',
    // The console is served under a strict CSP: nothing may be inlined into index.html.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
