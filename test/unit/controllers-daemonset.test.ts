import { describe, expect, it } from 'vitest';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../../src/node/shared/api-client.js';
import { setupDaemonSetController } from '../../src/node/controlplane/controllers/daemonset.js';
import {
  daemonPodNodeName,
  daemonSetStatus,
  groupByNode,
  newDaemonPod,
  nodeShouldRunDaemonPod,
  planManage,
  planRollingUpdate,
  REVISION_HASH_LABEL,
  rollingLimits,
  templateHash,
  withDaemonTolerations,
} from '../../src/node/controlplane/controllers/daemonset-plan.js';
import { daemonSet, readyNode, runningPod } from './controller-fixtures.js';
import { eventually, startControlPlane, startFakeNodes } from './controller-harness.js';

const NOW = new Date('2026-01-01T01:00:00Z');

function daemonPod(name: string, node: string, hash: string, opts: { ready?: boolean; created?: string; phase?: string; deleting?: boolean } = {}): Pod {
  const pod = runningPod(name, node, { labels: { app: 'ds', [REVISION_HASH_LABEL]: hash }, ready: opts.ready, created: opts.created, ownerUid: 'uid-ds' });
  if (opts.phase) pod.status!.phase = opts.phase;
  if (opts.deleting) pod.metadata = { ...pod.metadata, deletionTimestamp: '2026-01-01T00:59:00Z' };
  return pod;
}

describe('which nodes run a daemon pod', () => {
  it('follows nodeSelector and required node affinity', () => {
    const ds = daemonSet('ds', { nodeSelector: { disk: 'ssd' } });
    expect(nodeShouldRunDaemonPod(readyNode('a', { labels: { disk: 'ssd' } }), ds)).toEqual({ shouldRun: true, shouldContinueRunning: true });
    expect(nodeShouldRunDaemonPod(readyNode('b'), ds)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    const withAffinity = daemonSet('ds');
    withAffinity.spec!.template.spec!.affinity = {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } },
    };
    expect(nodeShouldRunDaemonPod(readyNode('a', { labels: { zone: 'z1' } }), withAffinity).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(readyNode('a', { labels: { zone: 'z2' } }), withAffinity).shouldRun).toBe(false);
  });

  it('tolerates the automatic taints (not-ready, unreachable, pressures, unschedulable) but not others', () => {
    const ds = daemonSet('ds');
    for (const taint of [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/pid-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
    ]) {
      expect(nodeShouldRunDaemonPod(readyNode('a', { taints: [taint] }), ds).shouldRun, taint.key).toBe(true);
    }
    // A control-plane NoSchedule taint: no new pod, but one already there stays.
    expect(nodeShouldRunDaemonPod(readyNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), ds)).toEqual({
      shouldRun: false,
      shouldContinueRunning: true,
    });
    // An untolerated NoExecute taint: the pod must go.
    expect(nodeShouldRunDaemonPod(readyNode('x', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] }), ds)).toEqual({
      shouldRun: false,
      shouldContinueRunning: false,
    });
    const tolerant = daemonSet('ds');
    tolerant.spec!.template.spec!.tolerations = [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }];
    expect(nodeShouldRunDaemonPod(readyNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), tolerant).shouldRun).toBe(true);
  });

  it('adds the daemon tolerations once, network-unavailable only with hostNetwork', () => {
    const tolerations = withDaemonTolerations({ containers: [], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] });
    expect(tolerations.filter((t) => t.key === 'node.kubernetes.io/not-ready')).toEqual([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }]);
    expect(tolerations).toHaveLength(6);
    expect(withDaemonTolerations({ containers: [], hostNetwork: true }).map((t) => t.key)).toContain('node.kubernetes.io/network-unavailable');
  });
});

describe('daemon pods', () => {
  it('are created for one node through required matchFields affinity, with the hash label and owner', () => {
    const ds = daemonSet('ds');
    const pod = newDaemonPod(ds, 'worker1', 'abc');
    expect(pod.metadata?.generateName).toBe('ds-');
    expect(pod.metadata?.labels).toEqual({ app: 'ds', [REVISION_HASH_LABEL]: 'abc' });
    expect(pod.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'uid-ds', controller: true, blockOwnerDeletion: true }]);
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker1'] }] },
    ]);
    expect(daemonPodNodeName(pod)).toBe('worker1');
    expect(pod.spec?.tolerations).toHaveLength(6);
  });

  it('get a hash that follows the template only', () => {
    const a = daemonSet('ds', { image: 'busybox:1' });
    const b = daemonSet('ds', { image: 'busybox:2' });
    expect(templateHash(a.spec!.template)).toBe(templateHash(structuredClone(a.spec!.template)));
    expect(templateHash(a.spec!.template)).not.toBe(templateHash(b.spec!.template));
    expect(templateHash(a.spec!.template, 1)).not.toBe(templateHash(a.spec!.template));
    expect(templateHash(a.spec!.template)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });
});

