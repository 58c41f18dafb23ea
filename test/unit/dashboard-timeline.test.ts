import { describe, expect, it } from 'vitest';
import type { DashboardState, LabProgress } from '../../src/dashboard/model.js';
import { replacementKey, TimelineDeriver } from '../../src/dashboard/timeline.js';
import { cardView, nodeView, stateOf, workloadView } from './dashboard-fixtures.js';

const T0 = new Date('2026-01-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const nodes = [nodeView('leader', { order: 0 }), nodeView('worker1', { order: 1 }), nodeView('worker2', { order: 2 })];
const base = stateOf({
  nodes,
  workloads: [workloadView('web')],
  cards: [
    cardView('t1', { name: 'web.1', workload: 'web', slot: 'web.1', node: 'leader' }),
    cardView('t2', { name: 'web.2', workload: 'web', slot: 'web.2', node: 'worker1' }),
    cardView('t3', { name: 'web.3', workload: 'web', slot: 'web.3', node: 'worker2' }),
  ],
});

function texts(deriver: TimelineDeriver, prev: DashboardState | undefined, next: DashboardState, now = T0): string[] {
  return deriver.changes(prev, next, now).map((e) => `${e.kind}/${e.severity}: ${e.text}`);
}

function withNode(state: DashboardState, name: string, change: Partial<(typeof nodes)[number]>): DashboardState {
  return { ...state, nodes: state.nodes.map((n) => (n.name === name ? { ...n, ...change } : n)) };
}

describe('TimelineDeriver', () => {
  it('says nothing about the first look, nor when nothing changed', () => {
    const deriver = new TimelineDeriver();
    expect(deriver.changes(undefined, base, T0)).toEqual([]);
    expect(deriver.changes(base, structuredClone(base), T0)).toEqual([]);
  });

  it('tells a node going down, its task lost, and the slot rescheduled on another node', () => {
    const deriver = new TimelineDeriver();
    const stopped = withNode(base, 'worker2', { machine: 'stopped' });
    expect(texts(deriver, base, stopped)).toEqual(['node/warning: node worker2 powered off']);

    const down = withNode(stopped, 'worker2', { health: 'down', status: 'Down' });
    const lost = { ...down, cards: down.cards.filter((c) => c.id !== 't3') };
    expect(texts(deriver, stopped, lost, at(8))).toEqual(['node/error: node worker2 is down (Down)', 'task/warning: web.3 lost with worker2 (Down)']);

    const moved = { ...lost, cards: [...lost.cards, cardView('t4', { name: 'web.3', workload: 'web', slot: 'web.3', node: 'worker1', state: 'running' })] };
    const entries = deriver.changes(lost, moved, at(9));
    expect(entries).toEqual([{ at: at(9).toISOString(), kind: 'task', severity: 'ok', text: 'web.3 rescheduled: worker2 → worker1' }]);

    const back = withNode(withNode(moved, 'worker2', { machine: 'running' }), 'worker2', { health: 'ready', status: 'Ready' });
    expect(texts(deriver, moved, back, at(30))).toEqual(['node/info: node worker2 powered on', 'node/ok: node worker2 is ready']);
  });

  it('tells a failure once, and the replacement on the same node as a replacement', () => {
    const deriver = new TimelineDeriver();
    const failed = { ...base, cards: base.cards.map((c) => (c.id === 't2' ? { ...c, state: 'failed', tone: 'failed' as const, message: 'task: non-zero exit (137)' } : c)) };
    expect(texts(deriver, base, failed)).toEqual(['task/error: web.2 failed on worker1: task: non-zero exit (137)']);
    // The failed card lingers while its replacement starts, then goes.
    const replaced = { ...failed, cards: [...failed.cards, cardView('t5', { name: 'web.2', workload: 'web', slot: 'web.2', node: 'worker1', state: 'starting', tone: 'starting' })] };
    expect(texts(deriver, failed, replaced, at(1))).toEqual(['task/ok: web.2 replaced on worker1']);
    const cleared = { ...replaced, cards: replaced.cards.filter((c) => c.id !== 't2') };
    expect(texts(deriver, replaced, cleared, at(15))).toEqual([]);
  });

  it('tells a rollout replica by replica, without calling the old ones stopped', () => {
    const deriver = new TimelineDeriver();
    const rolling = { ...base, workloads: [workloadView('web', { image: 'busybox:2', rollout: 'updating' })] };
    deriver.changes(base, rolling, T0);
    const oldGone = { ...rolling, cards: rolling.cards.filter((c) => c.id !== 't1') };
    expect(texts(deriver, rolling, oldGone, at(1))).toEqual([]);
    const updated = { ...oldGone, cards: [...oldGone.cards, cardView('n1', { name: 'web.1', workload: 'web', slot: 'web.1', node: 'leader', image: 'busybox:2' })] };
    expect(texts(deriver, oldGone, updated, at(2))).toEqual(['rollout/info: web.1 updated on leader: busybox:1 → busybox:2']);
  });

  it('says nothing of an old failed task that reports late when its node comes back', () => {
    const deriver = new TimelineDeriver();
    const late = { ...base, cards: [...base.cards, cardView('old', { name: 'web.2', workload: 'web', slot: 'web.2', node: 'worker2', state: 'failed', tone: 'failed' })] };
    expect(texts(deriver, base, late)).toEqual([]);
  });

  it('forgets vanished cards after its memory, and matches each only once', () => {
    const deriver = new TimelineDeriver(10_000);
    const gone = { ...base, cards: base.cards.filter((c) => c.id !== 't1') };
    deriver.changes(base, gone, T0);
    const late = { ...gone, cards: [...gone.cards, cardView('t9', { name: 'web.1', workload: 'web', slot: 'web.1', node: 'worker2' })] };
    expect(texts(deriver, gone, late, at(20))).toEqual(['task/info: web.1 started on worker2']);

    const again = new TimelineDeriver();
    again.changes(base, gone, T0);
    const first = { ...gone, cards: [...gone.cards, cardView('a', { name: 'web.1', workload: 'web', slot: 'web.1', node: 'worker1' })] };
    expect(texts(again, gone, first, at(1))).toEqual(['task/ok: web.1 rescheduled: leader → worker1']);
    const second = { ...first, cards: [...first.cards, cardView('b', { name: 'web.1', workload: 'web', slot: 'web.1', node: 'worker2' })] };
    expect(texts(again, first, second, at(2))).toEqual(['task/info: web.1 started on worker2']);
  });

  it('tells kube pods replaced by workload and image, restarts, and a pending pod placed later', () => {
    const deriver = new TimelineDeriver();
    const pod = (id: string, node?: string) => cardView(id, { name: `web-${id}`, workload: 'default/web', image: 'busybox:1', ...(node ? { node } : {}) });
    const kube = stateOf({ engine: 'kube', nodes, workloads: [workloadView('default/web', { kind: 'deployment' })], cards: [pod('a', 'worker1')] });
    expect(replacementKey(pod('a'))).toBe('workload:default/web');
    expect(replacementKey(cardView('x', { slot: 'web.1', workload: 'web' }))).toBe('slot:web.1');
    expect(replacementKey(cardView('x'))).toBeUndefined();
    const restarted = { ...kube, cards: [{ ...pod('a', 'worker1'), restarts: 1 }] };
    expect(texts(deriver, kube, restarted)).toEqual(['pod/warning: web-a restarted on worker1 (1 restart)']);
    const terminating = { ...restarted, cards: [{ ...pod('a', 'worker1'), restarts: 1, state: 'Terminating', tone: 'gone' as const }, pod('b')] };
    expect(texts(deriver, restarted, terminating, at(1))).toEqual(['pod/info: web-a stopped on worker1']);
    const placed = { ...terminating, cards: [terminating.cards[0]!, pod('b', 'worker2')] };
    expect(texts(deriver, terminating, placed, at(2))).toEqual(['pod/ok: web-b rescheduled: worker1 → worker2']);
  });

  it('tells scaling, rollouts and their steps, and workloads coming and going', () => {
    const deriver = new TimelineDeriver();
    const scaled = { ...base, workloads: [workloadView('web', { desired: 5 })] };
    expect(texts(deriver, base, scaled)).toEqual(['scale/info: web scaled 3 → 5']);
    const rolling = { ...scaled, workloads: [workloadView('web', { desired: 5, image: 'busybox:2', rollout: 'update in progress' })] };
    expect(texts(deriver, scaled, rolling)).toEqual(['rollout/info: rollout of web: busybox:1 → busybox:2', 'rollout/info: web: update in progress']);
    const done = { ...rolling, workloads: [workloadView('web', { desired: 5, image: 'busybox:2', rollout: 'update completed' })] };
    expect(texts(deriver, rolling, done)).toEqual(['rollout/ok: web: update completed']);
    const paused = { ...done, workloads: [workloadView('web', { desired: 5, image: 'busybox:2', rollout: 'update paused: update paused due to failure' })] };
    expect(texts(deriver, done, paused)[0]).toMatch(/^rollout\/warning: /);
    const added = { ...base, workloads: [...base.workloads, workloadView('api', { desired: undefined })] };
    expect(texts(deriver, base, added)).toEqual(['scale/info: service api created (global, busybox:1)']);
    const shrunk = { ...scaled, workloads: [workloadView('web', { desired: 2 })], cards: base.cards.filter((c) => c.id !== 't3') };
    expect(texts(new TimelineDeriver(), scaled, shrunk)).toEqual(['task/info: web.3 removed on worker2 (scaled down)', 'scale/info: web scaled 5 → 2']);
  });

  it('tells the lab starting, its current step, and step results as they change', () => {
    const deriver = new TimelineDeriver();
    const lab: LabProgress = {
      lab: 'crash',
      title: 'Crash recovery',
      engine: 'swarm',
      currentStep: 'deploy',
      steps: [
        { id: 'deploy', title: 'Deploy web', status: 'pending' },
        { id: 'kill', title: 'Kill a task', status: 'pending' },
      ],
      done: false,
      updatedAt: T0.toISOString(),
    };
    const started = { ...base, lab };
    expect(texts(deriver, base, started)).toEqual(['lab/info: lab "Crash recovery" started', 'lab/info: lab step: Deploy web']);
    const failing = { ...started, lab: { ...lab, steps: [{ ...lab.steps[0]!, status: 'failed' as const, message: '2 of 3 running' }, lab.steps[1]!] } };
    expect(texts(deriver, started, failing)).toEqual(['lab/error: step "Deploy web" failed: 2 of 3 running']);
    const sameFailure = structuredClone(failing);
    expect(texts(deriver, failing, sameFailure)).toEqual([]);
    const passed = {
      ...failing,
      lab: { ...lab, currentStep: 'kill', steps: [{ ...lab.steps[0]!, status: 'passed' as const }, { ...lab.steps[1]!, status: 'passed' as const }], done: true },
    };
    expect(texts(deriver, failing, passed)).toEqual([
      'lab/info: lab step: Kill a task',
      'lab/ok: step "Deploy web" passed',
      'lab/ok: step "Kill a task" passed',
      'lab/ok: lab "Crash recovery" done',
    ]);
  });
});
