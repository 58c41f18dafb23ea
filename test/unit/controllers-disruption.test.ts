import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { budgetStatus, expectedAndDesired, setupDisruptionController, type ScaleLookup } from '../../src/node/controlplane/controllers/disruption.js';
import { request } from './apiserver-helpers.js';
import { readyNode, runningPod } from './controller-fixtures.js';
import { eventually, startControlPlane, startFakeNodes } from './controller-harness.js';

const NOW = new Date('2026-01-01T01:00:00Z');

function pdb(spec: Partial<NonNullable<PodDisruptionBudget['spec']>>, status?: PodDisruptionBudget['status']): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'default', generation: 2 },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    ...(status ? { status } : {}),
  };
}

const webPods = (count: number, readyCount = count): Pod[] =>
  Array.from({ length: count }, (_, i) => runningPod(`web-${i}`, 'w1', { labels: { app: 'web' }, ready: i < readyCount, ownerUid: 'rs-uid', ownerKind: 'ReplicaSet' }));
const scaleOf = (replicas: number): ScaleLookup => () => ({ uid: 'deploy-uid', replicas });

describe('expected and desired healthy pods', () => {
  it('minAvailable as a number counts the selected pods', () => {
    expect(expectedAndDesired(pdb({ minAvailable: 2 }), webPods(3), scaleOf(5))).toEqual({ expected: 3, desired: 2 });
  });

  it('percentages and maxUnavailable use the controllers\' scale, rounding up', () => {
    expect(expectedAndDesired(pdb({ minAvailable: '50%' }), webPods(3), scaleOf(5))).toEqual({ expected: 5, desired: 3 });
    expect(expectedAndDesired(pdb({ maxUnavailable: 1 }), webPods(3), scaleOf(4))).toEqual({ expected: 4, desired: 3 });
    expect(expectedAndDesired(pdb({ maxUnavailable: '30%' }), webPods(3), scaleOf(4))).toEqual({ expected: 4, desired: 2 });
  });
});

describe('budget status', () => {
  it('allows disruptions down to the desired healthy count', () => {
    const { status } = budgetStatus(pdb({ minAvailable: 2 }), webPods(3), scaleOf(3), NOW);
    expect(status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 2 });
    expect(status.conditions).toEqual([
      { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: '2026-01-01T01:00:00Z' },
    ]);
  });

  it('allows none when too few are ready', () => {
    const { status } = budgetStatus(pdb({ minAvailable: 2 }), webPods(3, 2), scaleOf(3), NOW);
    expect(status).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 0 });
    expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
  });

  it('does not count pods being evicted, and forgets evictions whose pods went or that are too old', () => {
    const pods = webPods(3);
    const previous = {
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 3,
      disruptionsAllowed: 0,
      disruptedPods: { 'web-0': '2026-01-01T00:59:30Z', 'web-1': '2026-01-01T00:50:00Z', gone: '2026-01-01T00:59:50Z' },
    };
    const { status, recheckAfterMs } = budgetStatus(pdb({ minAvailable: 2 }, previous), pods, scaleOf(3), NOW);
    expect(status.disruptedPods).toEqual({ 'web-0': '2026-01-01T00:59:30Z' });
    expect(status.currentHealthy).toBe(2);
    expect(status.disruptionsAllowed).toBe(0);
    expect(recheckAfterMs).toBe(90_000);
  });

  it('reports SyncFailed when a percentage needs a scale that cannot be found', () => {
    const { status } = budgetStatus(pdb({ maxUnavailable: '50%' }), webPods(2), () => undefined, NOW);
    expect(status.disruptionsAllowed).toBe(0);
    expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "web-0"' });
  });
});

describe('disruption controller and pod eviction against the API server', () => {
  it('keeps PDB status and refuses evictions beyond it with 429', async () => {
    const plane = await startControlPlane([setupDisruptionController]);
    const nodes = startFakeNodes(plane.client, { defaultNode: 'w1', periodMs: 30 });
    try {
      const { client, server } = plane;
      await client.create('/api/v1/nodes', readyNode('w1'));
      for (let i = 0; i < 3; i++) {
        await client.create('/api/v1/namespaces/default/pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `web-${i}`, labels: { app: 'web' } },
          spec: { containers: [{ name: 'main', image: 'nginx' }] },
        });
      }
      await client.create('/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'web' },
        spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
      });
      const pdbPath = '/apis/policy/v1/namespaces/default/poddisruptionbudgets/web';
      const allowed = await eventually('one disruption allowed', async () => {
        const budget = await client.get<PodDisruptionBudget>(pdbPath);
        return budget.status?.disruptionsAllowed === 1 ? budget : undefined;
      });
      expect(allowed.status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1 });
      expect(allowed.status?.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });

      const evict = (name: string) =>
        request(server.url, 'POST', `/api/v1/namespaces/default/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });
      expect((await evict('web-0')).status).toBe(201);
      const spent = await client.get<PodDisruptionBudget>(pdbPath);
      expect(spent.status?.disruptionsAllowed).toBe(0);
      expect(Object.keys(spent.status?.disruptedPods ?? {})).toEqual(['web-0']);

      const refused = await evict('web-1');
      expect(refused.status).toBe(429);
      expect(refused.json).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'TooManyRequests',
        code: 429,
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
      });
      // 3 until the controller has seen the first eviction, 2 after.
      expect(refused.json.details.causes[0]).toEqual({ reason: 'DisruptionBudget', message: expect.stringMatching(/^The disruption budget web needs 2 healthy pods and has [23] currently$/) });
      expect(await client.getOrUndefined('/api/v1/namespaces/default/pods/web-1')).toBeDefined();

      // The evicted pod goes; the controller settles on 2 healthy, none allowed, and forgets the eviction.
      const settled = await eventually('status after the eviction', async () => {
        const budget = await client.get<PodDisruptionBudget>(pdbPath);
        return budget.status?.expectedPods === 2 && budget.status.disruptedPods === undefined ? budget : undefined;
      });
      expect(settled.status).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 2 });
      expect(settled.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });

      // A pod no budget covers is evicted freely.
      await client.create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other' }, spec: { containers: [{ name: 'main', image: 'nginx' }] } });
      await eventually('other running', async () => ((await client.get<Pod>('/api/v1/namespaces/default/pods/other')).status?.phase === 'Running' ? true : undefined));
      expect((await evict('other')).status).toBe(201);
    } finally {
      await nodes.stop();
      await plane.stop();
    }
  }, 20_000);
});
