/**
 * The Store contract as tests, run against every implementation (MemoryStore in unit tests,
 * EtcdStore against a real etcd in e2e). Each test works under its own random prefix and only
 * compares revisions relative to each other, so a shared etcd works too.
 */

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  StoreCompactedError,
  StoreConflictError,
  StoreKeyExistsError,
  StoreKeyNotFoundError,
  type Store,
  type StoreWatch,
  type StoreWatchEvent,
} from '../../src/node/controlplane/store/store.js';

export interface StoreUnderTest {
  store: Store;
  cleanup(): Promise<void>;
}

/** Collects a watch's events and error; `next(n)` waits until n events arrived. */
class WatchRecorder {
  readonly events: StoreWatchEvent[] = [];
  error: Error | undefined;
  private waiters: Array<() => void> = [];
  handle: StoreWatch | undefined;

  constructor(store: Store, prefix: string, afterRevision: number) {
    this.handle = store.watch(
      prefix,
      afterRevision,
      (event) => {
        this.events.push(event);
        this.wake();
      },
      (err) => {
        this.error = err;
        this.wake();
      },
    );
  }

  async waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events)} error=${String(this.error)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  untilEvents(count: number): Promise<void> {
    return this.waitFor(() => this.events.length >= count || this.error !== undefined, `${count} events`);
  }

  untilFailure(): Promise<void> {
    return this.waitFor(() => this.error !== undefined, 'a watch error');
  }

  close(): void {
    this.handle?.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    const recorders: WatchRecorder[] = [];

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });

    afterAll(async () => {
      for (const recorder of recorders) recorder.close();
      await subject?.cleanup();
    });

    /** A fresh key prefix per test, like /registry/pods/<ns>/. */
    function freshPrefix(): string {
      return `/registry/contract-${randomBytes(6).toString('hex')}/`;
    }

    function watch(prefix: string, afterRevision: number): WatchRecorder {
      const recorder = new WatchRecorder(store, prefix, afterRevision);
      recorders.push(recorder);
      return recorder;
    }

    describe('create and get', () => {
      it('creates a key at a new revision and reads it back', async () => {
        const key = `${freshPrefix()}a`;
        const before = await store.revision();
        const revision = await store.create(key, '{"n":1}');
        expect(revision).toBeGreaterThan(before);
        expect(await store.revision()).toBe(revision);
        expect(await store.get(key)).toEqual({ key, value: '{"n":1}', modRevision: revision, createRevision: revision });
      });

      it('answers undefined for a missing key', async () => {
        expect(await store.get(`${freshPrefix()}missing`)).toBeUndefined();
      });

      it('refuses to create an existing key and leaves it unchanged', async () => {
        const key = `${freshPrefix()}a`;
        const revision = await store.create(key, 'first');
        await expect(store.create(key, 'second')).rejects.toBeInstanceOf(StoreKeyExistsError);
        expect(await store.get(key)).toMatchObject({ value: 'first', modRevision: revision });
      });

      it('keeps values byte for byte, including non-ASCII text', async () => {
        const key = `${freshPrefix()}ünïcode`;
        const value = JSON.stringify({ text: 'grüße 🚀', newline: 'a\nb' });
        await store.create(key, value);
        expect((await store.get(key))?.value).toBe(value);
      });
    });

    describe('update', () => {
      it('replaces the value when the modRevision matches, keeping createRevision', async () => {
        const key = `${freshPrefix()}a`;
        const created = await store.create(key, 'v1');
        const updated = await store.update(key, 'v2', created);
        expect(updated).toBeGreaterThan(created);
        expect(await store.get(key)).toEqual({ key, value: 'v2', modRevision: updated, createRevision: created });
      });

      it('fails with StoreConflictError carrying the current value when the modRevision is stale', async () => {
        const key = `${freshPrefix()}a`;
        const created = await store.create(key, 'v1');
        const updated = await store.update(key, 'v2', created);
        const failure = await store.update(key, 'v3', created).catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(StoreConflictError);
        expect((failure as StoreConflictError).actual).toMatchObject({ key, value: 'v2', modRevision: updated });
        expect((await store.get(key))?.value).toBe('v2');
      });

      it('fails with StoreKeyNotFoundError for a missing key', async () => {
        await expect(store.update(`${freshPrefix()}missing`, 'v', 1)).rejects.toBeInstanceOf(StoreKeyNotFoundError);
      });
    });

    describe('delete', () => {
      it('deletes a key and returns its last value at the revision of the delete', async () => {
        const key = `${freshPrefix()}a`;
        const created = await store.create(key, 'gone soon');
        const deleted = await store.delete(key);
        expect(deleted.value).toBe('gone soon');
        expect(deleted.key).toBe(key);
        expect(deleted.modRevision).toBeGreaterThan(created);
        expect(deleted.modRevision).toBe(await store.revision());
        expect(await store.get(key)).toBeUndefined();
      });

      it('deletes only while the modRevision still matches', async () => {
        const key = `${freshPrefix()}a`;
        const created = await store.create(key, 'v1');
        const updated = await store.update(key, 'v2', created);
        const failure = await store.delete(key, created).catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(StoreConflictError);
        expect((failure as StoreConflictError).actual).toMatchObject({ value: 'v2', modRevision: updated });
        expect(await store.get(key)).toBeDefined();
        expect((await store.delete(key, updated)).value).toBe('v2');
      });

      it('fails with StoreKeyNotFoundError for a missing key', async () => {
        await expect(store.delete(`${freshPrefix()}missing`)).rejects.toBeInstanceOf(StoreKeyNotFoundError);
        await expect(store.delete(`${freshPrefix()}missing`, 5)).rejects.toBeInstanceOf(StoreKeyNotFoundError);
      });

      it('lets a deleted key be created again with a new createRevision', async () => {
        const key = `${freshPrefix()}a`;
        const first = await store.create(key, 'v1');
        await store.delete(key);
        const second = await store.create(key, 'v2');
        expect(await store.get(key)).toMatchObject({ value: 'v2', createRevision: second });
        expect(second).toBeGreaterThan(first);
      });
    });

    describe('list', () => {
      it('lists the keys under a prefix, sorted, at the current revision', async () => {
        const prefix = freshPrefix();
        // Created out of order; a sibling prefix sharing the first characters must not leak in.
        await store.create(`${prefix}ns1/c`, 'c');
        await store.create(`${prefix}ns1/a`, 'a');
        await store.create(`${prefix}ns1/b`, 'b');
        await store.create(`${prefix}ns10/x`, 'x');
        const result = await store.list(`${prefix}ns1/`);
        expect(result.items.map((item) => item.value)).toEqual(['a', 'b', 'c']);
        expect(result.more).toBe(false);
        expect(result.revision).toBe(await store.revision());
        expect((await store.list(prefix)).items.map((item) => item.key)).toEqual([
          `${prefix}ns1/a`,
          `${prefix}ns1/b`,
          `${prefix}ns1/c`,
          `${prefix}ns10/x`,
        ]);
      });

      it('gives each item its own revisions', async () => {
        const prefix = freshPrefix();
        const a = await store.create(`${prefix}a`, 'a');
        const b = await store.create(`${prefix}b`, 'b');
        const b2 = await store.update(`${prefix}b`, 'b2', b);
        const { items } = await store.list(prefix);
        expect(items).toEqual([
          { key: `${prefix}a`, value: 'a', modRevision: a, createRevision: a },
          { key: `${prefix}b`, value: 'b2', modRevision: b2, createRevision: b },
        ]);
      });

      it('answers an empty list for an empty prefix', async () => {
        const result = await store.list(freshPrefix());
        expect(result.items).toEqual([]);
        expect(result.more).toBe(false);
      });

      it('pages with limit and continueAfter', async () => {
        const prefix = freshPrefix();
        for (const name of ['e', 'a', 'd', 'b', 'c']) await store.create(`${prefix}${name}`, name);
        const first = await store.list(prefix, { limit: 2 });
        expect(first.items.map((item) => item.value)).toEqual(['a', 'b']);
        expect(first.more).toBe(true);
        const second = await store.list(prefix, { limit: 2, continueAfter: first.items[1]?.key });
        expect(second.items.map((item) => item.value)).toEqual(['c', 'd']);
        expect(second.more).toBe(true);
        const third = await store.list(prefix, { limit: 2, continueAfter: second.items[1]?.key });
        expect(third.items.map((item) => item.value)).toEqual(['e']);
        expect(third.more).toBe(false);
        const exact = await store.list(prefix, { limit: 5 });
        expect(exact.items).toHaveLength(5);
        expect(exact.more).toBe(false);
      });

      it('reads at an older revision, seeing the values of then', async () => {
        const prefix = freshPrefix();
        const a = await store.create(`${prefix}a`, 'a1');
        await store.create(`${prefix}b`, 'b1');
        const then = await store.revision();
        await store.update(`${prefix}a`, 'a2', a);
        await store.delete(`${prefix}b`);
        await store.create(`${prefix}c`, 'c1');
        const old = await store.list(prefix, { revision: then });
        expect(old.revision).toBe(then);
        expect(old.items.map((item) => item.value)).toEqual(['a1', 'b1']);
        const paged = await store.list(prefix, { revision: then, limit: 1, continueAfter: `${prefix}a` });
        expect(paged.items.map((item) => item.value)).toEqual(['b1']);
        expect(paged.more).toBe(false);
        expect((await store.list(prefix)).items.map((item) => item.value)).toEqual(['a2', 'c1']);
      });
    });

    describe('watch', () => {
      it('streams creates, updates and deletes after a revision, in order', async () => {
        const prefix = freshPrefix();
        const start = await store.revision();
        const recorder = watch(prefix, start);
        // Let the watch get established before writing (etcd), the events must still all arrive.
        await sleep(50);
        const created = await store.create(`${prefix}a`, 'v1');
        const updated = await store.update(`${prefix}a`, 'v2', created);
        const deleted = await store.delete(`${prefix}a`);
        await recorder.untilEvents(3);
        expect(recorder.error).toBeUndefined();
        expect(recorder.events).toEqual([
          { type: 'put', key: `${prefix}a`, value: 'v1', modRevision: created, created: true },
          { type: 'put', key: `${prefix}a`, value: 'v2', prevValue: 'v1', modRevision: updated, created: false },
          { type: 'delete', key: `${prefix}a`, value: 'v2', modRevision: deleted.modRevision, created: false },
        ]);
        recorder.close();
      });

      it('replays history from a past revision, excluding that revision itself', async () => {
        const prefix = freshPrefix();
        const first = await store.create(`${prefix}a`, 'a');
        const second = await store.create(`${prefix}b`, 'b');
        const third = await store.update(`${prefix}a`, 'a2', first);
        const recorder = watch(prefix, first);
        await recorder.untilEvents(2);
        expect(recorder.events.map((event) => [event.key, event.modRevision, event.created])).toEqual([
          [`${prefix}b`, second, true],
          [`${prefix}a`, third, false],
        ]);
        expect(recorder.events[1]?.prevValue).toBe('a');
        recorder.close();
      });

      it('sees only keys under its prefix', async () => {
        const prefix = freshPrefix();
        const start = await store.revision();
        const recorder = watch(`${prefix}ns1/`, start);
        await sleep(50);
        await store.create(`${prefix}ns10/x`, 'other namespace');
        await store.create(`${prefix}ns1/a`, 'mine');
        await recorder.untilEvents(1);
        // Give a wrongly delivered event time to show up.
        await sleep(100);
        expect(recorder.events.map((event) => event.value)).toEqual(['mine']);
        recorder.close();
      });

      it('delivers events asynchronously, never inside watch() or a write call', async () => {
        const prefix = freshPrefix();
        await store.create(`${prefix}a`, 'a');
        const start = (await store.revision()) - 1;
        const recorder = watch(prefix, start);
        expect(recorder.events).toHaveLength(0);
        await recorder.untilEvents(1);
        expect(recorder.events).toHaveLength(1);
        recorder.close();
      });

      it('stops delivering after close()', async () => {
        const prefix = freshPrefix();
        const start = await store.revision();
        const recorder = watch(prefix, start);
        await sleep(50);
        await store.create(`${prefix}a`, 'a');
        await recorder.untilEvents(1);
        recorder.close();
        await store.create(`${prefix}b`, 'b');
        await sleep(200);
        expect(recorder.events).toHaveLength(1);
        expect(recorder.error).toBeUndefined();
      });

      it('keeps many concurrent watches independent', async () => {
        const prefix = freshPrefix();
        const start = await store.revision();
        const recorders = [watch(`${prefix}x/`, start), watch(`${prefix}y/`, start), watch(prefix, start)];
        await sleep(50);
        await store.create(`${prefix}x/1`, 'x1');
        await store.create(`${prefix}y/1`, 'y1');
        await store.create(`${prefix}x/2`, 'x2');
        await Promise.all([recorders[0]?.untilEvents(2), recorders[1]?.untilEvents(1), recorders[2]?.untilEvents(3)]);
        expect(recorders.map((recorder) => recorder.events.map((event) => event.value))).toEqual([
          ['x1', 'x2'],
          ['y1'],
          ['x1', 'y1', 'x2'],
        ]);
        for (const recorder of recorders) recorder.close();
      });
    });

    describe('compaction', () => {
      it('fails watches and lists that start before the compacted revision', async () => {
        const prefix = freshPrefix();
        const old = await store.create(`${prefix}a`, 'v1');
        const mid = await store.update(`${prefix}a`, 'v2', old);
        const latest = await store.update(`${prefix}a`, 'v3', mid);
        await store.compact(latest);

        const tooOld = watch(prefix, old);
        await tooOld.untilFailure();
        expect(tooOld.error).toBeInstanceOf(StoreCompactedError);
        expect(tooOld.events).toEqual([]);

        const listFailure = await store.list(prefix, { revision: old }).catch((err: unknown) => err);
        expect(listFailure).toBeInstanceOf(StoreCompactedError);

        // The compacted revision itself is still readable, and watches from it still work.
        expect((await store.list(prefix, { revision: latest })).items.map((item) => item.value)).toEqual(['v3']);
        const fromLatest = watch(prefix, latest);
        await sleep(50);
        await store.update(`${prefix}a`, 'v4', latest);
        await fromLatest.untilEvents(1);
        expect(fromLatest.error).toBeUndefined();
        expect(fromLatest.events.map((event) => event.value)).toEqual(['v4']);
        expect(fromLatest.events[0]?.prevValue).toBe('v3');
        fromLatest.close();
      });

      it('treats compacting to an already compacted revision as done', async () => {
        const prefix = freshPrefix();
        const revision = await store.create(`${prefix}a`, 'a');
        await store.compact(revision);
        await expect(store.compact(revision)).resolves.toBeUndefined();
        await expect(store.compact(revision - 1)).resolves.toBeUndefined();
      });

      it('keeps current values readable after compaction', async () => {
        const prefix = freshPrefix();
        const a = await store.create(`${prefix}a`, 'a');
        await store.create(`${prefix}b`, 'b');
        await store.delete(`${prefix}b`);
        await store.compact(await store.revision());
        expect(await store.get(`${prefix}a`)).toEqual({ key: `${prefix}a`, value: 'a', modRevision: a, createRevision: a });
        expect((await store.list(prefix)).items.map((item) => item.key)).toEqual([`${prefix}a`]);
      });
    });
  });
}
