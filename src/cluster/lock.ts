import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { UserError } from '../common/errors.js';
import { locksDir } from './state.js';

/**
 * Runs `fn` holding the cluster's lock, so two commands that change one cluster never
 * interleave.
 */
export async function withClusterLock<T>(cluster: string, fn: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
  const dir = locksDir();
  await mkdir(dir, { recursive: true });
  return withFileLock(path.join(dir, cluster), fn, {
    waitMs: options.waitMs ?? 5_000,
    busy: `another clusterlab command is changing cluster "${cluster}" right now`,
  });
}

/**
 * Runs `fn` holding `<target>.lock`, the lock client-go and kind also take before they
 * rewrite a kubeconfig. A lock left by a killed process goes stale after 30 s
 * (proper-lockfile keeps fresh locks alive by touching them).
 */
export async function withFileLock<T>(target: string, fn: () => Promise<T>, options: { waitMs: number; busy: string }): Promise<T> {
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, {
      realpath: false,
      stale: 30_000,
      update: 5_000,
      retries: { retries: Math.max(1, Math.ceil(options.waitMs / 250)), factor: 1, minTimeout: 250, maxTimeout: 250 },
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') {
      throw new UserError(options.busy, { hint: 'wait for it to finish and try again', cause: err });
    }
    throw err;
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
