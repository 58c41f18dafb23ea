import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { nodeFromKube, selectorString, workloadFromKube } from '../../src/labs/backends/kube.js';
import { nodesFromSwarm, workloadFromSwarm, type SwarmTaskObject } from '../../src/labs/backends/swarm.js';

describe('swarm back end', () => {
  it('nodes: one per hostname, the Ready entry winning over a stale Down one', () => {
    const nodes = nodesFromSwarm([
      { ID: 'a', Spec: { Role: 'manager', Availability: 'active' }, Description: { Hostname: 'leader' }, Status: { State: 'ready', Addr: '172.30.0.2' } },
      { ID: 'b', Spec: { Role: 'worker', Availability: 'drain' }, Description: { Hostname: 'worker1' }, Status: { State: 'ready', Addr: '172.30.0.3' } },
      { ID: 'c', Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: 'worker2' }, Status: { State: 'ready', Addr: '172.30.0.4' } },
      { ID: 'd', Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: 'worker2' }, Status: { State: 'down', Addr: '0.0.0.0' } },
    ]);
    expect(nodes).toEqual([
      { name: 'leader', role: 'manager', ready: true, state: 'ready', schedulable: true, availability: 'active', address: '172.30.0.2' },
      { name: 'worker1', role: 'worker', ready: true, state: 'ready', schedulable: false, availability: 'drain', address: '172.30.0.3' },
      { name: 'worker2', role: 'worker', ready: true, state: 'ready', schedulable: true, availability: 'active', address: '172.30.0.4' },
    ]);
  });

  it('workload: current tasks as replicas, failed ones as restarts, images as revisions', () => {
    const task = (id: string, slot: number, node: string, desired: string, state: string, image = 'clusterlab/web:v1@sha256:1'): SwarmTaskObject => ({
      ID: id,
      Slot: slot,
      NodeID: node,
      DesiredState: desired,
      Status: { State: state },
      Spec: { ContainerSpec: { Image: image } },
    });
    const w = workloadFromSwarm(
      { ID: 's', Spec: { Name: 'web', Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'clusterlab/web:v2@sha256:2' } } } },
      [
        task('t1', 1, 'n1', 'running', 'running', 'clusterlab/web:v2'),
        task('t2', 2, 'n2', 'running', 'starting', 'clusterlab/web:v2'),
        task('t3', 10, 'n3', 'running', 'running', 'clusterlab/web:v2'),
        task('t4', 2, 'n2', 'shutdown', 'failed'),
        task('t5', 1, 'n1', 'shutdown', 'shutdown'),
        task('t6', 3, '', 'running', 'pending', 'clusterlab/web:v2'),
      ],
      new Map([
        ['n1', 'leader'],
        ['n2', 'worker1'],
        ['n3', 'worker2'],
      ]),
    );
    expect(w).toMatchObject({ kind: 'service', name: 'web', desired: 3, image: 'clusterlab/web:v2', restarts: 1, revisions: 2 });
    expect(w.replicas).toEqual([
      { name: 'web.1', node: 'leader', state: 'running', running: true, image: 'clusterlab/web:v2' },
      { name: 'web.2', node: 'worker1', state: 'starting', running: false, image: 'clusterlab/web:v2' },
      { name: 'web.3', node: '', state: 'pending', running: false, image: 'clusterlab/web:v2' },
      { name: 'web.10', node: 'worker2', state: 'running', running: true, image: 'clusterlab/web:v2' },
    ]);
  });

  it('a global service has no desired count and names replicas by node', () => {
    const w = workloadFromSwarm({ ID: 's', Spec: { Name: 'agent', Mode: { Global: {} } } }, [{ ID: 't', NodeID: 'n1', DesiredState: 'running', Status: { State: 'running' } }], new Map([['n1', 'leader']]));
    expect(w.desired).toBeUndefined();
    expect(w.replicas[0]?.name).toBe('agent.leader');
  });
});

describe('kube back end', () => {
  it('nodes: Ready condition, control-plane role, cordon, InternalIP', () => {
    const node: Node = {
      metadata: { name: 'leader', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }], addresses: [{ type: 'Hostname', address: 'leader' }, { type: 'InternalIP', address: '172.30.0.2' }] },
    };
    expect(nodeFromKube(node)).toEqual({ name: 'leader', role: 'manager', ready: false, state: 'Unknown', schedulable: false, availability: 'SchedulingDisabled', address: '172.30.0.2' });
    expect(nodeFromKube({ metadata: { name: 'w' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })).toMatchObject({ role: 'worker', ready: true, state: 'Ready', schedulable: true });
  });

  it('selectors become labelSelector strings', () => {
    expect(
      selectorString({
        matchLabels: { app: 'web', tier: 'front' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['a', 'b'] },
          { key: 'legacy', operator: 'DoesNotExist' },
          { key: 'zone', operator: 'Exists' },
          { key: 'team', operator: 'NotIn', values: ['x'] },
        ],
      }),
    ).toBe('app=web,tier=front,env in (a,b),!legacy,zone,team notin (x)');
  });

  it('workload: pods running and Ready count, terminating ones do not, restarts summed, ReplicaSets owned counted', () => {
    const deployment: Deployment = {
      metadata: { name: 'web', uid: 'd1' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'web', image: 'clusterlab/web:v2' }] } } },
    };
    const pod = (name: string, node: string, extra: Partial<Pod['status']> = {}, meta: Pod['metadata'] = {}): Pod => ({
      metadata: { name, ...meta },
      spec: { nodeName: node, containers: [{ name: 'web', image: 'clusterlab/web:v2' }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'web', image: 'clusterlab/web:v2', imageID: '', ready: true, restartCount: 0 }], ...extra },
    });
    const pods = [
      pod('web-a', 'worker1', { containerStatuses: [{ name: 'web', image: '', imageID: '', ready: true, restartCount: 2 }] }),
      pod('web-b', 'worker2', { conditions: [{ type: 'Ready', status: 'False' }] }),
      pod('web-c', 'worker2', {}, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      pod('web-d', '', {
        phase: 'Pending',
        conditions: [],
        containerStatuses: [{ name: 'web', image: '', imageID: '', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
      }),
    ];
    const rs = (uid: string): ReplicaSet => ({ metadata: { name: `web-${uid}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid }] } });
    const w = workloadFromKube(deployment, pods, [rs('d1'), rs('d1'), rs('other')]);
    expect(w).toMatchObject({ kind: 'deployment', name: 'web', desired: 3, image: 'clusterlab/web:v2', restarts: 3, revisions: 2 });
    expect(w.replicas.map((r) => [r.name, r.node, r.state, r.running])).toEqual([
      ['web-a', 'worker1', 'Running', true],
      ['web-b', 'worker2', 'Running (not ready)', false],
      ['web-c', 'worker2', 'Terminating', false],
      ['web-d', '', 'CrashLoopBackOff', false],
    ]);
  });
});
