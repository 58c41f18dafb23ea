/**
 * kubeconfig files, as kind handles them: the cluster's entries (cluster, user and context,
 * all named `clusterlab-NAME`) are merged into $KUBECONFIG's first file or ~/.kube/config,
 * the current context switched to them, and removed again by `down`. Other entries are kept.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { withFileLock } from '../../cluster/lock.js';
import { contextName } from '../../cluster/names.js';
import type { KubeAccess } from './host-api.js';

interface Named {
  name: string;
  [key: string]: unknown;
}

export interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  'current-context'?: string;
  preferences?: unknown;
  [key: string]: unknown;
}

/** The file kubectl would write to: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(path.delimiter).find((p) => p.trim() !== '');
  return first ?? path.join(env.HOME ?? os.homedir(), '.kube', 'config');
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A kubeconfig holding only this cluster (what `clusterlab kubeconfig` prints). */
export function clusterKubeconfig(cluster: string, access: KubeAccess): KubeconfigDoc {
  const name = contextName(cluster);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: access.server, 'certificate-authority-data': b64(access.caPem) } }],
    users: [{ name, user: { 'client-certificate-data': b64(access.certPem), 'client-key-data': b64(access.keyPem) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  };
}

function upsert(list: Named[] | undefined, entries: Named[] | undefined): Named[] {
  const names = new Set((entries ?? []).map((e) => e.name));
  return [...(list ?? []).filter((e) => !names.has(e.name)), ...(entries ?? [])];
}

/** `existing` with the cluster's entries added (or replaced) and its context made current. */
export function mergeKubeconfig(existing: KubeconfigDoc, addition: KubeconfigDoc): KubeconfigDoc {
  return {
    ...existing,
    apiVersion: existing.apiVersion ?? 'v1',
    kind: existing.kind ?? 'Config',
    clusters: upsert(existing.clusters, addition.clusters),
    users: upsert(existing.users, addition.users),
    contexts: upsert(existing.contexts, addition.contexts),
    'current-context': addition['current-context'] ?? existing['current-context'] ?? '',
  };
}

/** `existing` without the cluster's entries; the current context is cleared if it was theirs (as kind does). */
export function removeFromKubeconfig(existing: KubeconfigDoc, cluster: string): KubeconfigDoc {
  const name = contextName(cluster);
  const keep = (list: Named[] | undefined) => (list ?? []).filter((e) => e.name !== name);
  return {
    ...existing,
    clusters: keep(existing.clusters),
    users: keep(existing.users),
    contexts: keep(existing.contexts),
    'current-context': existing['current-context'] === name ? '' : (existing['current-context'] ?? ''),
  };
}

async function readDoc(file: string): Promise<KubeconfigDoc | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const doc = YAML.parse(text) as KubeconfigDoc | null;
  return doc ?? {};
}

/** Written beside the target and renamed over it: a crash never leaves half a kubeconfig. */
async function writeDoc(file: string, doc: KubeconfigDoc): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.clusterlab-${process.pid}`;
  await writeFile(temp, YAML.stringify(doc), { mode: 0o600 });
  await rename(temp, file);
}

/** Read, change and write the kubeconfig under its lock: two `up`s at once both keep their context. */
async function updateKubeconfig(file: string, change: (doc: KubeconfigDoc | undefined) => KubeconfigDoc | undefined): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await withFileLock(
    file,
    async () => {
      const changed = change(await readDoc(file));
      if (changed) await writeDoc(file, changed);
    },
    { waitMs: 10_000, busy: `another program is writing ${file} right now` },
  );
}

export async function installKubeconfig(cluster: string, access: KubeAccess, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = kubeconfigPath(env);
  await updateKubeconfig(file, (doc) => mergeKubeconfig(doc ?? {}, clusterKubeconfig(cluster, access)));
  return file;
}

/** Idempotent: nothing happens when the file or the entries are absent. */
export async function uninstallKubeconfig(cluster: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = kubeconfigPath(env);
  if (!existsSync(file)) return;
  const name = contextName(cluster);
  await updateKubeconfig(file, (doc) => {
    const present = doc && [doc.clusters, doc.users, doc.contexts].some((list) => (list ?? []).some((e) => e.name === name));
    return present ? removeFromKubeconfig(doc, cluster) : undefined;
  });
}
