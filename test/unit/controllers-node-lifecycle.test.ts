import { describe, expect, it } from 'vitest';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { podEviction, reconcileTaints, silentNodeConditions } from '../../src/node/controlplane/controllers/node-health.js';
import { setupNodeLifecycleController } from '../../src/node/controlplane/controllers/node-lifecycle.js';
import { DEFAULT_CONTROLLER_SETTINGS } from '../../src/node/controlplane/controllers/context.js';
import { readyNode, runningPod } from './controller-fixtures.js';
import { eventually, startControlPlane } from './controller-harness.js';

const NOW = new Date('2026-01-01T01:00:00Z');

describe('a silent node', () => {
  it('gets Ready and the pressure conditions Unknown, heartbeat kept', () => {
    const node = readyNode('w1');
    node.status!.conditions!.push({ type: 'MemoryPressure', status: 'False', lastHeartbeatTime: '2026-01-01T00:00:00Z' });
    const conditions = silentNodeConditions(node, NOW)!;
    expect(conditions.find((c) => c.type === 'Ready')).toEqual({
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastHeartbeatTime: '2026-01-01T00:00:00Z',
      lastTransitionTime: '2026-01-01T01:00:00Z',
    });
    expect(conditions.find((c) => c.type === 'MemoryPressure')?.status).toBe('Unknown');
    expect(conditions.find((c) => c.type === 'DiskPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    expect(conditions.map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    expect(silentNodeConditions({ ...node, status: { conditions } }, NOW)).toBeUndefined();
  });
});

describe('condition taints', () => {
  const keys = (taints: Taint[] | undefined) => taints?.map((t) => `${t.key}:${t.effect}`);

  it('unreachable for Unknown, not-ready for False, with timeAdded on NoExecute', () => {
    const unknown = reconcileTaints(readyNode('w1', { ready: 'Unknown' }), NOW);
    expect(keys(unknown)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    expect(unknown?.[1]?.timeAdded).toBe('2026-01-01T01:00:00Z');
    const notReady = reconcileTaints(readyNode('w1', { ready: 'False', taints: unknown }), NOW);
    expect(keys(notReady)).toEqual(['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
  });

  it('removes them when Ready again, keeping other taints; nothing to do is undefined', () => {
    const own: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    const tainted = readyNode('w1', { taints: [own, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }] });
    expect(reconcileTaints(tainted, NOW)).toEqual([own]);
    expect(reconcileTaints(readyNode('w1', { taints: [own] }), NOW)).toBeUndefined();
  });

  it('adds the unschedulable taint for a cordoned node and keeps an existing taint as it is', () => {
    expect(keys(reconcileTaints(readyNode('w1', { unschedulable: true }), NOW))).toEqual(['node.kubernetes.io/unschedulable:NoSchedule']);
    const existing: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:30:00Z' };
    const taints = reconcileTaints(readyNode('w1', { ready: 'Unknown', taints: [existing] }), NOW);
    expect(taints?.find((t) => t.effect === 'NoExecute')?.timeAdded).toBe('2026-01-01T00:30:00Z');
  });
});

describe('NoExecute eviction timing', () => {
  const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:59:00Z' };

  it('is immediate for an untolerated taint, never without NoExecute taints or with an unbounded toleration', () => {
    const pod = runningPod('p', 'w1');
    expect(podEviction(pod, [unreachable], 0)).toEqual({ kind: 'now', taint: unreachable });
    expect(podEviction(pod, [{ key: 'x', effect: 'NoSchedule' }], 0)).toEqual({ kind: 'never' });
    pod.spec!.tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }];
    expect(podEviction(pod, [unreachable], 0)).toEqual({ kind: 'never' });
  });

  it('comes tolerationSeconds after the taint (or the pod, if it came later)', () => {
    const pod = runningPod('p', 'w1', { created: '2026-01-01T00:00:00Z' });
    pod.spec!.tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }];
    expect(podEviction(pod, [unreachable], 0)).toEqual({ kind: 'at', at: new Date('2026-01-01T01:04:00Z') });
    const later = { ...pod, metadata: { ...pod.metadata, creationTimestamp: '2026-01-01T01:00:00Z' } };
    expect(podEviction(later, [unreachable], 0)).toEqual({ kind: 'at', at: new Date('2026-01-01T01:05:00Z') });
  });

  it('takes the shortest toleration of the taints and counts untimed taints from when they were seen', () => {
    const pod = runningPod('p', 'w1');
    pod.spec!.tolerations = [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'maintenance', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
    ];
    const untimed: Taint = { key: 'maintenance', effect: 'NoExecute' };
    expect(podEviction(pod, [unreachable, untimed], Date.parse('2026-01-01T00:58:00Z'))).toEqual({ kind: 'at', at: new Date('2026-01-01T00:59:00Z') });
  });
});

