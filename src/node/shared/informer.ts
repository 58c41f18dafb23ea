/**
 * An Informer keeps a local copy of a collection: list, then watch from the list's
 * resourceVersion, resuming a dropped watch from the last version it saw and re-listing
 * when that version is gone (410). Handlers see add/update/delete against the cache,
 * including the adds of the first list.
 */
import type { ObjectMeta, Status } from 'kubernetes-types/meta/v1.js';
import type { ApiClient, WatchEventType } from './api-client.js';
import { isGone } from './api-error.js';

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Where failures to list or watch are reported (they are retried, never thrown). */
  log?: (line: string) => void;
}

/** Retry delays: never below the minimum (no tight loop), doubling while failures come quickly. */
export const INFORMER_RETRY = { minMs: 200, maxMs: 10_000, healthyAfterMs: 10_000 } as const;

/**
 * The delay before the next list or watch after one ended.
 * @param previousMs the delay used last time (0 at first)
 * @param ranForMs how long the watch that just ended had been running (0 for a failed list)
 */
export function nextRetryDelay(previousMs: number, ranForMs: number): number {
  if (ranForMs >= INFORMER_RETRY.healthyAfterMs) return INFORMER_RETRY.minMs;
  return Math.min(Math.max(previousMs * 2, INFORMER_RETRY.minMs), INFORMER_RETRY.maxMs);
}

/** The cache key of an object: 'namespace/name', or 'name' for cluster-scoped objects. */
export function objectKey(obj: { metadata?: ObjectMeta }): string {
  const namespace = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return namespace ? `${namespace}/${name}` : name;
}

export class Informer<T extends { metadata?: ObjectMeta }> {
  private readonly cache = new Map<string, T>();
  private readonly addHandlers: ((obj: T) => void)[] = [];
  private readonly updateHandlers: ((obj: T, old: T) => void)[] = [];
  private readonly deleteHandlers: ((obj: T) => void)[] = [];
  private resourceVersion = '';
  private retryDelayMs = 0;
  private watchStartedAt = 0;
  private activeWatch: { stop(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private startPromise: Promise<void> | undefined;
  private settleStart: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(
    private readonly client: ApiClient,
    private readonly path: string,
    private readonly opts: InformerOptions = {},
  ) {}

  onAdd(fn: (obj: T) => void): this {
    this.addHandlers.push(fn);
    return this;
  }

  onUpdate(fn: (obj: T, old: T) => void): this {
    this.updateHandlers.push(fn);
    return this;
  }

  onDelete(fn: (obj: T) => void): this {
    this.deleteHandlers.push(fn);
    return this;
  }

  /** Resolves once the first list is in the cache (retrying until then); rejects if stopped first. */
  start(): Promise<void> {
    this.startPromise ??= new Promise<void>((resolve, reject) => {
      this.settleStart = { resolve, reject };
      void this.relist();
    });
    return this.startPromise;
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** The resourceVersion the watch resumes from (tests, diagnostics). */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.activeWatch?.stop();
    this.activeWatch = undefined;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.settleStart?.reject(new Error(`informer for ${this.path} stopped before its first list`));
    this.settleStart = undefined;
  }

  private async relist(): Promise<void> {
    this.retryTimer = undefined;
    try {
      const result = await this.client.list<T>(this.path, { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, limit: 500 });
      if (this.stopped) return;
      this.replaceAll(result.items);
      this.resourceVersion = result.metadata.resourceVersion;
      this.settleStart?.resolve();
      this.settleStart = undefined;
      this.startWatch();
    } catch (err) {
      if (this.stopped) return;
      this.log(`list ${this.path} failed: ${(err as Error).message}`);
      this.retryLater(0, () => void this.relist());
    }
  }

  private startWatch(): void {
    this.watchStartedAt = Date.now();
    this.activeWatch = this.client.watch<T | Status>(
      this.path,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector },
      (type, object) => this.handleEvent(type, object),
      (err) => this.watchEnded(err),
    );
  }

  private handleEvent(type: WatchEventType, object: T | Status): void {
    if (type === 'ERROR') {
      const status = object as Status;
      this.activeWatch?.stop();
      const gone = status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone';
      this.watchEnded(gone ? Object.assign(new Error(status.message ?? 'watch expired'), { gone: true }) : new Error(status.message ?? 'watch error'));
      return;
    }
    const obj = object as T;
    const version = obj.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (type === 'BOOKMARK') return;
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit(this.deleteHandlers, (fn) => fn(obj));
      return;
    }
    this.cache.set(key, obj);
    if (old === undefined) this.emit(this.addHandlers, (fn) => fn(obj));
    else this.emit(this.updateHandlers, (fn) => fn(obj, old));
  }

  private watchEnded(err?: Error): void {
    this.activeWatch = undefined;
    if (this.stopped) return;
    const ranForMs = Date.now() - this.watchStartedAt;
    const gone = isGone(err) || (err as { gone?: boolean } | undefined)?.gone === true;
    if (err !== undefined) this.log(`watch ${this.path} ended: ${err.message}${gone ? ' (re-listing)' : ''}`);
    this.retryLater(ranForMs, gone ? () => void this.relist() : () => this.startWatch());
  }

  private retryLater(ranForMs: number, action: () => void): void {
    this.retryDelayMs = nextRetryDelay(this.retryDelayMs, ranForMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) action();
    }, this.retryDelayMs);
  }

  /** Makes the cache equal to a fresh list, telling handlers what changed. */
  private replaceAll(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (old === undefined) this.emit(this.addHandlers, (fn) => fn(obj));
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit(this.updateHandlers, (fn) => fn(obj, old));
    }
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit(this.deleteHandlers, (fn) => fn(old));
    }
  }

  private emit<H>(handlers: H[], call: (handler: H) => void): void {
    for (const handler of handlers) {
      try {
        call(handler);
      } catch (err) {
        // A failing handler must not break the cache or the other handlers.
        this.log(`handler for ${this.path} threw: ${(err as Error).message}`);
      }
    }
  }

  private log(line: string): void {
    this.opts.log?.(`informer: ${line}`);
  }
}
