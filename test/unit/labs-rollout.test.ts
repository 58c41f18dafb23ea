/** The rolling-update lab's checks: rollout state from both back ends, and the probe's /stats. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeRollout } from '../../src/labs/backends/kube.js';
import { swarmRollout, type SwarmServiceObject } from '../../src/labs/backends/swarm.js';
import { evaluateCheck, prepareCheck } from '../../src/labs/evaluate.js';
import { describeFailureReasons, readProbeStats } from '../../src/labs/probe-stats.js';
import { checkSchema, type LabCheckDoc } from '../../src/labs/schema.js';
import { FakeClock, FakeView, node, replica, workload } from './labs-fakes.js';

async function run(item: Record<string, unknown>, view: FakeView) {
  const check = checkSchema.parse(item) as LabCheckDoc;
  return evaluateCheck(prepareCheck(check, 0, view.engine), { view, engine: view.engine, env: {}, cwd: process.cwd(), clock: new FakeClock() });
}

const service = (image: string, replicas: number, update?: SwarmServiceObject['UpdateStatus']): SwarmServiceObject => ({
  ID: 's',
  Spec: { Name: 'web', Mode: { Replicated: { Replicas: replicas } }, TaskTemplate: { ContainerSpec: { Image: image } } },
  ...(update ? { UpdateStatus: update } : {}),
});

describe('swarm rollout state', () => {
  const v2 = [replica('web.1', 'leader', { image: 'clusterlab/web:v2' }), replica('web.2', 'worker1', { image: 'clusterlab/web:v2' })];

  it.each([
    ['updating', 'progressing'],
    ['rollback_started', 'progressing'],
    ['paused', 'stalled'],
    ['rollback_paused', 'stalled'],
  ])('UpdateStatus %s is %s whatever the tasks do', (state, expected) => {
    const r = swarmRollout(service('clusterlab/web:v2', 2, { State: state, Message: 'update paused due to failure' }), v2);
    expect(r).toEqual({ state: expected, detail: `update ${state}: update paused due to failure` });
  });

  it('completed, rolled back or never updated: complete only once every replica runs the spec', () => {
    expect(swarmRollout(service('clusterlab/web:v2@sha256:abc', 2, { State: 'completed' }), v2)).toEqual({ state: 'complete', detail: 'update completed' });
    expect(swarmRollout(service('clusterlab/web:v2', 2, { State: 'rollback_completed' }), v2).state).toBe('complete');
    expect(swarmRollout(service('clusterlab/web:v2', 2), v2)).toEqual({ state: 'complete', detail: 'never updated' });
    // A replica still on the old image, one still starting, or too few: not there yet.
    const mixed = [v2[0]!, replica('web.2', 'worker1', { image: 'clusterlab/web:v1' })];
    expect(swarmRollout(service('clusterlab/web:v2', 2, { State: 'completed' }), mixed).state).toBe('progressing');
    const starting = [v2[0]!, replica('web.2', 'worker1', { image: 'clusterlab/web:v2', running: false, state: 'starting' })];
    expect(swarmRollout(service('clusterlab/web:v2', 2), starting)).toEqual({ state: 'progressing', detail: 'never updated; 1 of 2 running' });
    expect(swarmRollout(service('clusterlab/web:v2', 3), v2).state).toBe('progressing');
  });
});

function deployment(status: NonNullable<Deployment['status']>, extra: { paused?: boolean; generation?: number } = {}): Deployment {
  return {
    metadata: { name: 'web', generation: extra.generation ?? 2 },
    spec: { replicas: 3, paused: extra.paused, selector: {}, template: {} },
    status,
  };
}

describe('kube rollout state (as kubectl rollout status judges it)', () => {
  it('complete: latest generation seen, every replica updated and available, none old', () => {
    const r = kubeRollout(deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }));
    expect(r).toEqual({ state: 'complete', detail: '3 of 3 updated, 3 available' });
  });

  it('progressing: an old pod left, a new one not available, or a spec the controller has not seen', () => {
    const oldLeft = kubeRollout(deployment({ observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }));
    expect(oldLeft).toEqual({ state: 'progressing', detail: '3 of 3 updated, 3 available, 1 old' });
    expect(kubeRollout(deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 })).state).toBe('progressing');
    expect(kubeRollout(deployment({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 })).state).toBe('progressing');
  });

  it('stalled on ProgressDeadlineExceeded, with the condition’s message; paused by spec', () => {
    const stuck = kubeRollout(
      deployment({
        observedGeneration: 2,
        replicas: 4,
        updatedReplicas: 1,
        availableReplicas: 3,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-7d9" has timed out progressing.' }],
      }),
    );
    expect(stuck).toEqual({ state: 'stalled', detail: '1 of 3 updated, 3 available, 3 old; ReplicaSet "web-7d9" has timed out progressing.' });
    expect(kubeRollout(deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, { paused: true })).state).toBe('paused');
  });
});

describe('rollout check', () => {
  it('compares the state and shows the orchestrator’s words', async () => {
    const view = new FakeView('kube');
    view.workloads.set('web', workload('web', [], { kind: 'deployment', rollout: { state: 'stalled', detail: 'ProgressDeadlineExceeded' } }));
    expect(await run({ rollout: { workload: 'web', state: 'stalled' } }, view)).toMatchObject({
      ok: true,
      expected: 'the rollout of deployment web is stalled',
      observed: 'stalled (ProgressDeadlineExceeded)',
    });
    expect((await run({ rollout: { workload: 'web', state: 'complete' } }, view)).ok).toBe(false);
    view.workloads.set('web', workload('web', []));
    expect(await run({ rollout: { workload: 'web', state: 'complete' } }, view)).toMatchObject({ ok: false, observed: 'this cluster does not report rollouts' });
  });

  it('refuses an unknown state', () => {
    expect(checkSchema.safeParse({ rollout: { workload: 'web', state: 'done' } }).success).toBe(false);
  });
});

/** A probe's /stats as images/apps/probe serves it. */
function stats(extra: { requests?: number; fail?: number; byReason?: Record<string, number>; longestMs?: number; ongoing?: boolean; versions?: Record<string, number> } = {}) {
  const fail = extra.fail ?? 0;
  const requests = extra.requests ?? 100;
  return {
    target: 'http://web:8080/',
    windowStartedAt: '2026-11-23T15:00:00.000Z',
    totals: { requests, ok: requests - fail, fail, skipped: 0, inFlight: 0 },
    latencyMs: { p50: 1.2, p95: 3.4, max: 9 },
    failures: { first: null, last: null, secondsWithFailures: 0, byReason: extra.byReason ?? {} },
    downtime: { longestMs: extra.longestMs ?? 0, from: null, to: null, failedRequests: fail, ongoing: extra.ongoing ?? false },
    tallies: { 'x-app-version': extra.versions ?? { v1: 60, v2: 40 }, 'x-served-by': { a: 100 } },
    seconds: [],
  };
}

