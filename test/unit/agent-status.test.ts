import { describe, expect, it } from 'vitest';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Backoff, goDuration } from '../../src/node/agent/backoff.js';
import { computePodActions, shouldRestart, type ActionContext } from '../../src/node/agent/pod-actions.js';
import { computePodStatus, kubeTime, phaseFromStatuses, qosClass, statusDiffers, statusPatch, type ContainerWaiting } from '../../src/node/agent/pod-status.js';
import { initialProbeState, recordProbeOutcome } from '../../src/node/agent/probes.js';
import type { RuntimeContainer } from '../../src/node/agent/runtime.js';

const NOW = new Date('2026-01-01T12:00:00.000Z');

function makePod(opts: { restartPolicy?: string; containers?: Container[]; init?: Container[]; phase?: string } = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: {
      restartPolicy: opts.restartPolicy ?? 'Always',
      containers: opts.containers ?? [{ name: 'app', image: 'nginx:1.25' }],
      ...(opts.init ? { initContainers: opts.init } : {}),
    },
    status: opts.phase ? { phase: opts.phase } : {},
  };
}

let seq = 0;
function rc(container: string, state: RuntimeContainer['state'], opts: Partial<RuntimeContainer> & { attempt?: number; init?: boolean } = {}): RuntimeContainer {
  const sandbox = container === 'POD';
  return {
    id: `id${++seq}`,
    identity: { uid: 'u1', name: 'web', namespace: 'default', container, sandbox, init: opts.init ?? false, attempt: opts.attempt ?? 0 },
    state,
    exitCode: opts.exitCode ?? 0,
    oomKilled: opts.oomKilled ?? false,
    startedAt: state === 'created' ? undefined : '2026-01-01T11:00:00.123456789Z',
    ...(state === 'exited' ? { finishedAt: opts.finishedAt ?? '2026-01-01T11:59:00.5Z' } : {}),
    image: 'nginx:1.25',
    imageId: 'sha256:abc',
    ...(sandbox ? { ipAddress: opts.ipAddress ?? '10.244.1.7' } : {}),
  };
}

function status(pod: Pod, containers: RuntimeContainer[], waiting: Record<string, ContainerWaiting> = {}, ready = true) {
  return computePodStatus({
    pod,
    containers,
    waiting: new Map(Object.entries(waiting)),
    isReady: () => ready,
    isStarted: () => true,
    hostIP: '172.30.0.3',
    now: NOW,
  });
}

