import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Event as KubeEvent, Node, Pod } from 'kubernetes-types/core/v1.js';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { composeState, machineState, type Machine, type OrchestratorView } from '../../src/dashboard/compose.js';
import { deploymentView, kubeEventEntry, kubeNodeView, kubeView, podCard, podState, podWorkload, rolloutStatus } from '../../src/dashboard/kube-state.js';
import { parseLabProgress } from '../../src/dashboard/lab-progress.js';
import { FAILED_TASK_VISIBLE_MS, shortImage, swarmView, taskTone, type SwarmNodeObject, type SwarmTaskObject } from '../../src/dashboard/swarm-state.js';
import { cardView, workloadView } from './dashboard-fixtures.js';

const NOW = new Date('2026-01-01T10:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

describe('swarm view', () => {
  const nodes: SwarmNodeObject[] = [
    { ID: 'n1', Spec: { Role: 'manager', Availability: 'active' }, Description: { Hostname: 'leader', Resources: { NanoCPUs: 2e9, MemoryBytes: 2 ** 30 }, Engine: { EngineVersion: '20.10.24' } }, Status: { State: 'ready', Addr: '172.30.0.2' }, ManagerStatus: { Leader: true } },
    { ID: 'n2', Spec: { Role: 'worker', Availability: 'drain' }, Description: { Hostname: 'worker1' }, Status: { State: 'ready', Addr: '172.30.0.3' } },
    // worker2 left and joined again: the old entry is down, the new one ready.
    { ID: 'n3-new', Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: 'worker2' }, Status: { State: 'ready' } },
    { ID: 'n3-old', Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: 'worker2' }, Status: { State: 'down' } },
  ];
  const services = [
    { ID: 's1', Spec: { Name: 'web', Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox:1@sha256:abc123' } } }, UpdateStatus: { State: 'updating' } },
    { ID: 's2', Spec: { Name: 'agent', Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: 'agent:2' } } } },
  ] as Docker.Service[];
  const task = (id: string, overrides: Partial<SwarmTaskObject> & { state: string; desired?: string; at?: string }): SwarmTaskObject => ({
    ID: id,
    ServiceID: 's1',
    NodeID: 'n1',
    Slot: 1,
    DesiredState: overrides.desired ?? 'running',
    CreatedAt: overrides.at ?? ago(60),
    Spec: { ContainerSpec: { Image: 'busybox:1@sha256:abc123' } },
    Status: { State: overrides.state, Timestamp: overrides.at ?? ago(60), Message: overrides.state, ...(overrides.state === 'failed' ? { Err: 'task: non-zero exit (137)' } : {}) },
    ...overrides,
  });
  const tasks: SwarmTaskObject[] = [
    task('old-fail', { state: 'failed', desired: 'shutdown', Slot: 1, at: ago(300) }),
    task('recent-fail', { state: 'failed', desired: 'shutdown', Slot: 1, NodeID: 'n2', at: ago(5) }),
    task('t1', { state: 'running', Slot: 1, at: ago(4) }),
    task('t2', { state: 'starting', Slot: 2, NodeID: 'n3-new' }),
    task('t3-old', { state: 'shutdown', desired: 'shutdown', Slot: 3 }),
    task('t3', { state: 'pending', Slot: 3, NodeID: undefined }),
    task('g1', { state: 'running', ServiceID: 's2', Slot: undefined, NodeID: 'n3-new', Spec: { ContainerSpec: { Image: 'agent:2' } } }),
    task('orphan', { state: 'running', ServiceID: 'gone-service' }),
  ];
  const view = swarmView({ nodes, services, tasks }, NOW);

  it('gives each hostname one node, the ready entry speaking, with its resources', () => {
    expect(view.nodes).toEqual([
      { name: 'leader', health: 'ready', status: 'Ready', schedulable: true, role: 'manager', address: '172.30.0.2', leader: true, cpus: 2, memoryBytes: 2 ** 30, version: '20.10.24' },
      { name: 'worker1', health: 'ready', status: 'Ready, Drain', schedulable: false, role: 'worker', address: '172.30.0.3' },
      { name: 'worker2', health: 'ready', status: 'Ready', schedulable: true, role: 'worker' },
    ]);
  });

  it('shows the tasks swarm wants running, and failures for a while after they ended', () => {
    const byId = new Map(view.cards.map((c) => [c.id, c]));
    expect([...byId.keys()].sort()).toEqual(['g1', 'recent-fail', 't1', 't2', 't3']);
    expect(byId.get('t1')).toEqual({ id: 't1', name: 'web.1', workload: 'web', slot: 'web.1', node: 'leader', image: 'busybox:1', state: 'running', tone: 'ok', restarts: 2, since: ago(4) });
    expect(byId.get('recent-fail')).toMatchObject({ name: 'web.1', node: 'worker1', tone: 'failed', message: 'task: non-zero exit (137)', restarts: 1 });
    expect(byId.get('t2')).toMatchObject({ name: 'web.2', node: 'worker2', tone: 'starting', restarts: 0 });
    expect(byId.get('t2')).not.toHaveProperty('message');
    expect(byId.get('t3')).toMatchObject({ tone: 'starting' });
    expect(byId.get('t3')).not.toHaveProperty('node');
    expect(byId.get('g1')).toMatchObject({ name: 'agent.worker2', slot: 'agent@worker2', image: 'agent:2' });
    const later = swarmView({ nodes, services, tasks }, new Date(NOW.getTime() + FAILED_TASK_VISIBLE_MS));
    expect(later.cards.map((c) => c.id)).not.toContain('recent-fail');
  });

  it('lists services with their replicas, readiness and rollout', () => {
    expect(view.workloads).toEqual([
      { id: 'web', name: 'web', kind: 'service', image: 'busybox:1', desired: 3, ready: 1, rollout: 'update in progress' },
      { id: 'agent', name: 'agent', kind: 'service', image: 'agent:2', ready: 1 },
    ]);
  });

  it('colours task states and drops image digests', () => {
    expect(['running', 'failed', 'rejected', 'shutdown', 'complete', 'preparing', 'assigned', 'weird', undefined].map(taskTone)).toEqual(['ok', 'failed', 'failed', 'gone', 'gone', 'starting', 'starting', 'warning', 'warning']);
    expect(shortImage('nginx:1.25@sha256:0123abcd')).toBe('nginx:1.25');
    expect(shortImage(undefined)).toBe('');
  });
});