describe('probe check', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(body: unknown, status = 200): Promise<number> {
    server = http.createServer((req, res) => {
      if (req.url !== '/stats') return void res.writeHead(404).end();
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const viewAt = () => new FakeView('swarm', [node('leader', { address: '127.0.0.1' })]);

  it('passes with no failure and the versions seen, reading the node’s port', async () => {
    const port = await serve(stats());
    const r = await run({ probe: { node: 'leader', port, seen: { 'x-app-version': ['v1', 'v2'] } } }, viewAt());
    expect(r.expected).toBe(`the probe at http://leader:${port}/stats measured at least 20 requests, at most 0 failed requests, x-app-version v1 and v2 seen`);
    expect(r).toMatchObject({ ok: true, observed: '100 requests since 2026-11-23T15:00:00.000Z; none failed; x-app-version: v1 ×60, v2 ×40' });
  });

  it('fails on failed requests, saying why they failed and how long the outage was', async () => {
    const port = await serve(stats({ fail: 7, byReason: { ECONNREFUSED: 5, 'HTTP 502': 2 }, longestMs: 1340, ongoing: true }));
    const r = await run({ probe: { node: 'leader', port } }, viewAt());
    expect(r).toMatchObject({ ok: false, observed: '100 requests since 2026-11-23T15:00:00.000Z; 7 failed (ECONNREFUSED ×5, HTTP 502 ×2; longest outage 1.3 s, still going on)' });
    expect((await run({ probe: { node: 'leader', port, maxFailures: 7 } }, viewAt())).ok).toBe(true);
    expect((await run({ probe: { node: 'leader', port, maxFailures: 7, maxDowntimeSeconds: 1 } }, viewAt())).ok).toBe(false);
  });

  it('says what the latest failure saw: who answered and what', async () => {
    const body = stats({ fail: 2, byReason: { 'HTTP 404': 2 }, longestMs: 120 });
    const samples = [
      { at: '2026-11-23T15:00:01.000Z', reason: 'HTTP 404', detail: 'from 10.96.7.7: {"error":"no route GET /"}' },
      { at: '2026-11-23T15:00:01.100Z', reason: 'ECONNREFUSED', detail: 'at 10.96.7.7' },
    ];
    const port = await serve({ ...body, failures: { ...body.failures, samples } });
    const r = await run({ probe: { node: 'leader', port } }, viewAt());
    expect(r.observed).toBe('100 requests since 2026-11-23T15:00:00.000Z; 2 failed (HTTP 404 ×2; longest outage 0.1 s); last failure: ECONNREFUSED at 10.96.7.7');
  });

  it('fails when a version never answered, or the window is too short', async () => {
    const port = await serve(stats({ requests: 10, versions: { v1: 10 } }));
    const r = await run({ probe: { node: 'leader', port, minRequests: 5, seen: { 'x-app-version': ['v2'] } } }, viewAt());
    expect(r).toMatchObject({ ok: false, observed: '10 requests since 2026-11-23T15:00:00.000Z; none failed; x-app-version: v1 ×10; never saw x-app-version v2' });
    expect((await run({ probe: { node: 'leader', port } }, viewAt())).ok).toBe(false);
  });

  it('says so when the answer is not the probe’s, or nothing answers', async () => {
    const port = await serve({ hello: 'world' });
    expect((await run({ probe: { url: `http://127.0.0.1:${port}/stats` } }, viewAt())).observed).toMatch(/: not the probe's stats \(windowStartedAt: /);
    await expect(readProbeStats(`http://127.0.0.1:${port}/nope`)).rejects.toThrow(/HTTP 404$/);
    const missing = await run({ probe: { node: 'worker9', port } }, viewAt());
    expect(missing.observed).toBe('no node worker9 in the cluster (its nodes: leader)');
    expect(checkSchema.safeParse({ probe: { node: 'leader' } }).success).toBe(false);
  });

  it('orders failure reasons by count', () => {
    expect(describeFailureReasons({ b: 1, a: 1, ETIMEDOUT: 4 })).toBe('ETIMEDOUT ×4, a ×1, b ×1');
  });
});