describe('node lifecycle controller against the API server', () => {
  it('marks a silent node Unknown, taints it, evicts pods per toleration, and clears it on return', async () => {
    const plane = await startControlPlane([setupNodeLifecycleController], { ...DEFAULT_CONTROLLER_SETTINGS, nodeMonitorGracePeriodSeconds: 1 });
    const { client } = plane;
    const leasePath = (node: string) => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`;
    const renewing = new Set(['alive']);
    let heartbeating = true;
    const renew = async (node: string) => {
      const now = new Date().toISOString().replace('Z', '000Z');
      await client.update(leasePath(node), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node, namespace: 'kube-node-lease' }, spec: { holderIdentity: node, renewTime: now } });
    };
    const agents = (async () => {
      while (heartbeating) {
        for (const node of renewing) await renew(node).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    const pod = (name: string, tolerationSeconds?: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        nodeName: 'silent',
        containers: [{ name: 'main', image: 'nginx' }],
        ...(tolerationSeconds !== undefined
          ? { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds }] }
          : {}),
      },
    });
    try {
      await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } }).catch(() => undefined);
      for (const node of ['alive', 'silent']) {
        await client.create('/api/v1/nodes', readyNode(node));
        await renew(node);
      }
      await client.create('/api/v1/namespaces/default/pods', pod('short', 1));
      await client.create('/api/v1/namespaces/default/pods', pod('default-toleration'));
      await client.patch('/api/v1/namespaces/default/pods/default-toleration/status', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge');

      const silent = await eventually('the silent node Unknown and tainted', async () => {
        const node = await client.get<Node>('/api/v1/nodes/silent');
        return node.spec?.taints?.length === 2 ? node : undefined;
      }, 5_000);
      expect(silent.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
      expect(silent.spec?.taints?.map((t) => `${t.key}:${t.effect}`).sort()).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
      const alive = await client.get<Node>('/api/v1/nodes/alive');
      expect(alive.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(alive.spec?.taints ?? []).toEqual([]);

      // Pods there turn not Ready; the one tolerating 1 s goes, the default (300 s) one stays.
      await eventually('the pod not Ready', async () => {
        const p = await client.get<Pod>('/api/v1/namespaces/default/pods/default-toleration');
        return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' ? true : undefined;
      });
      await eventually('the short-toleration pod evicted', async () => {
        const p = await client.getOrUndefined<Pod>('/api/v1/namespaces/default/pods/short');
        return p === undefined || p.metadata?.deletionTimestamp ? true : undefined;
      }, 5_000);
      expect((await client.get<Pod>('/api/v1/namespaces/default/pods/default-toleration')).metadata?.deletionTimestamp).toBeUndefined();
      const events = (await client.list<{ reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }>('/api/v1/namespaces/default/events')).items;
      const reasons = events.map((e) => `${e.involvedObject?.kind}/${e.involvedObject?.name} ${e.reason}: ${e.message}`);
      expect(reasons).toEqual(
        expect.arrayContaining([
          'Node/silent RegisteredNode: Node silent event: Registered Node silent in Controller',
          'Node/silent NodeNotReady: Node silent status is now: NodeNotReady',
          'Pod/default-toleration NodeNotReady: Node is not ready',
          'Pod/short TaintManagerEviction: Marking for deletion Pod default/short',
        ]),
      );

      // A NoExecute taint the pod does not tolerate evicts it at once.
      await client.create('/api/v1/namespaces/default/pods', { ...pod('on-alive'), spec: { ...pod('on-alive').spec, nodeName: 'alive' } });
      const aliveNode = await client.get<Node>('/api/v1/nodes/alive');
      await client.update('/api/v1/nodes/alive', { ...aliveNode, spec: { ...aliveNode.spec, taints: [{ key: 'maintenance', effect: 'NoExecute' }] } });
      await eventually('the untolerating pod evicted', async () => {
        const p = await client.getOrUndefined<Pod>('/api/v1/namespaces/default/pods/on-alive');
        return p === undefined || p.metadata?.deletionTimestamp ? true : undefined;
      });

      // The agent comes back: heartbeats and Ready=True; the taints go.
      renewing.add('silent');
      const back = await client.get<Node>('/api/v1/nodes/silent');
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await client.update('/api/v1/nodes/silent/status', {
        ...back,
        status: { ...back.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }] },
      });
      await eventually('the taints removed', async () => (((await client.get<Node>('/api/v1/nodes/silent')).spec?.taints ?? []).length === 0 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await client.get<Node>('/api/v1/nodes/silent')).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    } finally {
      heartbeating = false;
      await agents;
      await plane.stop();
    }
  }, 20_000);
});
