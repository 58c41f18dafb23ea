/**
 * The ReplicaSet controller: its pure parts (status, which pods go first, slow start, claim
 * rules, expectations), then the controller against the real API server in process, with the
 * test playing the node agent (pod status) where needed.
 */
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupReplicaSetController } from '../../src/node/controlplane/controllers/replicaset.js';
import { type ControlPlane, eventually, startControlPlane } from './controller-harness.js';
import { claimDecision } from '../../src/node/controlplane/controllers/owner.js';
import { Expectations } from '../../src/node/controlplane/controllers/expectations.js';
import { PodControl, slowStartBatch } from '../../src/node/controlplane/controllers/pod-control.js';
import { ApiError } from '../../src/node/shared/api-client.js';
import { podsToDelete } from '../../src/node/controlplane/controllers/pod-ranking.js';
import { calculateReplicaSetStatus } from '../../src/node/controlplane/controllers/replicaset.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function pod(
  name: string,
  opts: { node?: string; phase?: string; ready?: boolean; readySince?: string; created?: string; labels?: Record<string, string>; cost?: number; restarts?: number; uid?: string } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: opts.uid ?? `uid-${name}`,
      creationTimestamp: opts.created ?? '2026-06-01T10:00:00Z',
      labels: opts.labels ?? { app: 'web' },
      ...(opts.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(opts.cost) } } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(opts.node !== undefined ? { nodeName: opts.node } : { nodeName: 'n1' }) },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: opts.readySince ?? '2026-06-01T10:00:00Z' }],
      containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: opts.ready !== false, restartCount: opts.restarts ?? 0 }],
    },
  };
}

function rsObject(opts: { replicas?: number; minReadySeconds?: number; conditions?: NonNullable<ReplicaSet['status']>['conditions'] } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-rs', generation: 2 },
    spec: {
      replicas: opts.replicas ?? 3,
      minReadySeconds: opts.minReadySeconds ?? 0,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
    status: { replicas: 0, observedGeneration: 1, ...(opts.conditions ? { conditions: opts.conditions } : {}) },
  };
}

