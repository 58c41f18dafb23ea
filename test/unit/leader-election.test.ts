import { describe, expect, it } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ApiError } from '../../src/node/shared/api-error.js';
import { decideLease, microTime, runWithLeaderElection, type LeaseClient } from '../../src/node/shared/leader-election.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function lease(holder: string | undefined, renewedAgoMs: number, durationSeconds = 15): Lease {
  return {
    metadata: { name: 'kube-scheduler', namespace: 'kube-system', resourceVersion: '5' },
    spec: { holderIdentity: holder, leaseDurationSeconds: durationSeconds, renewTime: microTime(NOW - renewedAgoMs), leaseTransitions: 2 },
  };
}

describe('decideLease', () => {
  const cases: { name: string; lease: Lease | undefined; observedAtMs?: number; expected: ReturnType<typeof decideLease> }[] = [
    { name: 'no lease yet: create it', lease: undefined, expected: { action: 'create' } },
    { name: 'my own lease: renew it', lease: lease('me', 60_000), expected: { action: 'renew' } },
    { name: 'released (no holder): take over', lease: lease(undefined, 1_000), expected: { action: 'takeover' } },
    { name: 'held and fresh: wait until it expires', lease: lease('other', 5_000), expected: { action: 'wait', holder: 'other', expiresInMs: 10_000 } },
    { name: 'held but not renewed for the duration: take over', lease: lease('other', 15_000), expected: { action: 'takeover' } },
    { name: 'the lease says its own duration', lease: lease('other', 5_000, 4), expected: { action: 'takeover' } },
    {
      name: 'dated in the future, but unchanged here for the duration: take over',
      lease: lease('other', -3_600_000),
      observedAtMs: NOW - 16_000,
      expected: { action: 'takeover' },
    },
    { name: 'dated in the future and just seen: wait', lease: lease('other', -3_600_000), expected: { action: 'wait', holder: 'other', expiresInMs: 15_000 } },
    { name: 'no timestamps: take over', lease: { metadata: { name: 'x' }, spec: { holderIdentity: 'other' } }, expected: { action: 'takeover' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decideLease(c.lease, 'me', NOW, c.observedAtMs)).toEqual(c.expected);
    });
  }

  it('writes MicroTime with microseconds', () => {
    expect(microTime(Date.parse('2026-01-01T00:00:01.234Z'))).toBe('2026-01-01T00:00:01.234000Z');
  });
});

/** An in-memory Lease endpoint with optimistic concurrency, which can be made unreachable. */
class FakeLeases implements LeaseClient {
  lease: Lease | undefined;
  private version = 0;
  down = false;
  writes: Lease[] = [];

  async getOrUndefined<T>(_path: string): Promise<T | undefined> {
    this.check();
    return this.lease === undefined ? undefined : (structuredClone(this.lease) as T);
  }

  async create<T>(_path: string, body: T): Promise<T> {
    this.check();
    if (this.lease !== undefined) throw new ApiError(409, { kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'exists' });
    return this.store(body as Lease) as T;
  }

  async update<T>(_path: string, body: T): Promise<T> {
    this.check();
    const sent = body as Lease;
    if (this.lease === undefined) throw new ApiError(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'absent' });
    if (sent.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
      throw new ApiError(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' });
    }
    return this.store(sent) as T;
  }

  /** Somebody else writes the lease (bumps the version). */
  overwrite(spec: Lease['spec']): void {
    this.store({ ...this.lease!, spec });
  }

