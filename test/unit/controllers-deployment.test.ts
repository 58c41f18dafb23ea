/**
 * The Deployment controller: its pure arithmetic first, then the controller itself (with the
 * ReplicaSet controller) against the real API server in process, playing the node agent.
 */
import type { Deployment, DeploymentCondition, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupDeploymentController } from '../../src/node/controlplane/controllers/deployment.js';
import { setupReplicaSetController } from '../../src/node/controlplane/controllers/replicaset.js';
import { ApiClient, isNotFound } from '../../src/node/shared/api-client.js';
import { ControllerContext } from '../../src/node/controlplane/controllers/context.js';
import { CONTROLLERS, runControllerManager } from '../../src/node/controlplane/controllers/manager.js';
import { startTestServer } from './apiserver-helpers.js';
import { type ControlPlane, eventually, startControlPlane } from './controller-harness.js';
import { computePodTemplateHash, fnv32a, safeEncodeString, SAFE_ALPHABET } from '../../src/node/controlplane/controllers/hash.js';
import {
  appendRevisionHistory,
  calculateStatus,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  isSaturated,
  isScalingEvent,
  maxSurge,
  maxUnavailable,
  newReplicaSetAnnotations,
  newRSNewReplicas,
  progressCheckDelay,
  proportionalSizes,
  replicaSetsToCleanUp,
  resolveFenceposts,
  rolloutStatus,
  scaledValue,
} from '../../src/node/controlplane/controllers/deployment-util.js';

function deployment(opts: {
  replicas?: number;
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  recreate?: boolean;
  image?: string;
  generation?: number;
  annotations?: Record<string, string>;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  status?: Deployment['status'];
} = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: opts.generation ?? 1, annotations: opts.annotations },
    spec: {
      replicas: opts.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: opts.recreate
        ? { type: 'Recreate' }
        : { type: 'RollingUpdate', rollingUpdate: { maxSurge: opts.maxSurge ?? '25%', maxUnavailable: opts.maxUnavailable ?? '25%' } },
      revisionHistoryLimit: opts.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: opts.progressDeadlineSeconds ?? 600,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: opts.image ?? 'nginx:1' }] } },
    },
    status: opts.status,
  };
}

function replicaSet(
  name: string,
  opts: { replicas: number; available?: number; ready?: number; actual?: number; created?: string; revision?: number; annotations?: Record<string, string>; image?: string; generation?: number; observed?: number },
): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      generation: opts.generation ?? 1,
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
      annotations: { ...(opts.revision !== undefined ? { 'deployment.kubernetes.io/revision': String(opts.revision) } : {}), ...opts.annotations },
    },
    spec: {
      replicas: opts.replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'web', image: opts.image ?? 'nginx:1' }] } },
    },
    status: {
      replicas: opts.actual ?? opts.replicas,
      readyReplicas: opts.ready ?? opts.available ?? opts.replicas,
      availableReplicas: opts.available ?? opts.replicas,
      observedGeneration: opts.observed ?? opts.generation ?? 1,
    },
  };
}

function condition(status: Deployment['status'], type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

describe('pod-template-hash', () => {
  it('is FNV-32a', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    expect(fnv32a(text(''))).toBe(0x811c9dc5);
    expect(fnv32a(text('a'))).toBe(0xe40c292c);
    expect(fnv32a(text('foobar'))).toBe(0xbf9cf968);
    // Hashing in two pieces is hashing the whole.
    expect(fnv32a(text('bar'), fnv32a(text('foo')))).toBe(0xbf9cf968);
  });

  it('renders digits with the safe alphabet, as apimachinery does', () => {
    expect(SAFE_ALPHABET).toBe('bcdfghjklmnpqrstvwxz2456789');
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
  });

  it('depends on the template and the collision count, not on key order or empty fields', () => {
    const template = { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }] } };
    const reordered = { spec: { containers: [{ image: 'nginx:1', name: 'web' }], volumes: [] }, metadata: { labels: { tier: 'front', app: 'web' }, annotations: {} } };
    const hash = computePodTemplateHash(template);
    expect(hash).toMatch(/^[456789bcdf]{1,10}$/);
    expect(computePodTemplateHash(reordered)).toBe(hash);
    expect(computePodTemplateHash({ ...template, spec: { containers: [{ name: 'web', image: 'nginx:2' }] } })).not.toBe(hash);
    expect(computePodTemplateHash(template, 0)).not.toBe(hash);
    expect(computePodTemplateHash(template, 1)).not.toBe(computePodTemplateHash(template, 0));
    expect(computePodTemplateHash(template, 1)).toBe(computePodTemplateHash(template, 1));
  });
});

