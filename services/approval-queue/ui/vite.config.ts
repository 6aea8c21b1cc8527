import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The reviewers' page: plain TypeScript and DOM, no framework. Built to `ui/dist`, which the
 * approval-queue serves at `/`; `base: './'` keeps asset URLs relative so the page also works
 * behind a path prefix.
 */
export default defineConfig({
  root,
  base: './',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npx vite --config services/approval-queue/ui/vite.config.ts` proxies the API to a local queue.
    proxy: { '/api': process.env['APPROVAL_QUEUE_URL'] ?? 'http://127.0.0.1:8081' },
  },
});
