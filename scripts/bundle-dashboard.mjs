#!/usr/bin/env node
// Builds the dashboard's page: src/dashboard/page/{app.ts,app.css,index.html} ->
// dist/dashboard/page/ (beside tsc's output of the server side), served by `clusterlab dashboard` from the package (no CDN, works offline).
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pageDir = path.join(root, 'src', 'dashboard', 'page');
const outDir = path.join(root, 'dist', 'dashboard', 'page');

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const started = Date.now();
await build({
  entryPoints: [path.join(pageDir, 'app.ts'), path.join(pageDir, 'app.css')],
  outdir: outDir,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  // Browsers of the last few years, including the Chromium the e2e test drives.
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(path.join(pageDir, 'index.html'), path.join(outDir, 'index.html'));
console.log(`bundle-dashboard: dist/dashboard/page/{index.html,app.js,app.css} (${Date.now() - started} ms)`);