describe('maxSurge / maxUnavailable', () => {
  it.each([
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    ['25%', 1, true, 1],
    ['25%', 1, false, 0],
    ['100%', 3, false, 3],
    [2, 10, true, 2],
  ] as const)('scaledValue(%s of %s, roundUp %s) = %s', (value, total, roundUp, expected) => {
    expect(scaledValue(value, total, roundUp)).toBe(expected);
  });

  it('rejects a string that is not a percent', () => {
    expect(() => scaledValue('3', 10, true)).toThrow(/not a percentage/);
  });

  it('turns two zero fenceposts into maxUnavailable 1', () => {
    expect(resolveFenceposts('25%', '25%', 1)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(0, '25%', 1)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts(0, 0, 5)).toEqual({ surge: 0, unavailable: 1 });
  });

  it('reads the strategy, with Recreate allowing neither', () => {
    expect(maxSurge(deployment({ replicas: 10 }))).toBe(3);
    expect(maxUnavailable(deployment({ replicas: 10 }))).toBe(2);
    expect(maxUnavailable(deployment({ replicas: 3, maxUnavailable: 5 }))).toBe(3);
    expect(maxUnavailable(deployment({ replicas: 0 }))).toBe(0);
    expect(maxSurge(deployment({ recreate: true }))).toBe(0);
    expect(maxUnavailable(deployment({ recreate: true }))).toBe(0);
  });
});

describe('rolling update steps', () => {
  it.each([
    // desired 4, surge 1: total may reach 5
    { old: 4, current: 0, expected: 1 },
    { old: 4, current: 1, expected: 1 },
    { old: 3, current: 1, expected: 2 },
    { old: 0, current: 3, expected: 4 },
    { old: 2, current: 4, expected: 4 },
  ])('new ReplicaSet with old=$old new=$current may grow to $expected', ({ old, current, expected }) => {
    const d = deployment({ replicas: 4, maxSurge: 1, maxUnavailable: 1 });
    const newRS = replicaSet('new', { replicas: current });
    expect(newRSNewReplicas(d, [replicaSet('old', { replicas: old }), newRS], newRS)).toBe(expected);
  });

  it('lets Recreate go to the full count at once', () => {
    const d = deployment({ replicas: 4, recreate: true });
    const newRS = replicaSet('new', { replicas: 0 });
    expect(newRSNewReplicas(d, [replicaSet('old', { replicas: 4 }), newRS], newRS)).toBe(4);
  });
});

