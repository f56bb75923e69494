import { defineConfig } from 'vite';

/**
 * The web app, built into web/dist and served at `/` by the local runtime and from S3 behind
 * CloudFront in AWS. Vite's own transform compiles the JSX (React's automatic runtime), so no
 * plugin is needed for a build; nothing loads from a CDN, as the runtime works offline.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  oxc: { jsx: { runtime: 'automatic' } },
});