describe('ReplicaSet status', () => {
  it('counts replicas, fully labeled, ready and available pods', () => {
    const pods = [
      pod('a', { labels: { app: 'web', tier: 'front' }, readySince: '2026-06-01T11:00:00Z' }),
      pod('b', { labels: { app: 'web' }, readySince: '2026-06-01T11:59:58Z' }),
      pod('c', { labels: { app: 'web', tier: 'front', extra: 'x' }, ready: false }),
    ];
    const status = calculateReplicaSetStatus(rsObject({ minReadySeconds: 10 }), pods, undefined, NOW);
    expect(status).toEqual({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 1 });
  });

  it('leaves zero counts out but always writes replicas', () => {
    expect(calculateReplicaSetStatus(rsObject(), [], undefined, NOW)).toEqual({ replicas: 0, observedGeneration: 1 });
  });

  it('sets ReplicaFailure on a failed create and clears it after a good sync', () => {
    const failed = calculateReplicaSetStatus(rsObject({ replicas: 3 }), [pod('a')], new Error('pods "web-x" is forbidden: exceeded quota'), NOW);
    expect(failed.conditions).toEqual([
      { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-x" is forbidden: exceeded quota', lastTransitionTime: '2026-06-01T12:00:00Z' },
    ]);
    const tooMany = calculateReplicaSetStatus(rsObject({ replicas: 0 }), [pod('a')], new Error('no'), NOW);
    expect(tooMany.conditions?.[0]?.reason).toBe('FailedDelete');
    const recovered = calculateReplicaSetStatus(rsObject({ conditions: failed.conditions }), [pod('a')], undefined, NOW);
    expect(recovered.conditions).toBeUndefined();
  });
});

describe('which pods are deleted first', () => {
  const names = (pods: Pod[]) => pods.map((p) => p.metadata?.name);

  it.each([
    ['unscheduled before scheduled', [pod('scheduled'), pod('unscheduled', { node: '', phase: 'Pending', ready: false })], 'unscheduled'],
    ['pending before running', [pod('running'), pod('pending', { phase: 'Pending', ready: false })], 'pending'],
    ['not ready before ready', [pod('ready'), pod('not-ready', { ready: false })], 'not-ready'],
    ['lower deletion cost first', [pod('costly', { cost: 100 }), pod('cheap', { cost: -5 })], 'cheap'],
    ['more restarts first', [pod('steady'), pod('flapping', { restarts: 7 })], 'flapping'],
    [
      'ready for less time first (an order of magnitude apart)',
      [pod('long-ready', { readySince: '2026-05-01T00:00:00Z' }), pod('just-ready', { readySince: '2026-06-01T11:59:00Z' })],
      'just-ready',
    ],
    [
      'newer before older',
      [
        pod('old', { created: '2026-01-01T00:00:00Z', readySince: '2026-06-01T10:00:00Z' }),
        pod('new', { created: '2026-06-01T09:00:00Z', readySince: '2026-06-01T10:00:00Z' }),
      ],
      'new',
    ],
  ] as const)('%s', (_what, candidates, expected) => {
    expect(names(podsToDelete([...candidates], [...candidates], 1, NOW))).toEqual([expected]);
  });

  it('prefers a pod sharing its node with more siblings', () => {
    const alone = pod('alone', { node: 'n1' });
    const crowded = pod('crowded', { node: 'n2' });
    const siblings = [pod('s1', { node: 'n2' }), pod('s2', { node: 'n2' })];
    expect(names(podsToDelete([alone, crowded], [alone, crowded, ...siblings], 1, NOW))).toEqual(['crowded']);
  });

  it('returns every candidate when all go', () => {
    expect(names(podsToDelete([pod('a'), pod('b')], [], 5, NOW))).toEqual(['a', 'b']);
  });
});

describe('slow start', () => {
  it('doubles the batch while calls succeed and stops after a failing batch', async () => {
    let calls = 0;
    const result = await slowStartBatch(10, 1, async () => {
      calls += 1;
      if (calls === 3) throw new Error('quota');
    });
    // Batches of 1 then 2: the second batch holds the failure, so no batch of 4 follows.
    expect(calls).toBe(3);
    expect(result.successes).toBe(2);
    expect(result.error?.message).toBe('quota');
    let all = 0;
    expect(await slowStartBatch(7, 1, async () => void (all += 1))).toEqual({ successes: 7 });
    expect(all).toBe(7);
  });
});

describe('claiming', () => {
  const owner = { metadata: { uid: 'owner', namespace: 'default' } };
  const deletingOwner = { metadata: { uid: 'owner', namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z' } };
  const ref = (uid: string) => ({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid, controller: true }] });
  it.each([
    ['keeps what it controls and selects', { metadata: { namespace: 'default', ...ref('owner') } }, owner, true, 'keep'],
    ['releases what it controls but no longer selects', { metadata: { namespace: 'default', ...ref('owner') } }, owner, false, 'release'],
    ['does not release while being deleted', { metadata: { namespace: 'default', ...ref('owner') } }, deletingOwner, false, 'ignore'],
    ["ignores someone else's", { metadata: { namespace: 'default', ...ref('other') } }, owner, true, 'ignore'],
    ['adopts a matching orphan', { metadata: { namespace: 'default' } }, owner, true, 'adopt'],
    ['ignores a non-matching orphan', { metadata: { namespace: 'default' } }, owner, false, 'ignore'],
    ['ignores an orphan being deleted', { metadata: { namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z' } }, owner, true, 'ignore'],
    ['ignores an orphan in another namespace', { metadata: { namespace: 'other' } }, owner, true, 'ignore'],
  ] as const)('%s', (_what, obj, who, matches, expected) => {
    expect(claimDecision(obj, who, matches)).toBe(expected);
  });
});

describe('expectations', () => {
  it('holds a key until its creates and deletes are observed, or the wait expires', () => {
    let now = 0;
    const expectations = new Expectations(1000, () => now);
    expect(expectations.satisfied('k')).toBe(true);
    expectations.expectCreations('k', 2);
    expect(expectations.satisfied('k')).toBe(false);
    expectations.creationObserved('k');
    expect(expectations.satisfied('k')).toBe(false);
    expectations.creationObserved('k');
    expect(expectations.satisfied('k')).toBe(true);
    expectations.expectDeletions('k', ['default/a', 'default/b']);
    expectations.deletionObserved('k', 'default/a');
    expectations.deletionObserved('k', 'default/a'); // the same pod seen twice counts once
    expect(expectations.satisfied('k')).toBe(false);
    now = 1001;
    expect(expectations.satisfied('k')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Against the API server
// ---------------------------------------------------------------------------------------------

const NS = '/api/v1/namespaces/default';
const RS_PATH = '/apis/apps/v1/namespaces/default/replicasets';

function replicaSetManifest(name: string, replicas: number, opts: { minReadySeconds?: number } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      ...(opts.minReadySeconds ? { minReadySeconds: opts.minReadySeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'front' } }, spec: { containers: [{ name: 'main', image: 'busybox:1' }] } },
    },
  };
}

describe('ReplicaSet controller', () => {
  let cp: ControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane([setupReplicaSetController]);
  });
  afterEach(async () => {
    await cp.stop();
  });

  const pods = async (app: string): Promise<Pod[]> => (await cp.client.list<Pod>(`${NS}/pods`, { labelSelector: `app=${app}` })).items;
  const livePods = async (app: string): Promise<Pod[]> => (await pods(app)).filter((p) => p.metadata?.deletionTimestamp === undefined);
  const getRS = (name: string) => cp.client.get<ReplicaSet>(`${RS_PATH}/${name}`);
  const events = async (name: string): Promise<Event[]> =>
    (await cp.client.list<Event>(`${NS}/events`, { fieldSelector: `involvedObject.name=${name}` })).items;

  /** The node agent's part: bind the pod to a node and report it Running (Ready or not). */
  async function runPod(p: Pod, ready: boolean): Promise<void> {
    const name = p.metadata!.name!;
    if (!p.spec?.nodeName) {
      await cp.client.create(`${NS}/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-1' } });
    }
    // Whole seconds, rounded up: the pod is never "ready for longer" than it really was.
    const now = new Date(Math.ceil(Date.now() / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    await cp.client.patch(`${NS}/pods/${name}/status`, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] } }, 'merge');
  }

  it('creates the missing pods with a controller reference, generateName and events', async () => {
    const rs = await cp.client.create<ReplicaSet>(RS_PATH, replicaSetManifest('web', 3));
    const created = await eventually('3 pods', async () => {
      const found = await pods('web');
      return found.length === 3 ? found : undefined;
    });
    for (const p of created) {
      expect(p.metadata?.generateName).toBe('web-');
      expect(p.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(p.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
      expect(p.metadata?.ownerReferences).toEqual([
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    const messages = await eventually('3 SuccessfulCreate events', async () => {
      const found = (await events('web')).filter((e) => e.reason === 'SuccessfulCreate');
      return found.length === 3 ? found : undefined;
    });
    expect(messages.map((e) => e.message).sort()).toEqual(created.map((p) => `Created pod: ${p.metadata!.name}`).sort());
    expect(messages[0]).toMatchObject({ type: 'Normal', source: { component: 'replicaset-controller' }, involvedObject: { kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid } });
    const status = await eventually('status', async () => {
      const current = await getRS('web');
      return current.status?.replicas === 3 && current.status.observedGeneration === 1 ? current.status : undefined;
    });
    expect(status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
    // Settled: no more pods than asked for.
    await new Promise((r) => setTimeout(r, 300));
    expect(await pods('web')).toHaveLength(3);
  });

  it('deletes the not-ready pod first when scaled down', async () => {
    await cp.client.create(RS_PATH, replicaSetManifest('web', 3));
    const created = await eventually('3 pods', async () => {
      const found = await pods('web');
      return found.length === 3 ? found : undefined;
    });
    const [notReady, ...ready] = created;
    await runPod(notReady!, false);
    for (const p of ready) await runPod(p, true);
    await eventually('2 ready', async () => ((await getRS('web')).status?.readyReplicas === 2 ? true : undefined));
    await cp.client.patch(`${RS_PATH}/web/scale`, { spec: { replicas: 2 } }, 'merge');
    const remaining = await eventually('one pod being deleted', async () => {
      const live = await livePods('web');
      return live.length === 2 ? live : undefined;
    });
    expect(remaining.map((p) => p.metadata!.name).sort()).toEqual(ready.map((p) => p.metadata!.name).sort());
    // Bound pods end gracefully: the pod waits, marked, for its node agent.
    const terminating = (await pods('web')).find((p) => p.metadata?.deletionTimestamp !== undefined);
    expect(terminating?.metadata?.name).toBe(notReady!.metadata!.name);
    const deleted = await eventually('SuccessfulDelete event', async () => (await events('web')).find((e) => e.reason === 'SuccessfulDelete'));
    expect(deleted.message).toBe(`Deleted pod: ${notReady!.metadata!.name}`);
    const status = await eventually('status of 2', async () => {
      const current = await getRS('web');
      return current.status?.replicas === 2 && current.status.observedGeneration === current.metadata?.generation ? current.status : undefined;
    });
    expect(status.readyReplicas).toBe(2);
  });

  it('adopts an orphan pod its selector matches', async () => {
    const orphan = await cp.client.create<Pod>(`${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', labels: { app: 'web', tier: 'front' } },
      spec: { containers: [{ name: 'main', image: 'busybox:1' }] },
    });
    const rs = await cp.client.create<ReplicaSet>(RS_PATH, replicaSetManifest('web', 2));
    await eventually('orphan adopted', async () => {
      const p = await cp.client.get<Pod>(`${NS}/pods/orphan`);
      return p.metadata?.ownerReferences?.[0]?.uid === rs.metadata!.uid ? p : undefined;
    });
    const all = await eventually('2 pods', async () => {
      const found = await pods('web');
      return found.length === 2 ? found : undefined;
    });
    expect(all.map((p) => p.metadata!.name)).toContain('orphan');
    await new Promise((r) => setTimeout(r, 300));
    expect(await pods('web')).toHaveLength(2); // only one pod was created
    const orphanNow = await cp.client.get<Pod>(`${NS}/pods/orphan`);
    expect(orphanNow.metadata?.uid).toBe(orphan.metadata?.uid);
    expect(orphanNow.metadata?.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('releases a pod whose labels no longer match and replaces it', async () => {
    await cp.client.create(RS_PATH, replicaSetManifest('web', 2));
    const [first] = await eventually('2 pods', async () => {
      const found = await pods('web');
      return found.length === 2 ? found : undefined;
    });
    const name = first!.metadata!.name!;
    await cp.client.patch(`${NS}/pods/${name}`, { metadata: { labels: { app: 'debug' } } }, 'merge');
    const released = await eventually('pod released', async () => {
      const p = await cp.client.get<Pod>(`${NS}/pods/${name}`);
      return (p.metadata?.ownerReferences ?? []).length === 0 ? p : undefined;
    });
    expect(released.metadata?.labels).toEqual({ app: 'debug', tier: 'front' });
    const replaced = await eventually('a replacement', async () => {
      const found = await pods('web');
      return found.length === 2 && found.every((p) => p.metadata?.name !== name) ? found : undefined;
    });
    expect(replaced.every((p) => p.metadata?.ownerReferences?.[0]?.name === 'web')).toBe(true);
  });

  it('records FailedCreate with the server\'s reason when a pod cannot be created', async () => {
    const control = new PodControl(cp.client, 'replicaset-controller');
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'broken', namespace: 'default', uid: 'uid-broken' } };
    const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'broken', uid: 'uid-broken', controller: true, blockOwnerDeletion: true };
    // A container without an image: the API server refuses the pod (422).
    const template = { metadata: { labels: { app: 'broken' } }, spec: { containers: [{ name: 'main' }] } };
    const err = await control.createPod(template, owner, ref).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(422);
    const failed = await eventually('FailedCreate event', async () => (await events('broken')).find((e) => e.reason === 'FailedCreate'));
    expect(failed).toMatchObject({ type: 'Warning', message: `Error creating: ${(err as ApiError).message}`, involvedObject: { kind: 'ReplicaSet', name: 'broken' } });
    expect(await pods('broken')).toHaveLength(0);
  });

  it('reports ready and, after minReadySeconds, available replicas', { timeout: 15_000 }, async () => {
    await cp.client.create(RS_PATH, replicaSetManifest('web', 2, { minReadySeconds: 2 }));
    const created = await eventually('2 pods', async () => {
      const found = await pods('web');
      return found.length === 2 ? found : undefined;
    });
    for (const p of created) await runPod(p, true);
    const readyStatus = await eventually('ready', async () => {
      const s = (await getRS('web')).status;
      return s?.readyReplicas === 2 ? s : undefined;
    });
    expect(readyStatus.availableReplicas ?? 0).toBe(0); // not yet ready for 2 seconds
    const availableStatus = await eventually('available', async () => {
      const s = (await getRS('web')).status;
      return s?.availableReplicas === 2 ? s : undefined;
    }, 8000);
    expect(availableStatus).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
  });
});
