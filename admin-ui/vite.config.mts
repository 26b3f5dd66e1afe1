/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The admin UI is served by the Switchyard server under /admin (src/modules/admin-ui); hashed
// assets land in dist/assets and are cached for a year, index.html is revalidated on each load.
// `npm run admin:dev` proxies the admin API to a server on SWITCHYARD_URL (default :3000).
export default defineConfig({
  root,
  base: '/admin/',
  plugins: [react(), tailwindcss()],
  resolve: { alias: { '@': `${root}src` } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/admin/api': process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:3000' },
  },
  test: {
    root,
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    css: false,
    restoreMocks: true,
  },
});