describe('proportional scaling', () => {
  it('shares added replicas by size, as in the Kubernetes documentation example', () => {
    // 10 replicas, maxSurge 3, maxUnavailable 2; mid-rollout old=8, new=5; scaled to 15.
    const annotations = { 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' };
    const old = replicaSet('old', { replicas: 8, annotations, created: '2026-01-01T00:00:00Z' });
    const newer = replicaSet('new', { replicas: 5, annotations, created: '2026-01-01T00:01:00Z' });
    const d = deployment({ replicas: 15, maxSurge: 3, maxUnavailable: 2 });
    const sizes = Object.fromEntries(proportionalSizes(d, [newer, old]).map(({ rs, size, direction }) => [rs.metadata!.name!, { size, direction }]));
    expect(sizes).toEqual({ old: { size: 11, direction: 'up' }, new: { size: 7, direction: 'up' } });
  });

  it('takes removed replicas from the larger ReplicaSets, leftovers from the largest', () => {
    const annotations = { 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' };
    const old = replicaSet('old', { replicas: 8, annotations, created: '2026-01-01T00:00:00Z' });
    const newer = replicaSet('new', { replicas: 5, annotations, created: '2026-01-01T00:01:00Z' });
    const d = deployment({ replicas: 5, maxSurge: 1, maxUnavailable: 1 });
    const result = proportionalSizes(d, [old, newer]);
    const total = result.reduce((sum, { size }) => sum + size, 0);
    expect(total).toBe(6); // 5 + maxSurge 1
    expect(result.map(({ rs, size }) => [rs.metadata!.name, size])).toEqual([
      ['old', 4],
      ['new', 2],
    ]);
    expect(result.every(({ direction }) => direction === 'down')).toBe(true);
  });

  it('knows a scaling event from the desired-replicas annotation of active ReplicaSets', () => {
    const rs = replicaSet('a', { replicas: 3, annotations: { 'deployment.kubernetes.io/desired-replicas': '3' } });
    expect(isScalingEvent(deployment({ replicas: 3 }), [rs])).toBe(false);
    expect(isScalingEvent(deployment({ replicas: 5 }), [rs])).toBe(true);
    expect(isScalingEvent(deployment({ replicas: 5 }), [replicaSet('b', { replicas: 0, annotations: { 'deployment.kubernetes.io/desired-replicas': '3' } })])).toBe(false);
  });

  it('finds the only active ReplicaSet, or the newest when none is active', () => {
    const a = replicaSet('a', { replicas: 0, created: '2026-01-01T00:00:00Z' });
    const b = replicaSet('b', { replicas: 0, created: '2026-01-02T00:00:00Z' });
    const c = replicaSet('c', { replicas: 2, created: '2026-01-03T00:00:00Z' });
    expect(findActiveOrLatest(undefined, [a, b])?.metadata?.name).toBe('b');
    expect(findActiveOrLatest(c, [a, b])?.metadata?.name).toBe('c');
    expect(findActiveOrLatest(c, [a, replicaSet('d', { replicas: 1 })])).toBeUndefined();
  });

  it('calls a new ReplicaSet saturated only when full, told so, and all available', () => {
    const d = deployment({ replicas: 3 });
    const annotations = { 'deployment.kubernetes.io/desired-replicas': '3' };
    expect(isSaturated(d, replicaSet('n', { replicas: 3, annotations }))).toBe(true);
    expect(isSaturated(d, replicaSet('n', { replicas: 3, available: 2, annotations }))).toBe(false);
    expect(isSaturated(d, replicaSet('n', { replicas: 3 }))).toBe(false);
  });
});

describe('templates, revisions and annotations', () => {
  it('matches templates ignoring the hash label and nil-vs-empty', () => {
    const d = deployment();
    const rs = replicaSet('web-abc', { replicas: 1 });
    expect(equalIgnoreHash(rs.spec?.template, d.spec?.template)).toBe(true);
    expect(equalIgnoreHash({ ...d.spec!.template, metadata: { labels: { app: 'web' }, annotations: {} } }, d.spec?.template)).toBe(true);
    expect(equalIgnoreHash(replicaSet('x', { replicas: 1, image: 'nginx:2' }).spec?.template, d.spec?.template)).toBe(false);
    const older = replicaSet('older', { replicas: 1, created: '2026-01-01T00:00:00Z' });
    const newer = replicaSet('newer', { replicas: 1, created: '2026-01-02T00:00:00Z' });
    expect(findNewReplicaSet(d, [newer, older])?.metadata?.name).toBe('older');
  });

  it('raises a reused ReplicaSet to the new revision and keeps the old one in revision-history', () => {
    const d = deployment({
      replicas: 3,
      annotations: { 'kubernetes.io/change-cause': 'kubectl rollout undo', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '2' },
    });
    const rs = replicaSet('web-1', { replicas: 0, revision: 1 });
    const { annotations, changed } = newReplicaSetAnnotations(d, rs, 3, true);
    expect(changed).toBe(true);
    expect(annotations).toEqual({
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
      'kubernetes.io/change-cause': 'kubectl rollout undo',
    });
    // Already at that revision with the same annotations: nothing to write.
    expect(newReplicaSetAnnotations(d, { ...rs, metadata: { ...rs.metadata, annotations } }, 3, true).changed).toBe(false);
  });

  it('gives a ReplicaSet about to be created desired and max replicas', () => {
    const { annotations } = newReplicaSetAnnotations(deployment({ replicas: 4 }), replicaSet('n', { replicas: 0 }), 1, false);
    expect(annotations).toEqual({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '4',
      'deployment.kubernetes.io/max-replicas': '5',
    });
  });

  it('keeps revision-history within its length limit', () => {
    expect(appendRevisionHistory(undefined, '1', 2000)).toBe('1');
    expect(appendRevisionHistory('1,3', '5', 2000)).toBe('1,3,5');
    expect(appendRevisionHistory('1,3', '5', 4)).toBe('3,5');
    expect(appendRevisionHistory('1', '12345', 3)).toBeUndefined();
  });

  it('cleans up only empty old ReplicaSets beyond the history limit, lowest revision first', () => {
    const d = deployment({ revisionHistoryLimit: 1 });
    const sets = [
      replicaSet('r1', { replicas: 0, revision: 1 }),
      replicaSet('r2', { replicas: 0, revision: 2 }),
      replicaSet('r3', { replicas: 0, revision: 3 }),
    ];
    expect(replicaSetsToCleanUp(d, sets).map((rs) => rs.metadata?.name)).toEqual(['r1', 'r2']);
    const busy = [replicaSet('r1', { replicas: 1, revision: 1 }), ...sets.slice(1)];
    expect(replicaSetsToCleanUp(d, busy).map((rs) => rs.metadata?.name)).toEqual(['r2']);
    expect(replicaSetsToCleanUp(deployment({ revisionHistoryLimit: 5 }), sets)).toEqual([]);
  });
});

describe('status and conditions', () => {
  const now = new Date('2026-06-01T12:00:00Z');

  it('counts over the ReplicaSets and sets Available', () => {
    const d = deployment({ replicas: 4, maxUnavailable: 1, generation: 7 });
    const old = replicaSet('old', { replicas: 2, available: 2 });
    const newRS = replicaSet('new', { replicas: 3, available: 1, ready: 2 });
    const status = calculateStatus([old, newRS], newRS, d, now);
    expect(status).toMatchObject({ observedGeneration: 7, replicas: 5, updatedReplicas: 3, readyReplicas: 4, availableReplicas: 3, unavailableReplicas: 2 });
    expect(condition(status, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    const low = calculateStatus([replicaSet('new', { replicas: 4, available: 2 })], undefined, d, now);
    expect(condition(low, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
    expect(low.updatedReplicas).toBeUndefined(); // zero counts are left out, as the API does
  });

  it('reports progress, completion and a passed deadline in Progressing', () => {
    const newRS = replicaSet('web-new', { replicas: 3, available: 1 });
    const started = '2026-06-01T11:59:00Z';
    const progressing: DeploymentCondition = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', lastUpdateTime: started, lastTransitionTime: started };
    const d = deployment({ replicas: 3, status: { replicas: 3, updatedReplicas: 3, availableReplicas: 0, conditions: [progressing] } });

    const moving = rolloutStatus([newRS], newRS, d, now);
    expect(condition(moving, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'ReplicaSetUpdated',
      message: 'ReplicaSet "web-new" is progressing.',
      lastUpdateTime: '2026-06-01T12:00:00Z',
      lastTransitionTime: started,
    });

    const done = rolloutStatus([replicaSet('web-new', { replicas: 3 })], replicaSet('web-new', { replicas: 3 }), d, now);
    expect(condition(done, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "web-new" has successfully progressed.' });

    const stuck = deployment({ replicas: 3, progressDeadlineSeconds: 30, status: { replicas: 3, updatedReplicas: 3, readyReplicas: 1, availableReplicas: 1, conditions: [progressing] } });
    const timedOut = rolloutStatus([newRS], newRS, stuck, now);
    expect(condition(timedOut, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-new" has timed out progressing.' });
    // Within the deadline nothing changes, and the controller is told when to look again.
    const patient = deployment({ replicas: 3, progressDeadlineSeconds: 600, status: stuck.status });
    const unchanged = rolloutStatus([newRS], newRS, patient, now);
    expect(condition(unchanged, 'Progressing')).toEqual(progressing);
    expect(progressCheckDelay(patient, unchanged, now)).toBe(600_000 - 60_000 + 1000);
  });

  it('copies a ReplicaSet failure into the Deployment', () => {
    const failing = replicaSet('web-new', { replicas: 3, available: 0 });
    const withFailure: ReplicaSet = {
      ...failing,
      status: { ...failing.status!, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: '2026-06-01T11:00:00Z' }] },
    };
    const status = rolloutStatus([withFailure], withFailure, deployment(), now);
    expect(condition(status, 'ReplicaFailure')).toEqual({
      type: 'ReplicaFailure',
      status: 'True',
      reason: 'FailedCreate',
      message: 'quota',
      lastUpdateTime: '2026-06-01T11:00:00Z',
      lastTransitionTime: '2026-06-01T11:00:00Z',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Against the API server, with the ReplicaSet controller; the test plays the node agent
// ---------------------------------------------------------------------------------------------

const NS = '/api/v1/namespaces/default';
const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const REPLICASETS = '/apis/apps/v1/namespaces/default/replicasets';

function manifest(opts: {
  replicas: number;
  image?: string;
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  recreate?: boolean;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  changeCause?: string;
}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', ...(opts.changeCause ? { annotations: { 'kubernetes.io/change-cause': opts.changeCause } } : {}) },
    spec: {
      replicas: opts.replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: opts.recreate
        ? { type: 'Recreate' }
        : { type: 'RollingUpdate', rollingUpdate: { maxSurge: opts.maxSurge ?? '25%', maxUnavailable: opts.maxUnavailable ?? '25%' } },
      ...(opts.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: opts.revisionHistoryLimit } : {}),
      ...(opts.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: opts.progressDeadlineSeconds } : {}),
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: opts.image ?? 'nginx:1' }] } },
    },
  };
}

describe('Deployment controller', () => {
  let cp: ControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane([setupReplicaSetController, setupDeploymentController]);
  });
  afterEach(async () => {
    await cp.stop();
  });

  const getDeployment = () => cp.client.get<Deployment>(`${DEPLOYMENTS}/web`);
  const replicaSets = async (): Promise<ReplicaSet[]> => (await cp.client.list<ReplicaSet>(REPLICASETS)).items;
  const pods = async (): Promise<Pod[]> => (await cp.client.list<Pod>(`${NS}/pods`, { labelSelector: 'app=web' })).items;
  const live = (list: Pod[]) => list.filter((p) => p.metadata?.deletionTimestamp === undefined);
  const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const events = async (): Promise<Event[]> => (await cp.client.list<Event>(`${NS}/events`, { fieldSelector: 'involvedObject.kind=Deployment' })).items;
  const setImage = (image: string) =>
    cp.client.patch(`${DEPLOYMENTS}/web`, { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } }, 'strategic');
  const rsWithImage = (sets: ReplicaSet[], image: string) => sets.find((rs) => rs.spec?.template?.spec?.containers?.[0]?.image === image);

  /** The node agent: bind a pod, report it Running (Ready or not). */
  async function runPod(p: Pod, ready: boolean): Promise<void> {
    const name = p.metadata!.name!;
    try {
      if (!p.spec?.nodeName) {
        await cp.client.create(`${NS}/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-1' } });
      }
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await cp.client.patch(`${NS}/pods/${name}/status`, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] } }, 'merge');
    } catch (err) {
      if (!isNotFound(err)) throw err; // deleted meanwhile: nothing to run
    }
  }

  /** The node agent confirming that terminating pods have stopped. */
  async function finishTerminating(): Promise<number> {
    let finished = 0;
    for (const p of await pods()) {
      if (p.metadata?.deletionTimestamp === undefined) continue;
      await cp.client.delete(`${NS}/pods/${p.metadata.name}`, { gracePeriodSeconds: 0 }).catch(() => undefined);
      finished += 1;
    }
    return finished;
  }

  /** Runs every pod Ready (and ends terminating ones) until `done`; bounded in time. */
  async function agentUntil<T>(what: string, done: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
    return eventually(
      what,
      async () => {
        await finishTerminating();
        for (const p of live(await pods())) if (!isReady(p)) await runPod(p, true);
        return done();
      },
      timeoutMs,
    );
  }

  const complete = async (replicas: number, image?: string): Promise<Deployment | undefined> => {
    const d = await getDeployment();
    const s = d.status;
    const done =
      (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
      s?.updatedReplicas === replicas &&
      s?.replicas === replicas &&
      s?.availableReplicas === replicas &&
      s?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable');
    if (!done) return undefined;
    if (image !== undefined && d.spec?.template?.spec?.containers?.[0]?.image !== image) return undefined;
    return d;
  };

  it('creates a ReplicaSet named by pod-template-hash, at revision 1, and completes the rollout', async () => {
    const d = await cp.client.create<Deployment>(DEPLOYMENTS, manifest({ replicas: 3, changeCause: 'first release' }));
    const rs = await eventually('a ReplicaSet', async () => (await replicaSets())[0]);
    const hash = rs.metadata!.labels!['pod-template-hash']!;
    expect(hash).toMatch(/^[456789bcdf]+$/);
    expect(rs.metadata?.name).toBe(`web-${hash}`);
    expect(rs.spec?.selector).toEqual({ matchLabels: { app: 'web', 'pod-template-hash': hash } });
    expect(rs.spec?.template?.metadata?.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    expect(rs.metadata?.annotations).toEqual({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
      'kubernetes.io/change-cause': 'first release',
    });
    // The template is the Deployment's, apart from the hash label (describe and undo rely on it).
    const stored = await getDeployment();
    expect(equalIgnoreHash(rs.spec?.template, stored.spec?.template)).toBe(true);
    expect(rs.spec?.replicas).toBe(3);

    const done = await agentUntil('rollout complete', () => complete(3));
    expect(done.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(done.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(done.status?.unavailableReplicas).toBeUndefined();
    expect(condition(done.status, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(condition(done.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "web-${hash}" has successfully progressed.` });
    const scaled = (await events()).filter((e) => e.reason === 'ScalingReplicaSet');
    expect(scaled.map((e) => e.message)).toEqual([`Scaled up replica set web-${hash} from 0 to 3`]);
    expect(scaled[0]).toMatchObject({ source: { component: 'deployment-controller' }, involvedObject: { kind: 'Deployment', name: 'web', uid: d.metadata!.uid } });
    expect(await pods()).toHaveLength(3);
  });

  it('scales its only ReplicaSet with kubectl scale', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 3 }));
    await agentUntil('3 replicas', () => complete(3));
    await cp.client.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 1 } }, 'merge');
    const done = await agentUntil('1 replica', () => complete(1));
    expect(done.status?.replicas).toBe(1);
    const [rs] = await replicaSets();
    expect(rs?.spec?.replicas).toBe(1);
    expect(rs?.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe('1');
    expect(rs?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1'); // scaling is not a new revision
    const messages = (await events()).filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
    expect(messages).toContain(`Scaled down replica set ${rs!.metadata!.name} from 3 to 1`);
  });

  it('resolves a pod-template-hash collision with collisionCount', async () => {
    // Paused from the start: no ReplicaSet yet, so the test can take its name first.
    await cp.client.create(DEPLOYMENTS, { ...manifest({ replicas: 1 }), spec: { ...manifest({ replicas: 1 }).spec!, paused: true } });
    const stored = await getDeployment();
    const hash = computePodTemplateHash(stored.spec?.template);
    await cp.client.create(REPLICASETS, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `web-${hash}` },
      spec: { replicas: 0, selector: { matchLabels: { app: 'squatter' } }, template: { metadata: { labels: { app: 'squatter' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await cp.client.patch(`${DEPLOYMENTS}/web`, { spec: { paused: false } }, 'merge');
    const done = await agentUntil('rollout despite the collision', () => complete(1));
    expect(done.status?.collisionCount).toBe(1);
    const ours = (await replicaSets()).find((rs) => rs.metadata?.ownerReferences?.[0]?.uid === done.metadata?.uid)!;
    const newHash = computePodTemplateHash(stored.spec?.template, 1);
    expect(ours.metadata?.name).toBe(`web-${newHash}`);
    expect(newHash).not.toBe(hash);
  });

  it('rolls out a new image within maxSurge and maxUnavailable at every step', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 4, maxSurge: 1, maxUnavailable: 1 }));
    await agentUntil('first rollout', () => complete(4));
    const violations: string[] = [];
    let monitoring = true;
    // Watches the bounds continuously while the test steps pods to Ready one at a time.
    const monitor = (async () => {
      while (monitoring) {
        const [sets, current] = await Promise.all([replicaSets(), pods()]);
        const desiredTotal = sets.reduce((sum, rs) => sum + (rs.spec?.replicas ?? 0), 0);
        const readyLive = live(current).filter(isReady).length;
        if (desiredTotal > 5) violations.push(`ReplicaSets want ${desiredTotal} pods (max 4 + 1)`);
        if (readyLive < 3) violations.push(`only ${readyLive} ready pods (min 4 - 1)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await setImage('nginx:2');
    const deadline = Date.now() + 15_000;
    let steps = 0;
    for (;;) {
      if (Date.now() > deadline) throw new Error('rolling update did not finish in 15 s');
      await new Promise((r) => setTimeout(r, 150)); // let the controllers settle
      await finishTerminating();
      if (await complete(4, 'nginx:2')) break;
      const notReady = live(await pods()).filter((p) => !isReady(p));
      if (notReady.length > 0) {
        await runPod(notReady[0]!, true); // one pod becomes Ready per step
        steps += 1;
      }
    }
    monitoring = false;
    await monitor;
    expect(violations).toEqual([]);
    expect(steps).toBe(4); // each of the 4 new pods became Ready once, none was replaced
    const sets = await replicaSets();
    const newRS = rsWithImage(sets, 'nginx:2')!;
    const oldRS = rsWithImage(sets, 'nginx:1')!;
    expect(newRS.spec?.replicas).toBe(4);
    expect(oldRS.spec?.replicas).toBe(0);
    expect(newRS.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect((await getDeployment()).metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const messages = (await events()).filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
    expect(messages).toContain(`Scaled up replica set ${newRS.metadata!.name} from 0 to 1`);
    expect(messages).toContain(`Scaled down replica set ${oldRS.metadata!.name} from 4 to 3`);
    expect(messages.some((m) => new RegExp(`^Scaled down replica set ${oldRS.metadata!.name} from [12] to 0$`).test(m ?? ''))).toBe(true);
  });

  it('Recreate: the new ReplicaSet starts only once every old pod is gone', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 2, recreate: true }));
    await agentUntil('first rollout', () => complete(2));
    await setImage('nginx:2');
    // Old pods are terminating (the agent has not confirmed): nothing new may start.
    await eventually('old ReplicaSet scaled to 0', async () => (rsWithImage(await replicaSets(), 'nginx:1')?.spec?.replicas === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const terminating = (await pods()).filter((p) => p.metadata?.deletionTimestamp !== undefined);
    expect(terminating).toHaveLength(2);
    const waiting = rsWithImage(await replicaSets(), 'nginx:2');
    expect(waiting?.spec?.replicas ?? 0).toBe(0);
    expect(live(await pods())).toHaveLength(0);
    // The agent confirms; the new ReplicaSet then gets every replica at once.
    await finishTerminating();
    const newRS = await eventually('new ReplicaSet scaled up', async () => {
      const rs = rsWithImage(await replicaSets(), 'nginx:2');
      return rs?.spec?.replicas === 2 ? rs : undefined;
    });
    expect(newRS.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    await agentUntil('second rollout', () => complete(2, 'nginx:2'));
  });

  it('makes no progress while paused and resumes', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 2 }));
    await agentUntil('first rollout', () => complete(2));
    await cp.client.patch(`${DEPLOYMENTS}/web`, { spec: { paused: true } }, 'merge');
    await eventually('paused condition', async () =>
      condition((await getDeployment()).status, 'Progressing')?.reason === 'DeploymentPaused' ? true : undefined,
    );
    await setImage('nginx:2');
    await new Promise((r) => setTimeout(r, 700));
    expect(await replicaSets()).toHaveLength(1);
    const paused = await getDeployment();
    expect(condition(paused.status, 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    expect(paused.status?.observedGeneration).toBe(paused.metadata?.generation); // seen, deliberately not acted on
    await cp.client.patch(`${DEPLOYMENTS}/web`, { spec: { paused: false } }, 'merge');
    await agentUntil('rollout after resume', () => complete(2, 'nginx:2'));
    expect(await replicaSets()).toHaveLength(2);
  });

  it('rolls back to revision 1 by reusing its ReplicaSet, which becomes revision 3', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 2 }));
    await agentUntil('revision 1', () => complete(2));
    const first = (await replicaSets())[0]!;
    await setImage('nginx:2');
    await agentUntil('revision 2', () => complete(2, 'nginx:2'));
    // What `kubectl rollout undo` sends: a JSON patch putting revision 1's template back.
    const template = structuredClone((await cp.client.get<ReplicaSet>(`${REPLICASETS}/${first.metadata!.name}`)).spec!.template!);
    delete template.metadata!.labels!['pod-template-hash'];
    const current = await getDeployment();
    await cp.client.patch(
      `${DEPLOYMENTS}/web`,
      [
        { op: 'replace', path: '/spec/template', value: template },
        { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': current.metadata!.annotations!['deployment.kubernetes.io/revision'] } },
      ],
      'json',
    );
    const done = await agentUntil('rolled back', () => complete(2, 'nginx:1'));
    const sets = await replicaSets();
    expect(sets).toHaveLength(2); // no third ReplicaSet
    const reused = sets.find((rs) => rs.metadata?.uid === first.metadata?.uid)!;
    expect(reused.spec?.replicas).toBe(2);
    expect(reused.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(reused.metadata?.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    expect(done.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(rsWithImage(sets, 'nginx:2')?.spec?.replicas).toBe(0);
  });

  it('deletes old ReplicaSets beyond revisionHistoryLimit', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 1, revisionHistoryLimit: 1 }));
    await agentUntil('v1', () => complete(1));
    for (const image of ['nginx:2', 'nginx:3']) {
      await setImage(image);
      await agentUntil(image, () => complete(1, image));
    }
    const sets = await eventually('history trimmed to 1', async () => {
      const found = await replicaSets();
      return found.length === 2 ? found : undefined;
    });
    expect(sets.map((rs) => rs.spec?.template?.spec?.containers?.[0]?.image).sort()).toEqual(['nginx:2', 'nginx:3']);
    expect(sets.map((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort()).toEqual(['2', '3']);
  });

  it('reports ProgressDeadlineExceeded when pods never become ready', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 2, progressDeadlineSeconds: 2 }));
    const created = await eventually('2 pods', async () => {
      const found = await pods();
      return found.length === 2 ? found : undefined;
    });
    for (const p of created) await runPod(p, false); // running, never ready
    const stuck = await eventually(
      'deadline exceeded',
      async () => {
        const d = await getDeployment();
        return condition(d.status, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? d : undefined;
      },
      10_000,
    );
    const rsName = (await replicaSets())[0]!.metadata!.name!;
    expect(condition(stuck.status, 'Progressing')).toMatchObject({ status: 'False', message: `ReplicaSet "${rsName}" has timed out progressing.` });
    expect(condition(stuck.status, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(stuck.status?.unavailableReplicas).toBe(2);
  }, 15_000);

  it('scales proportionally when scaled in the middle of a rollout', async () => {
    await cp.client.create(DEPLOYMENTS, manifest({ replicas: 10, maxSurge: 3, maxUnavailable: 2 }));
    await agentUntil('first rollout', () => complete(10), 10_000);
    await setImage('nginx:bad'); // its pods will never become ready
    const stalled = await eventually('rollout stalled at 8 old + 5 new', async () => {
      await finishTerminating();
      const sets = await replicaSets();
      const oldRS = rsWithImage(sets, 'nginx:1');
      const newRS = rsWithImage(sets, 'nginx:bad');
      return oldRS?.spec?.replicas === 8 && newRS?.spec?.replicas === 5 ? { oldRS, newRS } : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(rsWithImage(await replicaSets(), 'nginx:1')?.spec?.replicas).toBe(8); // stays stalled
    await cp.client.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 15 } }, 'merge');
    const scaled = await eventually('proportional scale-up', async () => {
      const sets = await replicaSets();
      const oldRS = rsWithImage(sets, 'nginx:1');
      const newRS = rsWithImage(sets, 'nginx:bad');
      return oldRS?.spec?.replicas === 11 && newRS?.spec?.replicas === 7 ? { oldRS, newRS } : undefined;
    });
    // Both now know the new size.
    for (const rs of [scaled.oldRS, scaled.newRS]) {
      expect(rs.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe('15');
      expect(rs.metadata?.annotations?.['deployment.kubernetes.io/max-replicas']).toBe('18');
    }
    const messages = (await events()).filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
    expect(messages).toContain(`Scaled up replica set ${stalled.oldRS.metadata!.name} from 8 to 11`);
    expect(messages).toContain(`Scaled up replica set ${stalled.newRS.metadata!.name} from 5 to 7`);
  }, 20_000);
});

describe('controller manager', () => {
  it('starts the controllers it is given on shared informers and stops with the signal', async () => {
    const server = await startTestServer();
    const client = new ApiClient({ servers: [server.url], ca: '', cert: '', key: '', userAgent: 'manager-test' });
    const abort = new AbortController();
    const logs: string[] = [];
    const ctx = new ControllerContext(client, abort.signal, (line) => logs.push(line));
    try {
      const running = runControllerManager(ctx, { replicaset: setupReplicaSetController, deployment: setupDeploymentController });
      await client.create(DEPLOYMENTS, manifest({ replicas: 2 }));
      const created = await eventually('pods through Deployment and ReplicaSet', async () => {
        const found = (await client.list<Pod>(`${NS}/pods`)).items;
        return found.length === 2 ? found : undefined;
      });
      expect(created[0]?.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
      expect(logs).toContain('controller manager: started replicaset, deployment');
      abort.abort();
      await expect(running).resolves.toBeUndefined();
    } finally {
      abort.abort();
      await server.close();
    }
  });

  it('knows every controller of the manager', () => {
    expect(Object.keys(CONTROLLERS).sort()).toEqual(['cluster-endpoints', 'cronjob', 'daemonset', 'deployment', 'disruption', 'endpoint', 'job', 'node-ipam', 'node-lifecycle', 'replicaset']);
  });
});
