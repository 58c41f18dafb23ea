/**
 * What a controller has just created or deleted and its informer has not shown yet
 * (client-go's ControllerExpectations, keyed by object names rather than counts). A sync
 * that ran on a stale cache would create a second pod for the same slot; so until the cache
 * shows the writes (or they are too old to wait for), the owner is not managed again.
 */

/** After this long an unconfirmed write is forgotten (the watch may have missed it). */
export const EXPECTATION_TIMEOUT_MS = 30_000;

interface Pending {
  creates: Set<string>;
  deletes: Set<string>;
  sinceMs: number;
}

export class WriteExpectations {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly now: () => number = Date.now) {}

  expectCreate(owner: string, objectKey: string): void {
    this.entry(owner).creates.add(objectKey);
  }

  expectDelete(owner: string, objectKey: string): void {
    this.entry(owner).deletes.add(objectKey);
  }

  /** A write that failed will never show in the cache. */
  forget(owner: string, objectKey: string): void {
    const entry = this.pending.get(owner);
    entry?.creates.delete(objectKey);
    entry?.deletes.delete(objectKey);
  }

  /**
   * True when every expected create is in the cache and every expected delete is gone from
   * it or marked for deletion. `lookup` reads the informer cache.
   */
  satisfied(owner: string, lookup: (objectKey: string) => { metadata?: { deletionTimestamp?: string } } | undefined): boolean {
    const entry = this.pending.get(owner);
    if (!entry) return true;
    for (const key of entry.creates) if (lookup(key) !== undefined) entry.creates.delete(key);
    for (const key of entry.deletes) {
      const obj = lookup(key);
      if (obj === undefined || obj.metadata?.deletionTimestamp) entry.deletes.delete(key);
    }
    if ((entry.creates.size === 0 && entry.deletes.size === 0) || this.now() - entry.sinceMs > EXPECTATION_TIMEOUT_MS) {
      this.pending.delete(owner);
      return true;
    }
    return false;
  }

  clear(owner: string): void {
    this.pending.delete(owner);
  }

  private entry(owner: string): Pending {
    let entry = this.pending.get(owner);
    if (!entry) {
      entry = { creates: new Set(), deletes: new Set(), sinceMs: this.now() };
      this.pending.set(owner, entry);
    }
    return entry;
  }
}