describe('pod status', () => {
  it('no sandbox yet: Pending, ContainerCreating, BestEffort', () => {
    const s = status(makePod(), []);
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(s.containerStatuses?.[0]?.ready).toBe(false);
    expect(s.qosClass).toBe('BestEffort');
    expect(s.podIP).toBeUndefined();
    expect(s.startTime).toBe('2026-01-01T12:00:00Z');
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('running: Running, podIP from the sandbox, ready, conditions True', () => {
    const s = status(makePod(), [rc('POD', 'running'), rc('app', 'running')]);
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('10.244.1.7');
    expect(s.podIPs).toEqual([{ ip: '10.244.1.7' }]);
    expect(s.hostIP).toBe('172.30.0.3');
    const cs = s.containerStatuses![0]!;
    expect(cs.state).toEqual({ running: { startedAt: '2026-01-01T11:00:00Z' } });
    expect(cs.containerID).toMatch(/^docker:\/\/id/);
    expect(cs.ready).toBe(true);
    expect(cs.started).toBe(true);
    for (const type of ['Ready', 'ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'PodScheduled']) {
      expect(s.conditions?.find((c) => c.type === type)?.status, type).toBe('True');
    }
  });

  it('not ready while the readiness probe has not passed', () => {
    const s = status(makePod(), [rc('POD', 'running'), rc('app', 'running')], {}, false);
    expect(s.phase).toBe('Running');
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
  });

  it('CrashLoopBackOff shows waiting with the last termination and the restart count', () => {
    const s = status(makePod(), [rc('POD', 'running'), rc('app', 'exited', { attempt: 3, exitCode: 1 }), rc('app', 'exited', { attempt: 2, exitCode: 1 })], {
      app: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=web_default(u1)' },
    });
    const cs = s.containerStatuses![0]!;
    expect(cs.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error', finishedAt: '2026-01-01T11:59:00Z' });
    expect(cs.restartCount).toBe(3);
    expect(s.phase).toBe('Running'); // restartPolicy Always: a crash-looping pod is still Running
  });

  it.each([
    ['Never', [0], 'Succeeded'],
    ['Never', [1], 'Failed'],
    ['Never', [0, 2], 'Failed'],
    ['OnFailure', [0, 0], 'Succeeded'],
    ['Always', [0], 'Running'],
  ])('restartPolicy %s with exit codes %j -> %s', (policy, codes, phase) => {
    const containers = codes.map((_, i) => ({ name: `c${i}`, image: 'busybox' }));
    const pod = makePod({ restartPolicy: policy, containers });
    const runtime = [rc('POD', 'running'), ...codes.map((code, i) => rc(`c${i}`, 'exited', { exitCode: code }))];
    expect(status(pod, runtime).phase).toBe(phase);
  });

  it('reports OOMKilled and Completed reasons', () => {
    const pod = makePod({ restartPolicy: 'Never', containers: [{ name: 'a' }, { name: 'b' }] });
    const s = status(pod, [rc('POD', 'running'), rc('a', 'exited', { exitCode: 137, oomKilled: true }), rc('b', 'exited')]);
    expect(s.containerStatuses?.[0]?.state?.terminated?.reason).toBe('OOMKilled');
    expect(s.containerStatuses?.[1]?.state?.terminated?.reason).toBe('Completed');
  });

  it('keeps a terminal phase', () => {
    expect(status(makePod({ phase: 'Succeeded' }), [rc('POD', 'running'), rc('app', 'running')]).phase).toBe('Succeeded');
  });

  it('init containers: Pending with PodInitializing until they succeed', () => {
    const pod = makePod({ init: [{ name: 'setup', image: 'busybox' }] });
    const s = status(pod, [rc('POD', 'running'), rc('setup', 'running', { init: true })]);
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    expect(s.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [setup]' });
    const done = status(pod, [rc('POD', 'running'), rc('setup', 'exited', { init: true }), rc('app', 'running')]);
    expect(done.phase).toBe('Running');
    expect(done.initContainerStatuses?.[0]?.state?.terminated?.reason).toBe('Completed');
  });

  it('fails a Never pod whose init container failed', () => {
    const pod = makePod({ restartPolicy: 'Never', init: [{ name: 'setup' }] });
    expect(status(pod, [rc('POD', 'running'), rc('setup', 'exited', { init: true, exitCode: 1 })]).phase).toBe('Failed');
  });

  it('keeps lastTransitionTime while a condition does not change, and writes only changes', () => {
    const pod = makePod();
    const running = [rc('POD', 'running'), rc('app', 'running')];
    const first = status(pod, running);
    const later = computePodStatus({
      pod: { ...pod, status: first },
      containers: running,
      waiting: new Map(),
      isReady: () => true,
      isStarted: () => true,
      hostIP: '172.30.0.3',
      now: new Date('2026-01-01T13:00:00Z'),
    });
    expect(later.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-01-01T12:00:00Z');
    expect(statusDiffers(first, later)).toBe(false);
    const stopped = status({ ...pod, status: first }, [rc('POD', 'running'), rc('app', 'exited', { exitCode: 2 })]);
    expect(statusDiffers(first, stopped)).toBe(true);
  });

  it('nulls owned fields that disappeared in the patch', () => {
    const patch = statusPatch({ phase: 'Pending', podIP: '1.2.3.4', nominatedNodeName: 'x' }, { phase: 'Running' });
    expect(patch.status).toEqual({ phase: 'Running', podIP: null });
  });

  it('formats times in whole seconds', () => {
    expect(kubeTime('2026-01-01T11:00:00.999999999Z')).toBe('2026-01-01T11:00:00Z');
    expect(kubeTime(new Date('2026-01-01T11:00:00.5Z'))).toBe('2026-01-01T11:00:00Z');
  });
});

describe('phase from container statuses (kubelet getPhase)', () => {
  it('waiting without a previous run keeps the pod Pending', () => {
    expect(phaseFromStatuses('Always', [{ name: 'a', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }])).toBe('Pending');
  });
});

describe('QoS class', () => {
  const withResources = (resources: Container['resources']) => makePod({ containers: [{ name: 'a', resources }] });
  it.each([
    [undefined, 'BestEffort'],
    [{ requests: { cpu: '100m' } }, 'Burstable'],
    [{ limits: { cpu: '1', memory: '1Gi' } }, 'Guaranteed'],
    [{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } }, 'Burstable'],
    [{ limits: { cpu: '1000m', memory: '1024Mi' }, requests: { cpu: '1', memory: '1Gi' } }, 'Guaranteed'],
  ])('%j -> %s', (resources, expected) => expect(qosClass(withResources(resources))).toBe(expected));
});

describe('pod actions', () => {
  const ctx = (overrides: Partial<ActionContext> = {}): ActionContext => ({ backoffRemainingMs: () => 0, mustRestart: () => undefined, ...overrides });

  it('creates the sandbox first', () => {
    expect(computePodActions(makePod(), [], ctx())).toMatchObject({ createSandbox: { attempt: 0 }, start: [] });
  });

  it('starts missing containers once the sandbox runs', () => {
    const actions = computePodActions(makePod(), [rc('POD', 'running')], ctx());
    expect(actions.start.map((s) => [s.spec.name, s.attempt])).toEqual([['app', 0]]);
  });

  it('leaves running containers alone (a restarted agent adopts them)', () => {
    const actions = computePodActions(makePod(), [rc('POD', 'running'), rc('app', 'running')], ctx());
    expect(actions).toMatchObject({ start: [], kill: [], backingOff: [] });
    expect(actions.createSandbox).toBeUndefined();
  });

  it('restarts per policy, with the next attempt number', () => {
    const exited = [rc('POD', 'running'), rc('app', 'exited', { exitCode: 1, attempt: 1 })];
    expect(computePodActions(makePod(), exited, ctx()).start[0]?.attempt).toBe(2);
    expect(computePodActions(makePod({ restartPolicy: 'Never' }), exited, ctx()).start).toEqual([]);
    const succeeded = [rc('POD', 'running'), rc('app', 'exited', { exitCode: 0 })];
    expect(computePodActions(makePod({ restartPolicy: 'OnFailure' }), succeeded, ctx()).start).toEqual([]);
    expect(computePodActions(makePod({ restartPolicy: 'OnFailure' }), exited, ctx()).start).toHaveLength(1);
  });

  it('waits while the crash back-off runs', () => {
    const actions = computePodActions(makePod(), [rc('POD', 'running'), rc('app', 'exited', { exitCode: 1 })], ctx({ backoffRemainingMs: () => 7000 }));
    expect(actions.start).toEqual([]);
    expect(actions.backingOff).toMatchObject([{ spec: { name: 'app' }, remainingMs: 7000 }]);
  });

  it('kills a container whose liveness probe failed', () => {
    const app = rc('app', 'running');
    const actions = computePodActions(makePod(), [rc('POD', 'running'), app], ctx({ mustRestart: (c) => (c.id === app.id ? 'liveness' : undefined) }));
    expect(actions.kill).toEqual([{ container: app, reason: 'liveness' }]);
  });

  it('runs init containers one at a time, in order', () => {
    const pod = makePod({ init: [{ name: 'one' }, { name: 'two' }] });
    expect(computePodActions(pod, [rc('POD', 'running')], ctx()).start.map((s) => s.spec.name)).toEqual(['one']);
    expect(computePodActions(pod, [rc('POD', 'running'), rc('one', 'running', { init: true })], ctx()).start).toEqual([]);
    const afterOne = computePodActions(pod, [rc('POD', 'running'), rc('one', 'exited', { init: true })], ctx());
    expect(afterOne.start.map((s) => [s.spec.name, s.init])).toEqual([['two', true]]);
    const allDone = computePodActions(pod, [rc('POD', 'running'), rc('one', 'exited', { init: true }), rc('two', 'exited', { init: true })], ctx());
    expect(allDone.start.map((s) => s.spec.name)).toEqual(['app']);
  });

  it('recreates a dead sandbox (killing what runs), but not for a finished Never pod', () => {
    const app = rc('app', 'running');
    const actions = computePodActions(makePod(), [rc('POD', 'exited'), app], ctx());
    expect(actions.createSandbox).toEqual({ attempt: 1 });
    expect(actions.kill).toEqual([{ container: app, reason: 'sandbox-changed' }]);
    const done = computePodActions(makePod({ restartPolicy: 'Never' }), [rc('POD', 'exited'), rc('app', 'exited')], ctx());
    expect(done.createSandbox).toBeUndefined();
  });

  it('does nothing for finished pods and prunes old instances', () => {
    expect(computePodActions(makePod({ phase: 'Failed' }), [], ctx()).createSandbox).toBeUndefined();
    const old = rc('app', 'exited', { attempt: 0 });
    const actions = computePodActions(makePod(), [rc('POD', 'running'), rc('app', 'running', { attempt: 2 }), rc('app', 'exited', { attempt: 1 }), old], ctx());
    expect(actions.remove).toEqual([old]);
  });

  it('shouldRestart', () => {
    expect([shouldRestart('Always', 0), shouldRestart('OnFailure', 0), shouldRestart('OnFailure', 1), shouldRestart('Never', 1)]).toEqual([true, false, true, false]);
  });
});

describe('crash back-off', () => {
  it('restarts at once the first time, then 10 s doubling to 5 min, reset after 10 min', () => {
    const backoff = new Backoff();
    let t = 0;
    expect(backoff.remainingSince('k', t, t)).toBe(0);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(backoff.next('k', t, t));
      t += 1000; // the container crashed 1 s after starting
      expect(backoff.remainingSince('k', t, t)).toBe(delays[i]);
      t += delays[i]!;
      expect(backoff.remainingSince('k', t - delays[i]!, t)).toBe(0);
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    // A run longer than 10 minutes starts again at 10 s.
    t += 11 * 60_000;
    expect(backoff.remainingSince('k', t, t)).toBe(0);
    expect(backoff.next('k', t, t)).toBe(10_000);
  });

  it('formats delays as Go does', () => {
    expect([goDuration(10_000), goDuration(160_000), goDuration(300_000)]).toEqual(['10s', '2m40s', '5m0s']);
  });
});

describe('probe thresholds', () => {
  it('readiness starts failed and passes after successThreshold', () => {
    let state = initialProbeState('readiness');
    expect(state.result).toBe('failure');
    state = recordProbeOutcome(state, true, { successThreshold: 2 });
    expect(state.result).toBe('failure');
    state = recordProbeOutcome(state, true, { successThreshold: 2 });
    expect(state.result).toBe('success');
  });

  it('liveness starts passing and fails after failureThreshold consecutive failures', () => {
    let state = initialProbeState('liveness');
    for (const ok of [false, false, true, false, false]) state = recordProbeOutcome(state, ok, {});
    expect(state.result).toBe('success');
    state = recordProbeOutcome(state, false, {});
    expect(state.result).toBe('failure');
  });
});
