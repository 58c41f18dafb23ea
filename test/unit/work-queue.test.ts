import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/node/controlplane/controllers/work-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WorkQueue', () => {
  it('syncs a key added several times while waiting only once', async () => {
    const queue = new WorkQueue('test');
    const abort = new AbortController();
    const seen: string[] = [];
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length()).toBe(2);
    const running = queue.run(async (key) => void seen.push(key), abort.signal);
    await until('both keys synced', () => seen.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['a', 'b']);
    abort.abort();
    await running;
  });

  it('never hands one key to two workers, and syncs it again when it was added while running', async () => {
    const queue = new WorkQueue('test');
    const abort = new AbortController();
    const gate = deferred();
    let concurrent = 0;
    let maxConcurrent = 0;
    let syncs = 0;
    const running = queue.run(
      async () => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        syncs += 1;
        if (syncs === 1) await gate.promise;
        concurrent -= 1;
      },
      abort.signal,
      4,
    );
    queue.add('k');
    await until('first sync running', () => syncs === 1);
    queue.add('k');
    queue.add('k');
    await new Promise((r) => setTimeout(r, 20));
    expect(syncs).toBe(1); // the second add waits for the first sync to end
    gate.resolve();
    await until('second sync', () => syncs === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(syncs).toBe(2);
    expect(maxConcurrent).toBe(1);
    abort.abort();
    await running;
  });

  it('runs different keys in parallel up to the worker count', async () => {
    const queue = new WorkQueue('test');
    const abort = new AbortController();
    const gate = deferred();
    let concurrent = 0;
    let maxConcurrent = 0;
    const running = queue.run(
      async () => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await gate.promise;
        concurrent -= 1;
      },
      abort.signal,
      3,
    );
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
    await until('three running', () => concurrent === 3);
    await new Promise((r) => setTimeout(r, 20));
    expect(maxConcurrent).toBe(3);
    gate.resolve();
    await until('all done', () => concurrent === 0 && queue.length() === 0);
    abort.abort();
    await running;
  });

  it('retries a failing key with growing delays and resets after a success', async () => {
    const logs: string[] = [];
    const queue = new WorkQueue('test', { baseRetryMs: 20, maxRetryMs: 1000, log: (line) => logs.push(line) });
    const abort = new AbortController();
    const times: number[] = [];
    const running = queue.run(async () => {
      times.push(Date.now());
      if (times.length <= 3 || times.length === 5) throw new Error(`failure ${times.length}`);
    }, abort.signal);
    queue.add('k');
    await until('four attempts', () => times.length === 4, 3000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(15); // 20 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(35); // 40 ms
    expect(gaps[2]).toBeGreaterThanOrEqual(75); // 80 ms
    expect(logs).toHaveLength(3);
    expect(logs[0]).toContain('syncing k failed (retry in 20 ms): failure 1');
    expect(logs[2]).toContain('retry in 80 ms');
    // After the success the back-off starts over: the next failure waits the base delay again.
    queue.add('k');
    await until('sixth attempt', () => times.length === 6, 3000);
    expect(logs[3]).toContain('syncing k failed (retry in 20 ms): failure 5');
    expect(times[5]! - times[4]!).toBeLessThan(150);
    abort.abort();
    await running;
  });

  it('adds a key after a delay, the last addAfter winning', async () => {
    const queue = new WorkQueue('test');
    const abort = new AbortController();
    const seen: number[] = [];
    const start = Date.now();
    const running = queue.run(async () => void seen.push(Date.now() - start), abort.signal);
    queue.addAfter('k', 30);
    queue.addAfter('k', 80);
    await until('the delayed key', () => seen.length === 1);
    expect(seen[0]).toBeGreaterThanOrEqual(75);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(1);
    abort.abort();
    await running;
  });

  it('stops when the signal aborts and ignores later adds', async () => {
    const queue = new WorkQueue('test');
    const abort = new AbortController();
    const seen: string[] = [];
    const running = queue.run(async (key) => void seen.push(key), abort.signal, 2);
    queue.addAfter('late', 50);
    abort.abort();
    await running; // resolves: the workers ended
    queue.add('after');
    await new Promise((r) => setTimeout(r, 80));
    expect(seen).toEqual([]);
    expect(queue.length()).toBe(0);
  });
});