describe('kube view', () => {
  const node = (name: string, ready: string | undefined, extra: Partial<Node> = {}): Node => ({
    metadata: { name, labels: name === 'leader' ? { 'node-role.kubernetes.io/control-plane': '' } : {} },
    status: {
      conditions: ready === undefined ? [] : [{ type: 'Ready', status: ready }],
      addresses: [{ type: 'InternalIP', address: '172.30.0.9' }],
      capacity: { cpu: '1500m', memory: '512Mi' },
      nodeInfo: { kubeletVersion: 'v1.33.0' } as NonNullable<Node['status']>['nodeInfo'],
    },
    ...extra,
  });

  it('reads nodes as kubectl get nodes does', () => {
    expect(kubeNodeView(node('leader', 'True'))).toEqual({ name: 'leader', health: 'ready', status: 'Ready', schedulable: true, role: 'manager', address: '172.30.0.9', cpus: 1.5, memoryBytes: 512 * 2 ** 20, version: 'v1.33.0' });
    expect(kubeNodeView(node('worker1', 'Unknown'))).toMatchObject({ health: 'down', status: 'NotReady', role: 'worker' });
    expect(kubeNodeView(node('worker1', 'False', { spec: { unschedulable: true } }))).toMatchObject({ health: 'down', status: 'NotReady,SchedulingDisabled', schedulable: false });
    expect(kubeNodeView(node('worker2', undefined))).toMatchObject({ health: 'unknown', status: 'Unknown' });
  });

  const pod = (name: string, status: Pod['status'], extra: Partial<NonNullable<Pod['metadata']>> = {}): Pod => ({
    metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: ago(100), labels: { 'pod-template-hash': '5d9c7' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9c7', uid: 'rs', controller: true }], ...extra },
    spec: { nodeName: 'worker1', containers: [{ name: 'app', image: 'busybox:1' }] },
    status,
  });

  it("reads a pod's STATUS and colour as kubectl does", () => {
    const running = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', image: 'busybox:1', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
    expect(podState(pod('a', running))).toEqual({ state: 'Running', tone: 'ok' });
    expect(podState(pod('a', { ...running, conditions: [{ type: 'Ready', status: 'False', message: 'node not ready' }] }))).toEqual({ state: 'Running', tone: 'warning', message: 'node not ready' });
    expect(podState(pod('a', { phase: 'Running', containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } } }] }))).toEqual({ state: 'CrashLoopBackOff', tone: 'failed', message: 'back-off 40s' });
    expect(podState(pod('a', { phase: 'Pending', containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }))).toEqual({ state: 'ContainerCreating', tone: 'starting' });
    expect(podState(pod('a', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: '0/3 nodes are available' }] }))).toEqual({ state: 'Pending', tone: 'starting', message: '0/3 nodes are available' });
    expect(podState(pod('a', { phase: 'Failed', reason: 'Evicted', message: 'node pressure' }))).toEqual({ state: 'Evicted', tone: 'failed', message: 'node pressure' });
    expect(podState(pod('a', running, { deletionTimestamp: ago(1) }))).toEqual({ state: 'Terminating', tone: 'gone' });
    expect(podState(pod('a', { phase: 'Succeeded' }))).toEqual({ state: 'Completed', tone: 'gone' });
  });

  it('makes a card of a pod, its deployment found through the ReplicaSet', () => {
    const p = pod('web-5d9c7-abcde', { phase: 'Running', startTime: ago(30), containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 2 }, { name: 'b', image: '', imageID: '', ready: true, restartCount: 1 }] });
    expect(podCard(p, NOW)).toEqual({ id: 'uid-web-5d9c7-abcde', name: 'web-5d9c7-abcde', image: 'busybox:1', state: 'Running', tone: 'ok', restarts: 3, since: ago(30), workload: 'default/web', node: 'worker1' });
    expect(podWorkload(pod('x', {}, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'd', controller: true }], namespace: 'kube-system' }))).toBe('kube-system/agent');
    expect(podWorkload(pod('x', {}, { ownerReferences: [] }))).toBeUndefined();
    expect(podCard(pod('x', {}, { namespace: 'team' }), NOW).namespace).toBe('team');
  });

  const deployment = (status: Deployment['status'], generation = 2, replicas = 4): Deployment => ({
    metadata: { name: 'web', namespace: 'default', generation },
    spec: { replicas, selector: {}, template: { spec: { containers: [{ name: 'app', image: 'busybox:2' }] } } },
    status,
  });

  it('tells a rollout as kubectl rollout status does', () => {
    const progressing = [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }];
    expect(rolloutStatus(deployment({ observedGeneration: 1 }))).toBe('waiting for the controller');
    expect(rolloutStatus(deployment({ observedGeneration: 2, updatedReplicas: 1, replicas: 5 }))).toBe('1 of 4 replicas updated');
    expect(rolloutStatus(deployment({ observedGeneration: 2, updatedReplicas: 4, replicas: 5 }))).toBe('1 old replicas terminating');
    expect(rolloutStatus(deployment({ observedGeneration: 2, updatedReplicas: 4, replicas: 4, availableReplicas: 3 }))).toBe('3 of 4 updated replicas available');
    expect(rolloutStatus(deployment({ observedGeneration: 2, updatedReplicas: 4, replicas: 4, availableReplicas: 4, conditions: progressing }))).toBe('rolled out');
    expect(rolloutStatus(deployment({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }))).toBe('rollout failed: progress deadline exceeded');
    expect(deploymentView(deployment({ observedGeneration: 2, updatedReplicas: 4, replicas: 4, availableReplicas: 4, readyReplicas: 4, conditions: progressing }))).toEqual({
      id: 'default/web', name: 'web', kind: 'deployment', namespace: 'default', image: 'busybox:2', desired: 4, ready: 4, rollout: 'rolled out',
    });
  });

  it('leaves finished pods out of the view', () => {
    const view = kubeView({ nodes: [node('leader', 'True')], pods: [pod('done', { phase: 'Succeeded' }), pod('live', { phase: 'Running' })], deployments: [] }, NOW);
    expect(view.cards.map((c) => c.name)).toEqual(['live']);
  });

  it('puts warnings and notable events on the timeline, and leaves routine ones to the cards', () => {
    const event = (reason: string, type: string, kind = 'Pod'): KubeEvent => ({ metadata: {}, involvedObject: { kind, name: 'web-1', namespace: 'default' }, reason, type, message: 'msg', lastTimestamp: ago(1) });
    expect(kubeEventEntry(event('Scheduled', 'Normal'), NOW)).toBeUndefined();
    expect(kubeEventEntry(event('BackOff', 'Warning'), NOW)).toEqual({ at: ago(1), kind: 'pod', severity: 'warning', text: 'pod web-1: BackOff – msg' });
    expect(kubeEventEntry(event('NodeNotReady', 'Normal', 'Node'), NOW)).toMatchObject({ kind: 'node', severity: 'error' });
    expect(kubeEventEntry(event('NodeNotReady', 'Warning', 'Pod'), NOW)).toBeUndefined();
    expect(kubeEventEntry(event('ScalingReplicaSet', 'Normal', 'Deployment'), NOW)).toMatchObject({ kind: 'rollout', text: 'deployment web-1: ScalingReplicaSet – msg' });
  });
});