describe('manage', () => {
  const ds = daemonSet('ds');
  const nodes = [readyNode('a'), readyNode('b'), readyNode('c', { taints: [{ key: 'dedicated', effect: 'NoExecute' }] })];

  it('creates on nodes without a pod, deletes from nodes that must not run one and from gone nodes', () => {
    const pods = [daemonPod('p-a', 'a', 'h'), daemonPod('p-c', 'c', 'h'), daemonPod('p-gone', 'gone', 'h')];
    const actions = planManage(ds, groupByNode(ds, nodes, pods), 'h', NOW);
    expect(actions.create).toEqual(['b']);
    expect(actions.delete.map((p) => p.metadata?.name).sort()).toEqual(['p-c', 'p-gone']);
  });

  it('keeps the oldest of several pods on a node, replaces failed ones, and waits for terminating ones', () => {
    const pods = [
      daemonPod('old', 'a', 'h', { created: '2026-01-01T00:00:00Z' }),
      daemonPod('young', 'a', 'h', { created: '2026-01-01T00:10:00Z' }),
      daemonPod('failed', 'b', 'h', { phase: 'Failed' }),
      daemonPod('going', 'c', 'h', { deleting: true }),
    ];
    const actions = planManage(ds, groupByNode(ds, nodes.slice(0, 2), pods), 'h', NOW);
    expect(actions.delete.map((p) => p.metadata?.name).sort()).toEqual(['failed', 'young']);
    expect(actions.failed.map((p) => p.metadata?.name)).toEqual(['failed']);
    expect(actions.create).toEqual([]); // b still has its (failed) pod until it is gone
  });
});

