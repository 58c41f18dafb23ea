/**
 * Watches: a chunked stream of newline-delimited JSON WatchEvents over a store watch.
 * From a resourceVersion (resume) or, without one, the current state as ADDED events first;
 * selectors applied with transitions (an object that stops matching is sent as DELETED);
 * BOOKMARKs when asked for; an ERROR event with a 410 Expired Status when the revision is
 * compacted; the stream ends after timeoutSeconds.
 */
import type { ServerResponse } from 'node:http';
import { StoreCompactedError, type Store, type StoreWatchEvent } from '../store/store.js';
import type { ResponseForm } from './negotiation.js';
import { decodeObject, objectFilter, toStatusError } from './objects.js';
import { renderObject, type IncludeObject } from './render.js';
import { collectionPrefix, groupVersionOf, type ResourceType } from './resources.js';
import { badRequest, expired, internalError, serviceUnavailable, type ApiStatusError } from './status.js';
import type { KubeObject } from './strategy.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchParams {
  res: ResourceType;
  namespace?: string;
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
  form: ResponseForm;
  includeObject?: IncludeObject;
}

export interface WatchDeps {
  store: Store;
  log: (line: string) => void;
  bookmarkIntervalMs?: number;
}

/** kube's default: between 30 and 60 minutes, so that clients do not all re-list at once. */
export function defaultWatchTimeoutSeconds(random: () => number = Math.random): number {
  return Math.floor(1800 * (1 + random()));
}

const DEFAULT_BOOKMARK_INTERVAL_MS = 30_000;

/**
 * What a store change means to a watcher with a selector: ADDED when the object starts
 * matching, MODIFIED while it matches, DELETED when it is deleted or stops matching.
 */
export function classifyWatchEvent(
  event: StoreWatchEvent,
  matches: (obj: KubeObject) => boolean,
): { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject } | undefined {
  const rv = String(event.modRevision);
  const withRv = (value: string): KubeObject => {
    const obj = JSON.parse(value) as KubeObject;
    obj.metadata = { ...obj.metadata, resourceVersion: rv };
    return obj;
  };
  if (event.type === 'delete') {
    const obj = withRv(event.value);
    return matches(obj) ? { type: 'DELETED', object: obj } : undefined;
  }
  const obj = withRv(event.value);
  const now = matches(obj);
  const before = event.prevValue !== undefined && !event.created ? matches(withRv(event.prevValue)) : false;
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: obj };
  return before ? { type: 'DELETED', object: obj } : undefined;
}

/** Parses a watch's resourceVersion: undefined = "now, with the current state first". */
export function parseWatchRevision(resourceVersion: string | undefined): number | undefined {
  if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') return undefined;
  if (!/^\d+$/.test(resourceVersion)) throw badRequest(`resourceVersion: Invalid value: "${resourceVersion}": must be a non-negative integer`);
  return Number(resourceVersion);
}

export async function serveWatch(resp: ServerResponse, params: WatchParams, deps: WatchDeps): Promise<void> {
  const { res } = params;
  const matches = objectFilter(res, params);
  const requested = parseWatchRevision(params.resourceVersion);
  const prefix = collectionPrefix(res, params.namespace);

  let initial: KubeObject[] = [];
  let startRevision: number;
  if (requested === undefined) {
    const list = await deps.store.list(prefix).catch((err: unknown) => {
      throw toStatusError(err, res, '');
    });
    startRevision = list.revision;
    initial = list.items.map(decodeObject).filter(matches);
  } else {
    startRevision = requested;
  }

  resp.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  resp.flushHeaders();

  let lastRevision = startRevision;
  let ended = false;
  const render = (obj: KubeObject) => renderObject(params.form, res, { apiVersion: groupVersionOf(res), kind: res.kind, ...obj }, { includeObject: params.includeObject ?? 'Object' });
  const send = (type: WatchEventType, object: object) => {
    if (!ended) resp.write(`${JSON.stringify({ type, object })}\n`);
  };

  for (const obj of initial) send('ADDED', render(obj));

  const timers: NodeJS.Timeout[] = [];
  let storeWatch: { close(): void } | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    for (const t of timers) clearTimeout(t);
    storeWatch?.close();
    resp.end();
  };
  const fail = (status: ApiStatusError) => {
    send('ERROR', status.status);
    end();
  };

  storeWatch = deps.store.watch(
    prefix,
    startRevision,
    (event) => {
      if (ended) return;
      lastRevision = event.modRevision;
      try {
        const change = classifyWatchEvent(event, matches);
        if (change) send(change.type, render(change.object));
      } catch (err) {
        deps.log(`watch ${prefix}: bad stored value at ${event.key}: ${String(err)}`);
      }
    },
    (err) => {
      if (err instanceof StoreCompactedError) fail(expired(`too old resource version: ${err.requested} (${err.compactRevision})`));
      else if (err.name === 'StoreUnavailableError') fail(serviceUnavailable(`the storage is unavailable: ${err.message}`));
      else fail(internalError(err.message));
    },
  );

  const timeoutSeconds = params.timeoutSeconds ?? defaultWatchTimeoutSeconds();
  timers.push(setTimeout(end, timeoutSeconds * 1000));
  if (params.allowWatchBookmarks) {
    const every = deps.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
    // clearTimeout also clears intervals in Node.
    timers.push(setInterval(() => send('BOOKMARK', bookmarkObject(params, lastRevision)), every));
  }
  // The response closes when the client goes away (req's 'close' only means its body was read).
  resp.on('close', end);
}

function bookmarkObject(params: WatchParams, revision: number): object {
  const metadata = { resourceVersion: String(revision) };
  if (params.form.as === 'Table') {
    return { kind: 'Table', apiVersion: params.form.apiVersion, metadata, columnDefinitions: [], rows: [] };
  }
  return { kind: params.res.kind, apiVersion: groupVersionOf(params.res), metadata };
}
