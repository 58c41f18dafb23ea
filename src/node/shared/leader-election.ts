/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
 * candidates read the Lease and take it over once its holder stopped renewing for the lease
 * duration; every write is an optimistic update on the read resourceVersion, so of two
 * candidates exactly one wins (the other gets 409). The leader renews every few seconds and
 * gives up leadership (aborting the signal it handed out) when it could not renew for the
 * renew deadline, which ends before the lease can expire: no two leaders act at once.
 *
 * Time: renewTime is compared with the local clock. Kube nodes are containers on one host,
 * sharing its clock; a lease dated in the future (some other clock) still expires once it
 * has gone unchanged for the lease duration as observed here.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ApiClient } from './api-client.js';
import { isConflict } from './api-error.js';

export interface LeaderElectionOptions {
  namespace: 'kube-system';
  name: string;
  /** Unique per process: 'node_hostname_pid'. */
  identity: string;
  /** How long a lease lasts without renewal (default 15). */
  leaseDurationSeconds?: number;
  /** Renew (leader) and retry (candidate) period (default 2000). */
  renewEveryMs?: number;
  /** Ends the election: leadership is aborted, the lease released, and the call resolves. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** The part of ApiClient the elector uses (a fake in tests). */
export type LeaseClient = Pick<ApiClient, 'getOrUndefined' | 'create' | 'update'>;

export type LeaseDecision =
  | { action: 'create' }
  | { action: 'renew' }
  | { action: 'takeover' }
  | { action: 'wait'; holder: string; expiresInMs: number };

const DEFAULT_LEASE_SECONDS = 15;
const DEFAULT_RENEW_MS = 2_000;
/** The leader gives up after failing to renew for this share of the lease duration (client-go: 10 s of 15 s). */
const RENEW_DEADLINE_SHARE = 2 / 3;

/**
 * Can `identity` take this lease now? Pure.
 * @param observedAtMs when this holder/renewTime pair was first seen locally (defaults to nowMs)
 */
export function decideLease(lease: Lease | undefined, identity: string, nowMs: number, observedAtMs: number = nowMs): LeaseDecision {
  if (lease === undefined) return { action: 'create' };
  const spec = lease.spec ?? {};
  const holder = spec.holderIdentity ?? '';
  if (holder === identity) return { action: 'renew' };
  if (holder === '') return { action: 'takeover' };
  const durationMs = (spec.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS) * 1000;
  const renewedMs = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
  if (Number.isNaN(renewedMs)) return { action: 'takeover' };
  // Expired when either clock says so: the holder's timestamp, or how long it has looked unchanged here.
  const expiresAtMs = Math.min(renewedMs, observedAtMs) + durationMs;
  if (nowMs >= expiresAtMs) return { action: 'takeover' };
  return { action: 'wait', holder, expiresInMs: expiresAtMs - nowMs };
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type Attempt =
  | { outcome: 'held'; lease: Lease }
  | { outcome: 'other'; holder: string }
  | { outcome: 'conflict' }
  | { outcome: 'error'; error: Error };

/** Remembers when the lease last changed as seen from here (for decideLease's observedAtMs). */
class LeaseObserver {
  private lastSeen = '';
  private seenAtMs = 0;

  observedAt(lease: Lease | undefined, nowMs: number): number {
    const seen = `${lease?.spec?.holderIdentity ?? ''}|${lease?.spec?.renewTime ?? ''}|${lease?.metadata?.resourceVersion ?? ''}`;
    if (seen !== this.lastSeen) {
      this.lastSeen = seen;
      this.seenAtMs = nowMs;
    }
    return this.seenAtMs;
  }
}

class Elector {
  private readonly observer = new LeaseObserver();
  readonly collectionPath: string;
  readonly leasePath: string;
  readonly durationSeconds: number;

  constructor(
    private readonly client: LeaseClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.collectionPath = `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases`;
    this.leasePath = `${this.collectionPath}/${opts.name}`;
    this.durationSeconds = opts.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
  }

  /** One read-decide-write round: acquire, renew or take over the lease if allowed. */
  async tryAcquireOrRenew(): Promise<Attempt> {
    try {
      const current = await this.client.getOrUndefined<Lease>(this.leasePath);
      const nowMs = Date.now();
      const decision = decideLease(current, this.opts.identity, nowMs, this.observer.observedAt(current, nowMs));
      const now = microTime(nowMs);
      switch (decision.action) {
        case 'wait':
          return { outcome: 'other', holder: decision.holder };
        case 'create': {
          const lease: Lease = {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.opts.name, namespace: this.opts.namespace },
            spec: { holderIdentity: this.opts.identity, leaseDurationSeconds: this.durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          };
          return { outcome: 'held', lease: await this.client.create<Lease>(this.collectionPath, lease) };
        }
        case 'renew':
        case 'takeover': {
          const spec = current!.spec ?? {};
          const takingOver = decision.action === 'takeover';
          const lease: Lease = {
            ...current!,
            spec: {
              ...spec,
              holderIdentity: this.opts.identity,
              leaseDurationSeconds: this.durationSeconds,
              acquireTime: takingOver ? now : (spec.acquireTime ?? now),
              renewTime: now,
              leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
            },
          };
          return { outcome: 'held', lease: await this.client.update<Lease>(this.leasePath, lease) };
        }
      }
    } catch (err) {
      // 409 on create (AlreadyExists) or update (stale resourceVersion): another candidate wrote first.
      if (isConflict(err)) return { outcome: 'conflict' };
      return { outcome: 'error', error: err as Error };
    }
  }

  /** Lets another candidate take over at once (client-go's ReleaseOnCancel). Best effort. */
  async release(): Promise<void> {
    try {
      const current = await this.client.getOrUndefined<Lease>(this.leasePath);
      if (current?.spec?.holderIdentity !== this.opts.identity) return;
      const now = microTime(Date.now());
      const { holderIdentity: _released, ...rest } = current.spec;
      await this.client.update<Lease>(this.leasePath, { ...current, spec: { ...rest, leaseDurationSeconds: 1, renewTime: now } });
    } catch (err) {
      this.opts.log?.(`leader election: releasing lease ${this.opts.name} failed: ${(err as Error).message}`);
    }
  }
}

/**
 * Campaigns for the lease and runs `lead` while holding it. When leadership is lost the
 * signal given to `lead` is aborted; once `lead` has returned, campaigning resumes. Resolves
 * when opts.signal aborts (after releasing the lease) or when `lead` returns by itself; a
 * throwing `lead` releases the lease and rejects.
 */
export async function runWithLeaderElection(
  client: LeaseClient,
  opts: LeaderElectionOptions,
  lead: (leadership: AbortSignal) => Promise<void>,
): Promise<void> {
  const elector = new Elector(client, opts);
  const renewEveryMs = opts.renewEveryMs ?? DEFAULT_RENEW_MS;
  const renewDeadlineMs = elector.durationSeconds * 1000 * RENEW_DEADLINE_SHARE;
  const log = (line: string): void => opts.log?.(`leader election ${opts.name}: ${line}`);
  let lastOtherHolder = '';

  while (!opts.signal?.aborted) {
    const attemptStartedMs = Date.now();
    const attempt = await elector.tryAcquireOrRenew();
    if (attempt.outcome !== 'held') {
      if (attempt.outcome === 'other' && attempt.holder !== lastOtherHolder) {
        lastOtherHolder = attempt.holder;
        log(`${attempt.holder} is the leader`);
      }
      if (attempt.outcome === 'error') log(`cannot reach the lease: ${attempt.error.message}`);
      await sleep(renewEveryMs * (1 + Math.random() * 0.2), opts.signal);
      continue;
    }

    log(`${opts.identity} acquired the lease`);
    lastOtherHolder = '';
    const ended = await holdLeadership(elector, attemptStartedMs, renewEveryMs, renewDeadlineMs, opts.signal, lead, log);
    if (ended.kind === 'lead-returned' || opts.signal?.aborted) {
      await elector.release();
      if (ended.kind === 'lead-returned' && ended.error !== undefined) throw ended.error;
      return;
    }
  }
}

type LeadershipEnd = { kind: 'lost' } | { kind: 'lead-returned'; error?: Error };

/** Runs `lead` and renews until leadership is lost, the election is cancelled, or `lead` returns. */
async function holdLeadership(
  elector: Elector,
  acquiredAtMs: number,
  renewEveryMs: number,
  renewDeadlineMs: number,
  signal: AbortSignal | undefined,
  lead: (leadership: AbortSignal) => Promise<void>,
  log: (line: string) => void,
): Promise<LeadershipEnd> {
  const leadership = new AbortController();
  const abortLeadership = (): void => leadership.abort();
  signal?.addEventListener('abort', abortLeadership, { once: true });
  // Set only when `lead` settles while still leading: it finished by itself (or threw).
  let leadEnded: LeadershipEnd | undefined;
  let leadSettled = false;
  const settle = (error?: Error): void => {
    leadSettled = true;
    if (!leadership.signal.aborted) leadEnded = error === undefined ? { kind: 'lead-returned' } : { kind: 'lead-returned', error };
    else if (error !== undefined) log(`leader work ended with an error after losing leadership: ${error.message}`);
  };
  const leading = Promise.resolve()
    .then(() => lead(leadership.signal))
    .then(
      () => settle(),
      (err: unknown) => settle(err instanceof Error ? err : new Error(String(err))),
    );
  // Measured from before the request that renewed, so the deadline is never overestimated.
  let lastRenewedMs = acquiredAtMs;
  try {
    while (!leadership.signal.aborted && !leadSettled) {
      await Promise.race([sleep(renewEveryMs, leadership.signal), leading]);
      if (leadership.signal.aborted || leadSettled) break;
      const attemptStartedMs = Date.now();
      const attempt = await elector.tryAcquireOrRenew();
      if (attempt.outcome === 'held') {
        lastRenewedMs = attemptStartedMs;
      } else if (attempt.outcome === 'other') {
        log(`lost the lease to ${attempt.holder}`);
        leadership.abort();
      } else if (Date.now() - lastRenewedMs >= renewDeadlineMs) {
        log(`could not renew for ${Math.round((Date.now() - lastRenewedMs) / 1000)} s: giving up leadership`);
        leadership.abort();
      }
    }
  } finally {
    leadership.abort();
    signal?.removeEventListener('abort', abortLeadership);
    await leading;
  }
  return leadEnded ?? { kind: 'lost' };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
