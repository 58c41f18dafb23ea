/**
 * Where labs come from: the bundled ones (labs/ of the package), folders named on
 * CLUSTERLAB_LABS_PATH (a trainer's own labs, ':'-separated), or a folder given as a path.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import { parseLab, type Lab } from './validate.js';

export const LAB_FILE = 'lab.yaml';

export function bundledLabsDir(): string {
  return path.join(packageRoot(), 'labs');
}

/** Folders that hold lab folders, bundled last so a trainer's lab may shadow a bundled one. */
export function labRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.CLUSTERLAB_LABS_PATH ?? '').split(path.delimiter).filter((p) => p.trim() !== '');
  return [...extra.map((p) => path.resolve(p)), bundledLabsDir()];
}

/** Reads and validates the lab in a folder. */
export async function loadLabDir(dir: string): Promise<Lab> {
  const file = path.join(dir, LAB_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`no lab in ${dir}: cannot read ${LAB_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      hint: 'a lab is a folder with a lab.yaml; see `clusterlab lab ls` for the bundled ones',
      cause: err,
    });
  }
  const shown = path.relative(process.cwd(), file);
  return parseLab(text, shown.startsWith('..') ? file : shown, { dir, file, folderName: path.basename(dir) });
}

function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || ref.startsWith('.');
}

/** The folder of a lab named `ref` (a bundled name, a name on CLUSTERLAB_LABS_PATH, or a path). */
export async function findLabDir(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (looksLikePath(ref)) {
    const dir = path.resolve(ref.endsWith(LAB_FILE) ? path.dirname(ref) : ref);
    if (existsSync(path.join(dir, LAB_FILE))) return dir;
    throw new UserError(`no ${LAB_FILE} in ${dir}`, { hint: 'give the folder of a lab, or the name of a bundled lab (clusterlab lab ls)' });
  }
  for (const root of labRoots(env)) {
    const dir = path.join(root, ref);
    if (existsSync(path.join(dir, LAB_FILE))) return dir;
  }
  const known = (await listLabDirs(env)).map((d) => path.basename(d));
  throw new UserError(`no lab named "${ref}"`, {
    hint: known.length ? `labs: ${known.join(', ')} (clusterlab lab ls), or give the path of a lab folder` : 'give the path of a lab folder',
  });
}

export async function loadLab(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  return loadLabDir(await findLabDir(ref, env));
}

/** Lab folders of every root, the first root's lab winning a name that appears twice. */
export async function listLabDirs(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const seen = new Map<string, string>();
  for (const root of labRoots(env)) {
    let entries: string[];
    try {
      entries = await readdir(root);
    } catch {
      continue;
    }
    for (const entry of entries.sort()) {
      const dir = path.join(root, entry);
      if (seen.has(entry)) continue;
      const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
      if (isDir && existsSync(path.join(dir, LAB_FILE))) seen.set(entry, dir);
    }
  }
  return [...seen.values()].sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
}
