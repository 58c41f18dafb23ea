import { describe, expect, it } from 'vitest';
import type { Node, NodeSelectorTerm, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { failedSchedulingMessage, schedulePod } from '../../src/node/controlplane/scheduler/algorithm.js';
import { buildNodeInfos, NodeInfo, podKey } from '../../src/node/controlplane/scheduler/node-info.js';
import { toleratesTaint, unfitReasons } from '../../src/node/controlplane/scheduler/predicates.js';
import { podRequests } from '../../src/node/controlplane/scheduler/resources.js';
import { isPendingForUs, Scheduler, unschedulableConditions, type SchedulerIO } from '../../src/node/controlplane/scheduler/scheduler.js';

interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | 'missing';
}

function node(name: string, opts: NodeOpts = {}): Node {
  const ready = opts.ready ?? 'True';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: { cpu: opts.cpu ?? '2', memory: opts.memory ?? '4Gi', pods: opts.pods ?? '110' },
      conditions: ready === 'missing' ? [] : [{ type: 'Ready', status: ready }],
    },
  };
}

interface PodOpts {
  cpu?: string;
  memory?: string;
  nodeName?: string;
  owner?: string;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  terms?: NodeSelectorTerm[];
  hostPort?: { port: number; protocol?: string; hostIP?: string };
  phase?: string;
  schedulerName?: string;
  namespace?: string;
  created?: string;
}

function pod(name: string, opts: PodOpts = {}): Pod {
  const requests: Record<string, string> = {};
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      uid: `uid-${name}`,
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
      ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: opts.owner, controller: true }] } : {}),
    },
    spec: {
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
      ...(opts.tolerations ? { tolerations: opts.tolerations } : {}),
      ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
      ...(opts.terms ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: opts.terms } } } } : {}),
      containers: [
        {
          name: 'main',
          image: 'nginx',
          ...(Object.keys(requests).length > 0 ? { resources: { requests } } : {}),
          ...(opts.hostPort ? { ports: [{ containerPort: 80, hostPort: opts.hostPort.port, protocol: opts.hostPort.protocol, hostIP: opts.hostPort.hostIP }] } : {}),
        },
      ],
    },
    status: { phase: opts.phase ?? (opts.nodeName ? 'Running' : 'Pending') },
  };
}

function info(n: Node, pods: Pod[] = []): NodeInfo {
  return buildNodeInfos([n], pods).get(n.metadata!.name!)!;
}

const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