describe('composeState', () => {
  const machine = (name: string, index: number, state: Machine['state'] = 'running', connected = true): Machine => ({ name, role: index === 0 ? 'manager' : 'worker', index, ip: `172.30.0.${index + 2}`, state, connected });

  it('reads machine states as a person would say them', () => {
    expect(machineState('running', true)).toBe('running');
    expect(machineState('running', false)).toBe('disconnected');
    expect(machineState('paused', true)).toBe('paused');
    expect(machineState('exited', true)).toBe('stopped');
    expect(machineState('created', true)).toBe('stopped');
    expect(machineState('removing', true)).toBe('missing');
  });

  it('joins machines and the orchestrator by name, in creation order', () => {
    const view: OrchestratorView = {
      nodes: [
        { name: 'worker1', health: 'down', status: 'Down', schedulable: true, cpus: 2 },
        { name: 'leader', health: 'ready', status: 'Ready', schedulable: true, leader: true, address: '10.0.0.1' },
        { name: 'ghost', health: 'down', status: 'Down', schedulable: false, role: 'worker' },
      ],
      workloads: [workloadView('web')],
      cards: [cardView('b', { name: 'web.2' }), cardView('a', { name: 'web.1' })],
    };
    const state = composeState({ cluster: 'lab', engine: 'swarm', machines: [machine('worker1', 1, 'exited'), machine('leader', 0), machine('worker2', 2, 'running', false)], view, source: { ok: true } });
    expect(state.nodes.map((n) => [n.name, n.order, n.health, n.status, n.machine, n.address])).toEqual([
      ['leader', 0, 'ready', 'Ready', 'running', '172.30.0.2'],
      ['worker1', 1, 'down', 'Down', 'stopped', '172.30.0.3'],
      ['worker2', 2, 'unknown', 'not in the swarm', 'disconnected', '172.30.0.4'],
      ['ghost', 3, 'down', 'Down', 'missing', ''],
    ]);
    expect(state.nodes[0]!.leader).toBe(true);
    expect(state.nodes[1]!.cpus).toBe(2);
    expect(state.cards.map((c) => c.name)).toEqual(['web.1', 'web.2']);
    expect(state).not.toHaveProperty('lab');
  });

  it('before the orchestrator ever answered, shows the machines with an unknown state', () => {
    const state = composeState({ cluster: 'lab', engine: 'kube', machines: [machine('leader', 0)], view: undefined, source: { ok: false, message: 'no API server' } });
    expect(state.nodes[0]).toMatchObject({ health: 'unknown', status: 'Unknown', schedulable: false });
    expect(state.cards).toEqual([]);
    expect(state.source).toEqual({ ok: false, message: 'no API server' });
  });
});

describe('parseLabProgress', () => {
  const valid = { lab: 'crash', title: 'Crash recovery', engine: 'swarm', currentStep: 'kill', steps: [{ id: 'kill', title: 'Kill a task', status: 'failed', message: 'not yet' }], done: false, updatedAt: '2026-01-01T00:00:00Z' };

  it('accepts what the lab runner writes', () => {
    expect(parseLabProgress(JSON.stringify(valid))).toEqual(valid);
  });

  it('refuses half-written or foreign files', () => {
    expect(parseLabProgress(JSON.stringify(valid).slice(0, 40))).toBeUndefined();
    expect(parseLabProgress(JSON.stringify({ ...valid, engine: 'nomad' }))).toBeUndefined();
    expect(parseLabProgress(JSON.stringify({ ...valid, steps: [{ id: 'x', title: 'X', status: 'maybe' }] }))).toBeUndefined();
    expect(parseLabProgress('null')).toBeUndefined();
  });
});