describe('rolling update', () => {
  const nodes = ['a', 'b', 'c', 'd'].map((name) => readyNode(name));

  it('resolves maxUnavailable and maxSurge against the desired count', () => {
    expect(rollingLimits(daemonSet('ds', { maxUnavailable: '25%' }), 10)).toEqual({ maxSurge: 0, maxUnavailable: 3 });
    expect(rollingLimits(daemonSet('ds', { maxUnavailable: 0, maxSurge: 0 }), 10)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(rollingLimits(daemonSet('ds', { maxUnavailable: 0, maxSurge: '50%' }), 3)).toEqual({ maxSurge: 2, maxUnavailable: 0 });
  });

  it('deletes up to maxUnavailable available old pods, and unavailable old pods at once', () => {
    const ds = daemonSet('ds', { maxUnavailable: 2 });
    const pods = [daemonPod('a1', 'a', 'old'), daemonPod('b1', 'b', 'old'), daemonPod('c1', 'c', 'old', { ready: false }), daemonPod('d1', 'd', 'old')];
    const actions = planRollingUpdate(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW);
    expect(actions.delete.map((p) => p.metadata?.name)).toEqual(['c1', 'a1', 'b1']);
    expect(actions.create).toEqual([]);
  });

  it('counts nodes still being replaced against maxUnavailable', () => {
    const ds = daemonSet('ds', { maxUnavailable: 1 });
    const pods = [daemonPod('a2', 'a', 'new', { ready: false }), daemonPod('b1', 'b', 'old'), daemonPod('c1', 'c', 'old'), daemonPod('d1', 'd', 'old')];
    expect(planRollingUpdate(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW).delete).toEqual([]);
    pods[0] = daemonPod('a2', 'a', 'new');
    expect(planRollingUpdate(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW).delete.map((p) => p.metadata?.name)).toEqual(['b1']);
  });

  it('with maxSurge starts new pods beside old ones, then deletes the old once the new is available', () => {
    const ds = daemonSet('ds', { maxUnavailable: 0, maxSurge: 1 });
    const pods = [daemonPod('a1', 'a', 'old'), daemonPod('b1', 'b', 'old'), daemonPod('c1', 'c', 'old'), daemonPod('d1', 'd', 'old')];
    expect(planRollingUpdate(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW)).toEqual({ create: ['a'], delete: [], failed: [] });
    pods.push(daemonPod('a2', 'a', 'new', { ready: false }));
    expect(planRollingUpdate(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW)).toEqual({ create: [], delete: [], failed: [] });
    pods[4] = daemonPod('a2', 'a', 'new');
    const actions = planRollingUpdate(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW);
    expect(actions.delete.map((p) => p.metadata?.name)).toEqual(['a1']);
  });

  it('does nothing with OnDelete', () => {
    const ds = daemonSet('ds', { onDelete: true });
    const pods = nodes.map((node) => daemonPod(`${node.metadata!.name}1`, node.metadata!.name!, 'old'));
    expect(planRollingUpdate(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW)).toEqual({ create: [], delete: [], failed: [] });
  });
});

describe('status', () => {
  it('counts desired, current, ready, available, updated and misscheduled', () => {
    const ds = daemonSet('ds', { nodeSelector: { role: 'worker' } });
    ds.spec!.minReadySeconds = 30;
    const nodes = [readyNode('a', { labels: { role: 'worker' } }), readyNode('b', { labels: { role: 'worker' } }), readyNode('c', { labels: { role: 'worker' } }), readyNode('x')];
    const pods = [daemonPod('a1', 'a', 'new'), daemonPod('b1', 'b', 'old', { ready: false }), daemonPod('x1', 'x', 'new')];
    pods[0]!.status!.conditions![0]!.lastTransitionTime = '2026-01-01T00:59:50Z'; // ready 10 s: not yet available
    const status = daemonSetStatus(ds, groupByNode(ds, nodes, pods).byNode, 'new', NOW);
    expect(status).toEqual({
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberReady: 1,
      numberAvailable: 0,
      updatedNumberScheduled: 1,
      numberMisscheduled: 1,
      numberUnavailable: 3,
      observedGeneration: 1,
    });
  });
});

describe('DaemonSet controller against the API server', () => {
  const dsPath = '/apis/apps/v1/namespaces/default/daemonsets';
  const listPods = async (client: ApiClient): Promise<Pod[]> => (await client.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=ds' })).items;
  const podNodes = (pods: Pod[]): string[] => pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => daemonPodNodeName(p) ?? '?').sort();

  it('runs one pod per eligible node, follows nodes and taints, and reports status', async () => {
    const plane = await startControlPlane([setupDaemonSetController]);
    const nodes = startFakeNodes(plane.client);
    try {
      const { client } = plane;
      for (const name of ['a', 'b']) await client.create('/api/v1/nodes', readyNode(name));
      await client.create('/api/v1/nodes', readyNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }));
      const { metadata: _m, ...spec } = daemonSet('ds');
      await client.create(dsPath, { ...spec, metadata: { name: 'ds' } });
      await eventually('a pod on a and b', async () => (podNodes(await listPods(client)).join() === 'a,b' ? true : undefined));
      const status = await eventually('status of 2 ready pods', async () => {
        const ds = await client.get<DaemonSet>(`${dsPath}/ds`);
        return ds.status?.numberReady === 2 && ds.status.numberAvailable === 2 ? ds.status : undefined;
      });
      expect(status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, updatedNumberScheduled: 2, numberMisscheduled: 0, observedGeneration: 1 });
      const pod = (await listPods(client))[0]!;
      expect(pod.metadata?.labels?.[REVISION_HASH_LABEL]).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
      expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', name: 'ds', controller: true });

      await client.create('/api/v1/nodes', readyNode('c'));
      await eventually('a pod on the new node', async () => (podNodes(await listPods(client)).join() === 'a,b,c' ? true : undefined));
      await client.delete('/api/v1/nodes/c');
      await eventually('the pod of the removed node gone', async () => (podNodes(await listPods(client)).join() === 'a,b' ? true : undefined));
      await client.patch('/api/v1/nodes/b', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] } }, 'merge');
      await eventually('the pod of the NoExecute-tainted node gone', async () => (podNodes(await listPods(client)).join() === 'a' ? true : undefined));
      await eventually('status of 1 desired', async () => ((await client.get<DaemonSet>(`${dsPath}/ds`)).status?.desiredNumberScheduled === 1 ? true : undefined));
    } finally {
      await nodes.stop();
      await plane.stop();
    }
  }, 20_000);

  it('rolls a template change out one node at a time (maxUnavailable 1)', async () => {
    const plane = await startControlPlane([setupDaemonSetController]);
    const nodes = startFakeNodes(plane.client);
    try {
      const { client } = plane;
      for (const name of ['a', 'b', 'c']) await client.create('/api/v1/nodes', readyNode(name));
      const { metadata: _m, ...spec } = daemonSet('ds');
      await client.create(dsPath, { ...spec, metadata: { name: 'ds' } });
      await eventually('3 ready pods', async () => ((await client.get<DaemonSet>(`${dsPath}/ds`)).status?.numberAvailable === 3 ? true : undefined));
      const oldHash = (await listPods(client))[0]!.metadata!.labels![REVISION_HASH_LABEL];

      // Watch how many pods are down at once while the rollout runs.
      let maxDown = 0;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const pods = await listPods(client);
          const up = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
          maxDown = Math.max(maxDown, 3 - up);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      await client.patch(`${dsPath}/ds`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox:2' }] } } } }, 'strategic');
      const done = await eventually(
        'every pod on the new template',
        async () => {
          const ds = await client.get<DaemonSet>(`${dsPath}/ds`);
          const pods = (await listPods(client)).filter((p) => !p.metadata?.deletionTimestamp);
          const allNew = pods.length === 3 && pods.every((p) => p.spec?.containers[0]?.image === 'busybox:2' && p.metadata?.labels?.[REVISION_HASH_LABEL] !== oldHash);
          return allNew && ds.status?.updatedNumberScheduled === 3 && ds.status.numberAvailable === 3 && ds.status.observedGeneration === 2 ? pods : undefined;
        },
        15_000,
      );
      watching = false;
      await watcher;
      expect(podNodes(done)).toEqual(['a', 'b', 'c']);
      expect(maxDown).toBe(1);
    } finally {
      await nodes.stop();
      await plane.stop();
    }
  }, 25_000);
});
