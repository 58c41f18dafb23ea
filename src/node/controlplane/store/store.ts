/**
 * The API server's storage contract: a key-value store with revisions, as etcd v3 gives it
 * (and as kube-apiserver uses it; kine shows the minimal set).
 *
 * - Every write bumps the store's revision; an object's resourceVersion is the revision of
 *   its last write (modRevision), a list's resourceVersion the store revision it was read at.
 * - create succeeds only if the key is absent; update and delete only if the key's
 *   modRevision still equals the one the caller read (optimistic concurrency).
 * - watch streams every change under a prefix after a revision, in order; a revision that
 *   was compacted away fails with StoreCompactedError (the API answers 410 Gone).
 *
 * Keys follow kube-apiserver: /registry/<resource>/<namespace>/<name> (cluster-scoped:
 * /registry/<resource>/<name>). Values are the objects' JSON text.
 *
 * Implementations: EtcdStore (etcd's v3 JSON gateway, in the node) and MemoryStore (tests).
 */

export interface StoredValue {
  key: string;
  value: string;
  /** Revision of the last write of this key: the object's resourceVersion. */
  modRevision: number;
  createRevision: number;
}

export interface ListResult {
  items: StoredValue[];
  /** The store revision this list was read at. */
  revision: number;
}

export type WatchEventType = 'put' | 'delete';

export interface StoreWatchEvent {
  type: WatchEventType;
  key: string;
  /** The new value (put) — for delete, the value before deletion. */
  value: string;
  /** For a put of an existing key, the value before it (lets callers see selector transitions). */
  prevValue?: string;
  /** put: the key's new modRevision; delete: the revision of the delete. */
  modRevision: number;
  /** true when the put created the key (createRevision === modRevision). */
  created: boolean;
}

export interface StoreWatch {
  /** Stops the watch; the onEvent callback is not called afterwards. */
  close(): void;
}

export class StoreKeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} already exists`);
    this.name = 'StoreKeyExistsError';
  }
}

export class StoreKeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} not found`);
    this.name = 'StoreKeyNotFoundError';
  }
}

/** The key exists but its modRevision is not the expected one. */
export class StoreConflictError extends Error {
  constructor(
    readonly key: string,
    readonly actual: StoredValue,
  ) {
    super(`key ${key} was modified (now at revision ${actual.modRevision})`);
    this.name = 'StoreConflictError';
  }
}

/** The requested revision is older than the oldest the store keeps. */
export class StoreCompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compactRevision: number,
  ) {
    super(`revision ${requested} has been compacted (oldest kept: ${compactRevision})`);
    this.name = 'StoreCompactedError';
  }
}

/** The store cannot be reached (etcd down, no quorum). The API answers 503/504. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface Store {
  get(key: string): Promise<StoredValue | undefined>;
  /** Every key under prefix, sorted by key; `limit` and `continueAfter` page through them. */
  list(prefix: string, options?: { limit?: number; continueAfter?: string; revision?: number }): Promise<ListResult & { more: boolean }>;
  /** Creates key; StoreKeyExistsError if present. Returns the new modRevision. */
  create(key: string, value: string): Promise<number>;
  /**
   * Replaces key's value if its modRevision is still expectedModRevision.
   * StoreKeyNotFoundError if absent, StoreConflictError if changed. Returns the new modRevision.
   */
  update(key: string, value: string, expectedModRevision: number): Promise<number>;
  /**
   * Deletes key (if expectedModRevision is given, only while it is unchanged).
   * Returns the deleted value with the revision of the delete as modRevision.
   */
  delete(key: string, expectedModRevision?: number): Promise<StoredValue>;
  /**
   * Calls onEvent for every change under prefix with a revision > afterRevision, in order.
   * onError gets StoreCompactedError (afterRevision too old) or StoreUnavailableError
   * (the watch broke); the watch is over after onError.
   */
  watch(prefix: string, afterRevision: number, onEvent: (event: StoreWatchEvent) => void, onError: (err: Error) => void): StoreWatch;
  /** The store's current revision. */
  revision(): Promise<number>;
  /** Drops history up to revision (etcd compaction); older watches get StoreCompactedError. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