describe('filters', () => {
  const cases: { name: string; node: Node; pod: Pod; existing?: Pod[]; reasons: string[] }[] = [
    { name: 'a ready node with room fits', node: node('n'), pod: pod('p', { cpu: '1' }), reasons: [] },
    { name: 'a not-ready node is tainted not-ready', node: node('n', { ready: 'False' }), pod: pod('p'), reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] },
    { name: 'a node without conditions is not ready', node: node('n', { ready: 'missing' }), pod: pod('p'), reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] },
    { name: 'an Unknown node is unreachable', node: node('n', { ready: 'Unknown' }), pod: pod('p'), reasons: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'] },
    {
      name: 'a pod tolerating not-ready fits a not-ready node',
      node: node('n', { ready: 'False' }),
      pod: pod('p', { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] }),
      reasons: [],
    },
    { name: 'a cordoned node', node: node('n', { unschedulable: true }), pod: pod('p'), reasons: ['node(s) were unschedulable'] },
    {
      name: 'a cordoned node takes pods tolerating unschedulable',
      node: node('n', { unschedulable: true }),
      pod: pod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }),
      reasons: [],
    },
    { name: 'an untolerated NoSchedule taint', node: node('n', { taints: [CONTROL_PLANE_TAINT] }), pod: pod('p'), reasons: ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'] },
    { name: 'a taint with a value is shown with it', node: node('n', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoExecute' }] }), pod: pod('p'), reasons: ['node(s) had untolerated taint {gpu: yes}'] },
    { name: 'PreferNoSchedule does not filter', node: node('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }), pod: pod('p'), reasons: [] },
    {
      name: 'Equal with the same value tolerates',
      node: node('n', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }),
      pod: pod('p', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'yes' }] }),
      reasons: [],
    },
    {
      name: 'Equal with another value does not',
      node: node('n', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }),
      pod: pod('p', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'no' }] }),
      reasons: ['node(s) had untolerated taint {gpu: yes}'],
    },
    {
      name: 'a toleration for another effect does not',
      node: node('n', { taints: [CONTROL_PLANE_TAINT] }),
      pod: pod('p', { tolerations: [{ key: CONTROL_PLANE_TAINT.key, operator: 'Exists', effect: 'NoExecute' }] }),
      reasons: ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'],
    },
    {
      name: 'an empty key with Exists tolerates everything',
      node: node('n', { taints: [CONTROL_PLANE_TAINT, { key: 'x', value: 'y', effect: 'NoExecute' }], unschedulable: true, ready: 'False' }),
      pod: pod('p', { tolerations: [{ operator: 'Exists' }] }),
      reasons: [],
    },
    { name: 'nodeSelector matching', node: node('n', { labels: { disk: 'ssd' } }), pod: pod('p', { nodeSelector: { disk: 'ssd' } }), reasons: [] },
    { name: 'nodeSelector not matching', node: node('n', { labels: { disk: 'hdd' } }), pod: pod('p', { nodeSelector: { disk: 'ssd' } }), reasons: ["node(s) didn't match Pod's node affinity/selector"] },
    {
      name: 'affinity In',
      node: node('n', { labels: { zone: 'a' } }),
      pod: pod('p', { terms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] }),
      reasons: [],
    },
    {
      name: 'affinity NotIn matches a node without the label',
      node: node('n'),
      pod: pod('p', { terms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] }),
      reasons: [],
    },
    {
      name: 'affinity NotIn excludes',
      node: node('n', { labels: { zone: 'a' } }),
      pod: pod('p', { terms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] }),
      reasons: ["node(s) didn't match Pod's node affinity/selector"],
    },
    {
      name: 'affinity Exists and DoesNotExist are ANDed in a term',
      node: node('n', { labels: { zone: 'a' } }),
      pod: pod('p', { terms: [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }, { key: 'gpu', operator: 'DoesNotExist' }] }] }),
      reasons: [],
    },
    {
      name: 'affinity Gt / Lt compare integers',
      node: node('n', { labels: { cores: '8' } }),
      pod: pod('p', { terms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }, { key: 'cores', operator: 'Lt', values: ['16'] }] }] }),
      reasons: [],
    },
    {
      name: 'affinity Gt failing',
      node: node('n', { labels: { cores: '2' } }),
      pod: pod('p', { terms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }] }),
      reasons: ["node(s) didn't match Pod's node affinity/selector"],
    },
    {
      name: 'affinity terms are ORed; matchFields metadata.name (as DaemonSets use it)',
      node: node('w2'),
      pod: pod('p', {
        terms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['nowhere'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['w2'] }] }],
      }),
      reasons: [],
    },
    {
      name: 'matchFields for another node',
      node: node('w1'),
      pod: pod('p', { terms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['w2'] }] }] }),
      reasons: ["node(s) didn't match Pod's node affinity/selector"],
    },
    { name: 'an empty term matches nothing', node: node('n'), pod: pod('p', { terms: [{}] }), reasons: ["node(s) didn't match Pod's node affinity/selector"] },
    {
      name: 'a taken host port',
      node: node('n'),
      existing: [pod('old', { nodeName: 'n', hostPort: { port: 8080 } })],
      pod: pod('p', { hostPort: { port: 8080 } }),
      reasons: ["node(s) didn't have free ports for the requested pod ports"],
    },
    {
      name: 'the same host port over another protocol',
      node: node('n'),
      existing: [pod('old', { nodeName: 'n', hostPort: { port: 8080 } })],
      pod: pod('p', { hostPort: { port: 8080, protocol: 'UDP' } }),
      reasons: [],
    },
    {
      name: 'the same host port on two different host IPs',
      node: node('n'),
      existing: [pod('old', { nodeName: 'n', hostPort: { port: 8080, hostIP: '10.0.0.1' } })],
      pod: pod('p', { hostPort: { port: 8080, hostIP: '10.0.0.2' } }),
      reasons: [],
    },
    {
      name: 'a host port on all addresses conflicts with one on a single address',
      node: node('n'),
      existing: [pod('old', { nodeName: 'n', hostPort: { port: 8080, hostIP: '10.0.0.1' } })],
      pod: pod('p', { hostPort: { port: 8080 } }),
      reasons: ["node(s) didn't have free ports for the requested pod ports"],
    },
    {
      name: 'not enough cpu left',
      node: node('n', { cpu: '2' }),
      existing: [pod('old', { nodeName: 'n', cpu: '1500m' })],
      pod: pod('p', { cpu: '600m' }),
      reasons: ['Insufficient cpu'],
    },
    {
      name: 'exactly enough cpu (millicores add up without rounding errors)',
      node: node('n', { cpu: '300m' }),
      existing: [pod('a', { nodeName: 'n', cpu: '100m' }), pod('b', { nodeName: 'n', cpu: '0.1' })],
      pod: pod('p', { cpu: '100m' }),
      reasons: [],
    },
    {
      name: 'cpu and memory both short',
      node: node('n', { cpu: '1', memory: '1Gi' }),
      pod: pod('p', { cpu: '2', memory: '2Gi' }),
      reasons: ['Insufficient cpu', 'Insufficient memory'],
    },
    {
      name: 'finished pods free their resources',
      node: node('n', { cpu: '1' }),
      existing: [pod('done', { nodeName: 'n', cpu: '1', phase: 'Succeeded' }), pod('failed', { nodeName: 'n', cpu: '1', phase: 'Failed' })],
      pod: pod('p', { cpu: '1' }),
      reasons: [],
    },
    {
      name: 'pods on other nodes do not count',
      node: node('n', { cpu: '1' }),
      existing: [pod('elsewhere', { nodeName: 'other', cpu: '1' })],
      pod: pod('p', { cpu: '1' }),
      reasons: [],
    },
    {
      name: 'too many pods',
      node: node('n', { pods: '2' }),
      existing: [pod('a', { nodeName: 'n' }), pod('b', { nodeName: 'n' })],
      pod: pod('p'),
      reasons: ['Too many pods'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(unfitReasons(c.pod, info(c.node, c.existing))).toEqual(c.reasons);
    });
  }

  it('toleratesTaint: Equal is the default operator', () => {
    expect(toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoSchedule' })).toBe(true);
    expect(toleratesTaint({ key: 'k' }, { key: 'k', value: 'v', effect: 'NoSchedule' })).toBe(false);
  });
});

