import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';

export async function version(): Promise<number> {
  const pkg = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  process.stdout.write(`clusterlab ${pkg.version} (node ${process.version})\n`);
  return 0;
}
