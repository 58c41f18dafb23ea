import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The package root (where package.json, images/ and labs/ are), found from this module's
 * location so it works from src/ (tests) and dist/ (the built CLI) alike.
 */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function imagesDir(): string {
  return path.join(packageRoot(), 'images');
}

/** Bundled node code (esbuild output of src/node/*), copied into nodes at `up`. */
export function nodeBundleDir(): string {
  return path.join(packageRoot(), 'dist', 'node');
}