describe('pod requests', () => {
  it('sums containers, takes the larger init container, adds overhead, falls back to limits', () => {
    const p = pod('p');
    p.spec!.containers = [
      { name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
      { name: 'b', resources: { limits: { cpu: '200m' } } },
    ];
    p.spec!.initContainers = [{ name: 'init', resources: { requests: { cpu: '1', memory: '10Mi' } } }];
    p.spec!.overhead = { cpu: '50m' };
    const requests = podRequests(p);
    expect(requests.get('cpu')).toBe(1050);
    expect(requests.get('memory')).toBe(64 * 1024 * 1024);
  });
});

describe('FailedScheduling message', () => {
  it("uses Kubernetes' wording, reasons sorted by their text", () => {
    const nodes = [node('cp', { taints: [CONTROL_PLANE_TAINT] }), node('w1', { cpu: '1' }), node('w2', { cpu: '1' })];
    const decision = schedulePod(pod('big', { cpu: '2' }), buildNodeInfos(nodes, []).values());
    expect(decision).toEqual({
      unschedulable:
        '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. ' +
        'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    });
  });

  it('counts every reason a node gives (cpu and memory on one node)', () => {
    const message = failedSchedulingMessage(1, new Map([['Insufficient memory', 1], ['Insufficient cpu', 1]]));
    expect(message).toBe('0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  });

  it('says so when there are no nodes', () => {
    expect(schedulePod(pod('p'), [])).toEqual({ unschedulable: 'no nodes available to schedule pods' });
  });
});

describe('scoring', () => {
  it('prefers the node with the fewest pods of the same owner', () => {
    const nodes = [node('a'), node('b')];
    const existing = [pod('rs-1', { nodeName: 'a', owner: 'rs' }), pod('other-1', { nodeName: 'b', cpu: '1' })];
    expect(schedulePod(pod('rs-2', { owner: 'rs' }), buildNodeInfos(nodes, existing).values())).toEqual({ nodeName: 'b' });
  });

  it('then the least requested node', () => {
    const nodes = [node('a'), node('b')];
    const existing = [pod('x', { nodeName: 'a', cpu: '1' })];
    expect(schedulePod(pod('p', { cpu: '100m' }), buildNodeInfos(nodes, existing).values())).toEqual({ nodeName: 'b' });
  });

  it('counts pods without requests by the non-zero defaults', () => {
    const nodes = [node('a'), node('b')];
    const existing = [pod('x', { nodeName: 'a' }), pod('y', { nodeName: 'a' })];
    expect(schedulePod(pod('p'), buildNodeInfos(nodes, existing).values())).toEqual({ nodeName: 'b' });
  });

  it('then the name, so the choice is deterministic', () => {
    const nodes = [node('c'), node('a'), node('b')];
    expect(schedulePod(pod('p'), buildNodeInfos(nodes, []).values())).toEqual({ nodeName: 'a' });
  });

  it('never picks a node that does not fit, however good its score', () => {
    const nodes = [node('a', { taints: [CONTROL_PLANE_TAINT] }), node('b')];
    const existing = [pod('x', { nodeName: 'b', cpu: '1' })];
    expect(schedulePod(pod('p'), buildNodeInfos(nodes, existing).values())).toEqual({ nodeName: 'b' });
  });
});

/** A scheduler over fixed lists, with binds that succeed but are never seen by the "informer". */
function harness(nodes: Node[], pods: Pod[], opts: { failBind?: (pod: Pod) => Error | undefined } = {}) {
  const byKey = new Map(pods.map((p) => [podKey(p), p]));
  const bound: [string, string][] = [];
  const unschedulable: [string, string][] = [];
  const later: (() => void)[] = [];
  let now = 0;
  const io: SchedulerIO = {
    async bind(p, nodeName) {
      const err = opts.failBind?.(p);
      if (err) throw err;
      bound.push([podKey(p), nodeName]);
    },
    async reportScheduled() {},
    async reportUnschedulable(p, message) {
      unschedulable.push([podKey(p), message]);
    },
  };
  const scheduler = new Scheduler({ nodes: () => nodes, pods: () => [...byKey.values()], pod: (key) => byKey.get(key) }, io, {
    log: () => undefined,
    wake: () => undefined,
    now: () => now,
    later: (fn) => later.push(fn),
  });
  return {
    scheduler,
    bound,
    unschedulable,
    later,
    byKey,
    advance: (ms: number) => (now += ms),
    settle: () => new Promise((resolve) => setTimeout(resolve, 20)),
  };
}

describe('Scheduler', () => {
  it('spreads a burst of 100 replicas evenly before any bind is seen', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`web-${String(i).padStart(3, '0')}`, { owner: 'rs-web' }));
    const h = harness([node('w1'), node('w2'), node('w3')], pods);
    h.scheduler.enqueueAllPending();
    const decisions = h.scheduler.runOnce();
    expect(decisions.size).toBe(100);
    await h.settle();
    const perNode = new Map<string, number>();
    for (const [, nodeName] of h.bound) perNode.set(nodeName, (perNode.get(nodeName) ?? 0) + 1);
    expect(h.bound).toHaveLength(100);
    expect([...perNode.values()].sort()).toEqual([33, 33, 34]);
  });

  it('accounts in-flight binds across passes: a second burst does not overcommit', async () => {
    const first = Array.from({ length: 6 }, (_, i) => pod(`a-${i}`, { cpu: '500m', created: '2026-01-01T00:00:00Z' }));
    const second = Array.from({ length: 8 }, (_, i) => pod(`b-${i}`, { cpu: '500m', created: '2026-01-01T00:00:01Z' }));
    const h = harness([node('w1', { cpu: '2' }), node('w2', { cpu: '2' })], first);
    h.scheduler.enqueueAllPending();
    h.scheduler.runOnce();
    for (const p of second) {
      h.byKey.set(podKey(p), p);
      h.scheduler.podChanged(podKey(p), p);
    }
    const decisions = h.scheduler.runOnce();
    await h.settle();
    expect(h.bound).toHaveLength(8); // 2 nodes x 4 pods of 500m
    const unschedulable = [...decisions.values()].filter((d) => 'unschedulable' in d);
    expect(unschedulable).toHaveLength(6);
    expect(h.unschedulable[0]?.[1]).toMatch(/^0\/2 nodes are available: 2 Insufficient cpu\./);
  });

  it('reports an unchanged failure once a minute at most, a changed one at once, and retries on change', async () => {
    const nodes = [node('w1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })];
    const h = harness(nodes, [pod('p')]);
    h.scheduler.enqueueAllPending();
    h.scheduler.runOnce();
    expect(h.unschedulable).toHaveLength(1);
    expect(h.scheduler.hasUnschedulable()).toBe(true);

    // Our own status patch comes back as an update: it must not trigger another attempt.
    h.scheduler.podChanged('default/p', h.byKey.get('default/p')!, h.byKey.get('default/p'));
    expect(h.scheduler.runOnce().size).toBe(0);

    h.scheduler.retryUnschedulable();
    h.scheduler.runOnce();
    expect(h.unschedulable).toHaveLength(1); // same message within a minute: not repeated

    h.advance(61_000);
    h.scheduler.retryUnschedulable();
    h.scheduler.runOnce();
    expect(h.unschedulable).toHaveLength(2);

    nodes.push(node('w2', { ready: 'False' }));
    h.scheduler.retryUnschedulable();
    h.scheduler.runOnce();
    expect(h.unschedulable).toHaveLength(3); // the message changed
    expect(h.unschedulable[2]?.[1]).toContain('0/2 nodes are available');

    nodes.push(node('w3'));
    h.scheduler.retryUnschedulable();
    h.scheduler.runOnce();
    await h.settle();
    expect(h.bound).toEqual([['default/p', 'w3']]);
  });

  it('retries a failed bind later and forgets its assumed placement', async () => {
    let fail = true;
    const h = harness([node('w1')], [pod('p')], { failBind: () => (fail ? new Error('connection reset') : undefined) });
    h.scheduler.enqueueAllPending();
    h.scheduler.runOnce();
    await h.settle();
    expect(h.bound).toEqual([]);
    expect(h.scheduler.assumedPlacements().size).toBe(0);
    expect(h.later).toHaveLength(1);
    fail = false;
    h.later[0]!();
    h.scheduler.runOnce();
    await h.settle();
    expect(h.bound).toEqual([['default/p', 'w1']]);
  });

  it('only takes pending pods of the default scheduler', () => {
    expect(isPendingForUs(pod('p'))).toBe(true);
    expect(isPendingForUs(pod('p', { schedulerName: 'default-scheduler' }))).toBe(true);
    expect(isPendingForUs(pod('p', { schedulerName: 'my-scheduler' }))).toBe(false);
    expect(isPendingForUs(pod('p', { nodeName: 'w1' }))).toBe(false);
    expect(isPendingForUs(pod('p', { phase: 'Failed' }))).toBe(false);
    const live = pod('p');
    const deleting: Pod = { ...live, metadata: { ...live.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(isPendingForUs(deleting)).toBe(false);
  });

  it('builds the PodScheduled=False condition, keeping other conditions and the transition time', () => {
    const p = pod('p');
    p.status!.conditions = [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'old', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Custom', status: 'True' },
    ];
    expect(unschedulableConditions(p, 'new message', '2026-02-02T00:00:00Z')).toEqual([
      { type: 'Custom', status: 'True' },
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'new message', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ]);
    expect(unschedulableConditions(pod('q'), 'm', '2026-02-02T00:00:00Z')[0]?.lastTransitionTime).toBe('2026-02-02T00:00:00Z');
  });
});
