#!/usr/bin/env node
// Bundles the code that runs inside nodes: src/node/<role>/main.ts -> dist/node/<role>.js,
// one self-contained file per role, for the node image's Node.js (Debian bookworm: v18).
// CommonJS, because the file is copied alone into /opt/clusterlab with no package.json
// beside it: Node 18 reads a lone .js file as CommonJS.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'src', 'node');
const outDir = path.join(root, 'dist', 'node');

const roles = readdirSync(srcDir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(path.join(srcDir, e.name, 'main.ts')))
  .map((e) => e.name)
  .sort();
if (roles.length === 0) {
  console.error(`bundle-node: no src/node/<role>/main.ts found under ${srcDir}`);
  process.exit(1);
}

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const started = Date.now();
await build({
  entryPoints: Object.fromEntries(roles.map((role) => [role, path.join(srcDir, role, 'main.ts')])),
  outdir: outDir,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
console.log(`bundle-node: ${roles.map((r) => `dist/node/${r}.js`).join(', ')} (${Date.now() - started} ms)`);
