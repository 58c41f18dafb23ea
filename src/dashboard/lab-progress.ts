/**
 * The running lab's progress, as the lab runner writes it to <state dir>/lab.json: read,
 * validated (the file is written by another process and may be half-written or from another
 * version) and watched.
 */
import { readFile, stat } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { clusterStateDir } from '../cluster/state.js';
import type { LabProgress } from './model.js';

const labProgressSchema = z.object({
  lab: z.string(),
  title: z.string(),
  engine: z.enum(['swarm', 'kube']),
  currentStep: z.string().optional(),
  steps: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      status: z.enum(['pending', 'passed', 'failed', 'skipped']),
      message: z.string().optional(),
      checkedAt: z.string().optional(),
    }),
  ),
  done: z.boolean(),
  updatedAt: z.string(),
});

export function labProgressFile(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(clusterStateDir(cluster, env), 'lab.json');
}

/** The progress in a file's text, or undefined when it is not (yet) a valid progress record. */
export function parseLabProgress(text: string): LabProgress | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = labProgressSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export async function readLabProgress(file: string): Promise<LabProgress | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseLabProgress(text);
}

/**
 * Calls `onChange` with the progress whenever the file changes, appears or goes away.
 * Polls the file's stat (fs.watchFile): unlike fs.watch it works while the file or its
 * folder does not exist yet, and survives the runner replacing the file by a rename.
 * Returns a function that stops watching.
 */
export function watchLabProgress(file: string, onChange: (progress: LabProgress | undefined) => void, intervalMs = 500): () => void {
  let last: string | undefined;
  let stopped = false;
  const check = async () => {
    const exists = await stat(file).then(() => true, () => false);
    const progress = exists ? await readLabProgress(file) : undefined;
    // A half-written file reads as invalid: keep what we had until it is whole.
    if (exists && progress === undefined) return;
    const key = JSON.stringify(progress ?? null);
    if (stopped || key === last) return;
    last = key;
    onChange(progress);
  };
  const listener = () => void check();
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  void check();
  return () => {
    stopped = true;
    unwatchFile(file, listener);
  };
}
