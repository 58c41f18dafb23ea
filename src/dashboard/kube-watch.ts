/**
 * One Kubernetes watch stream (GET …?watch=true): newline-delimited JSON events, as
 * client-go reads them. Resolves when the server ends the stream (its timeout) or the signal
 * aborts; rejects when the connection fails. An ERROR event (410 Gone: the resourceVersion
 * is too old) is passed on like any other: the caller lists again.
 */
import https from 'node:https';
import type { KubeAccess } from '../engines/kube/host-api.js';
import { jsonLineSplitter } from './json-lines.js';

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export function watchUrl(collection: string, resourceVersion: string | undefined): string {
  const params = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '300' });
  if (resourceVersion) params.set('resourceVersion', resourceVersion);
  return `${collection}?${params}`;
}

export function kubeWatch<T>(access: KubeAccess, collection: string, resourceVersion: string | undefined, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return resolve();
    const req = https.request(new URL(watchUrl(collection, resourceVersion), access.server), {
      method: 'GET',
      ca: access.caPem,
      cert: access.certPem,
      key: access.keyPem,
      headers: { Accept: 'application/json', 'User-Agent': 'clusterlab-dashboard' },
    });
    const onAbort = () => req.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      if (err && !signal.aborted) reject(err);
      else resolve();
    };
    req.on('response', (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        res.resume();
        return finish(new Error(`watch ${collection}: HTTP ${res.statusCode}`));
      }
      const split = jsonLineSplitter<WatchEvent<T>>(onEvent);
      res.on('data', split);
      res.on('end', () => finish());
      res.on('error', (e) => finish(e));
    });
    req.on('error', (e) => finish(e));
    req.end();
  });
}
