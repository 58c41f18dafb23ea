import os from 'node:os';
import path from 'node:path';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';

/**
 * Local files: a cache of what the engine's labels say, plus the credentials the host
 * needs (the client certificate of a cluster's TLS Docker endpoint). Every piece can be
 * rebuilt from the cluster itself (the managers hold the CA and client certificate), so
 * `status` and `down` never depend on these files.
 *
 * Layout: $CLUSTERLAB_HOME (default ~/.clusterlab)
 *   clusters/<name>/docker/{ca,cert,key}.pem   DOCKER_CERT_PATH for `clusterlab env`
 *   locks/<name>.lock                          held while a command changes the cluster
 *   engines/<engine id>.json                   what was detected about an engine (run mode)
 */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLUSTERLAB_HOME ?? path.join(os.homedir(), '.clusterlab');
}

export function clusterStateDir(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'clusters', cluster);
}

export function dockerCertDir(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(clusterStateDir(cluster, env), 'docker');
}

export function locksDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'locks');
}

export async function removeClusterState(cluster: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await rm(clusterStateDir(cluster, env), { recursive: true, force: true });
}

/** Reads a JSON cache file; undefined when absent or unreadable (it is only a cache). */
export async function readJsonCache<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function writeJsonCache(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

export function engineCacheFile(engineId: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'engines', `${engineId.replace(/[^A-Za-z0-9_-]/g, '_') || 'default'}.json`);
}
