import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withClusterLock } from '../../src/cluster/lock.js';
import { UserError } from '../../src/common/errors.js';

describe('withClusterLock', () => {
  let home: string;
  const saved = process.env.CLUSTERLAB_HOME;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-lock-'));
    process.env.CLUSTERLAB_HOME = home;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.CLUSTERLAB_HOME;
    else process.env.CLUSTERLAB_HOME = saved;
    await rm(home, { recursive: true, force: true });
  });

  it('never lets two commands on one cluster interleave', async () => {
    const order: string[] = [];
    let release!: () => void;
    const first = withClusterLock('lab', async () => {
      order.push('first in');
      await new Promise<void>((r) => (release = r));
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 50));
    const second = withClusterLock('lab', async () => void order.push('second'), { waitMs: 200 });
    await expect(second).rejects.toThrow(UserError);
    await expect(withClusterLock('lab', async () => 1, { waitMs: 200 })).rejects.toThrow(/another clusterlab command is changing cluster "lab"/);
    release();
    await first;
    expect(order).toEqual(['first in', 'first out']);
  });

  it('waits for a lock that is released in time, and other clusters are independent', async () => {
    const order: string[] = [];
    const first = withClusterLock('lab', async () => {
      await new Promise((r) => setTimeout(r, 300));
      order.push('first');
    });
    await new Promise((r) => setTimeout(r, 20));
    const other = withClusterLock('other', async () => void order.push('other'), { waitMs: 100 });
    const second = withClusterLock('lab', async () => void order.push('second'), { waitMs: 3_000 });
    await Promise.all([first, other, second]);
    expect(order).toEqual(['other', 'first', 'second']);
  });

  it('releases the lock when the work fails', async () => {
    await expect(withClusterLock('lab', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(withClusterLock('lab', async () => 'ok', { waitMs: 100 })).resolves.toBe('ok');
  });
});
