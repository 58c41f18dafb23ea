/**
 * An in-memory Store with etcd's revision semantics, for tests (the node uses EtcdStore).
 *
 * Revisions follow etcd: an empty store is at revision 1, every write adds one. History is
 * kept as a log of changes so watches can start in the past and lists can read at an older
 * revision, until compact() drops it.
 */

import {
  StoreCompactedError,
  StoreConflictError,
  StoreKeyExistsError,
  StoreKeyNotFoundError,
  StoreUnavailableError,
  type ListResult,
  type Store,
  type StoredValue,
  type StoreWatch,
  type StoreWatchEvent,
} from './store.js';

/** One write in the log: what the key held before (undefined: absent) and after (undefined: deleted). */
interface Change {
  revision: number;
  key: string;
  before: StoredValue | undefined;
  after: StoredValue | undefined;
}

interface Watcher {
  prefix: string;
  onEvent: (event: StoreWatchEvent) => void;
  onError: (err: Error) => void;
  /** Events waiting for delivery; delivered asynchronously, in order. */
  queue: StoreWatchEvent[];
  scheduled: boolean;
  closed: boolean;
}

export class MemoryStore implements Store {
  private current = new Map<string, StoredValue>();
  private log: Change[] = [];
  private currentRevision = 1;
  /** Oldest revision still readable; revisions below it are gone (etcd's compact revision). */
  private compactRevision = 0;
  private watchers = new Set<Watcher>();
  private closed = false;

  async get(key: string): Promise<StoredValue | undefined> {
    this.assertOpen();
    const found = this.current.get(key);
    return found && { ...found };
  }

  async list(
    prefix: string,
    options: { limit?: number; continueAfter?: string; revision?: number } = {},
  ): Promise<ListResult & { more: boolean }> {
    this.assertOpen();
    const revision = options.revision ?? this.currentRevision;
    const state = this.stateAt(revision);
    const keys = [...state.keys()]
      .filter((key) => key.startsWith(prefix) && (options.continueAfter === undefined || key > options.continueAfter))
      .sort();
    const limit = options.limit && options.limit > 0 ? options.limit : keys.length;
    const page = keys.slice(0, limit);
    return {
      items: page.map((key) => ({ ...(state.get(key) as StoredValue) })),
      revision,
      more: keys.length > page.length,
    };
  }

  async create(key: string, value: string): Promise<number> {
    this.assertOpen();
    if (this.current.has(key)) throw new StoreKeyExistsError(key);
    const revision = this.currentRevision + 1;
    this.write(key, { key, value, modRevision: revision, createRevision: revision });
    return revision;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<number> {
    this.assertOpen();
    const existing = this.current.get(key);
    if (!existing) throw new StoreKeyNotFoundError(key);
    if (existing.modRevision !== expectedModRevision) throw new StoreConflictError(key, { ...existing });
    const revision = this.currentRevision + 1;
    this.write(key, { key, value, modRevision: revision, createRevision: existing.createRevision });
    return revision;
  }

  async delete(key: string, expectedModRevision?: number): Promise<StoredValue> {
    this.assertOpen();
    const existing = this.current.get(key);
    if (!existing) throw new StoreKeyNotFoundError(key);
    if (expectedModRevision !== undefined && existing.modRevision !== expectedModRevision) {
      throw new StoreConflictError(key, { ...existing });
    }
    const revision = this.currentRevision + 1;
    this.write(key, undefined);
    return { ...existing, modRevision: revision };
  }

  watch(
    prefix: string,
    afterRevision: number,
    onEvent: (event: StoreWatchEvent) => void,
    onError: (err: Error) => void,
  ): StoreWatch {
    const watcher: Watcher = { prefix, onEvent, onError, queue: [], scheduled: false, closed: false };
    const handle: StoreWatch = {
      close: () => {
        watcher.closed = true;
        this.watchers.delete(watcher);
      },
    };
    if (this.closed) {
      this.failLater(watcher, new StoreUnavailableError('store is closed'));
      return handle;
    }
    // Like etcd: the watch starts at afterRevision + 1, which must not be compacted away.
    if (afterRevision + 1 < this.compactRevision) {
      this.failLater(watcher, new StoreCompactedError(afterRevision, this.compactRevision));
      return handle;
    }
    for (const change of this.log) {
      if (change.revision > afterRevision && change.key.startsWith(prefix)) watcher.queue.push(toEvent(change));
    }
    this.watchers.add(watcher);
    this.schedule(watcher);
    return handle;
  }

  async revision(): Promise<number> {
    this.assertOpen();
    return this.currentRevision;
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    if (revision > this.currentRevision) {
      throw new Error(`cannot compact to revision ${revision}: the store is at ${this.currentRevision}`);
    }
    // Compacting to an already compacted revision changes nothing (etcd would say "compacted").
    if (revision <= this.compactRevision) return;
    this.compactRevision = revision;
    // Changes at or below the compact revision are no longer needed to rebuild any readable revision.
    this.log = this.log.filter((change) => change.revision > revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const watcher of this.watchers) watcher.closed = true;
    this.watchers.clear();
  }

  private write(key: string, after: StoredValue | undefined): void {
    const before = this.current.get(key);
    this.currentRevision += 1;
    if (after) this.current.set(key, after);
    else this.current.delete(key);
    const change: Change = { revision: this.currentRevision, key, before, after };
    this.log.push(change);
    for (const watcher of this.watchers) {
      if (!key.startsWith(watcher.prefix)) continue;
      watcher.queue.push(toEvent(change));
      this.schedule(watcher);
    }
  }

  /** The key space as it was at revision: the current one with later changes undone. */
  private stateAt(revision: number): Map<string, StoredValue> {
    if (revision < this.compactRevision) throw new StoreCompactedError(revision, this.compactRevision);
    if (revision > this.currentRevision) {
      throw new Error(`revision ${revision} is in the future (the store is at ${this.currentRevision})`);
    }
    if (revision === this.currentRevision) return this.current;
    const state = new Map(this.current);
    for (let i = this.log.length - 1; i >= 0; i--) {
      const change = this.log[i] as Change;
      if (change.revision <= revision) break;
      if (change.before) state.set(change.key, change.before);
      else state.delete(change.key);
    }
    return state;
  }

  private schedule(watcher: Watcher): void {
    if (watcher.scheduled || watcher.queue.length === 0) return;
    watcher.scheduled = true;
    setImmediate(() => {
      watcher.scheduled = false;
      while (!watcher.closed && watcher.queue.length > 0) {
        watcher.onEvent(watcher.queue.shift() as StoreWatchEvent);
      }
    });
  }

  private failLater(watcher: Watcher, err: Error): void {
    setImmediate(() => {
      if (!watcher.closed) {
        watcher.closed = true;
        watcher.onError(err);
      }
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('store is closed');
  }
}

function toEvent(change: Change): StoreWatchEvent {
  if (change.after) {
    const event: StoreWatchEvent = {
      type: 'put',
      key: change.key,
      value: change.after.value,
      modRevision: change.revision,
      created: change.after.createRevision === change.revision,
    };
    if (change.before) event.prevValue = change.before.value;
    return event;
  }
  return {
    type: 'delete',
    key: change.key,
    value: change.before?.value ?? '',
    modRevision: change.revision,
    created: false,
  };
}