  private store(lease: Lease): Lease {
    this.version++;
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(this.version) } };
    this.writes.push(structuredClone(this.lease));
    return structuredClone(this.lease);
  }

  private check(): void {
    if (this.down) throw new Error('connect ECONNREFUSED');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Runs a candidate whose leader work waits for its leadership to end; tracks who leads. */
function candidate(fake: FakeLeases, identity: string, leaders: Set<string>, maxLeaders: { value: number }) {
  const stop = new AbortController();
  let terms = 0;
  const done = runWithLeaderElection(
    fake,
    { namespace: 'kube-system', name: 'kube-scheduler', identity, leaseDurationSeconds: 1, renewEveryMs: 50, signal: stop.signal },
    async (leadership) => {
      terms++;
      leaders.add(identity);
      maxLeaders.value = Math.max(maxLeaders.value, leaders.size);
      await new Promise<void>((resolve) => leadership.addEventListener('abort', () => resolve(), { once: true }));
      leaders.delete(identity);
    },
  );
  return { stop: () => stop.abort(), done, terms: () => terms };
}

describe('runWithLeaderElection', () => {
  it('elects one of two candidates and hands over on release', async () => {
    const fake = new FakeLeases();
    const leaders = new Set<string>();
    const maxLeaders = { value: 0 };
    const a = candidate(fake, 'a', leaders, maxLeaders);
    await waitFor(() => leaders.has('a'));
    const b = candidate(fake, 'b', leaders, maxLeaders);
    await sleep(300);
    expect([...leaders]).toEqual(['a']);
    expect(fake.lease?.spec?.holderIdentity).toBe('a');
    // a keeps renewing while it leads
    const renewals = fake.writes.filter((w) => w.spec?.holderIdentity === 'a').length;
    expect(renewals).toBeGreaterThan(2);

    const handoverStarted = Date.now();
    a.stop();
    await a.done;
    await waitFor(() => leaders.has('b'));
    // Released, so b did not have to wait for the 1 s lease to expire.
    expect(Date.now() - handoverStarted).toBeLessThan(900);
    expect(fake.lease?.spec?.leaseTransitions).toBe(1);
    expect(maxLeaders.value).toBe(1);
    b.stop();
    await b.done;
    expect(fake.lease?.spec?.holderIdentity).toBeUndefined();
  });

  it('gives up leadership when renewals fail past the deadline, and campaigns again', async () => {
    const fake = new FakeLeases();
    const leaders = new Set<string>();
    const a = candidate(fake, 'a', leaders, { value: 0 });
    await waitFor(() => leaders.has('a'));
    fake.down = true;
    const downAt = Date.now();
    await waitFor(() => !leaders.has('a'));
    const heldFor = Date.now() - downAt;
    // Deadline is 2/3 of the 1 s lease: gone before the lease could expire for others.
    expect(heldFor).toBeGreaterThan(500);
    expect(heldFor).toBeLessThan(1_000);
    fake.down = false;
    await waitFor(() => leaders.has('a'));
    expect(a.terms()).toBe(2);
    a.stop();
    await a.done;
  });

  it('loses leadership at once when another holder shows up in the lease', async () => {
    const fake = new FakeLeases();
    const leaders = new Set<string>();
    const a = candidate(fake, 'a', leaders, { value: 0 });
    await waitFor(() => leaders.has('a'));
    fake.overwrite({ holderIdentity: 'intruder', leaseDurationSeconds: 60, renewTime: microTime(Date.now()) });
    await waitFor(() => !leaders.has('a'), 500);
    await sleep(200);
    expect(leaders.size).toBe(0); // the intruder's lease is fresh: a waits
    a.stop();
    await a.done;
    expect(fake.lease?.spec?.holderIdentity).toBe('intruder'); // not a's to release
  });

  it('resolves and releases when the leader work returns by itself; rejects when it throws', async () => {
    const fake = new FakeLeases();
    await runWithLeaderElection(fake, { namespace: 'kube-system', name: 'x', identity: 'a', renewEveryMs: 20 }, async () => sleep(60));
    expect(fake.lease?.spec?.holderIdentity).toBeUndefined();
    expect(fake.lease?.spec?.leaseDurationSeconds).toBe(1);

    await expect(
      runWithLeaderElection(fake, { namespace: 'kube-system', name: 'x', identity: 'b', renewEveryMs: 20 }, async () => {
        throw new Error('scheduler crashed');
      }),
    ).rejects.toThrow('scheduler crashed');
    expect(fake.lease?.spec?.holderIdentity).toBeUndefined();
  });
});
