import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OrchestratorView } from '../../src/dashboard/compose.js';
import { watchLabProgress } from '../../src/dashboard/lab-progress.js';
import { LiveCluster, type LiveMessage, type OrchestratorSource } from '../../src/dashboard/live.js';
import type { LabProgress, TimelineEntry } from '../../src/dashboard/model.js';
import type { NodeRecord } from '../../src/docker/provider.js';
import { cardView, workloadView } from './dashboard-fixtures.js';

function machine(name: string, index: number, state: NodeRecord['state'] = 'running'): NodeRecord {
  return { cluster: 'lab', name, role: index === 0 ? 'manager' : 'worker', index, ip: `172.30.0.${index + 2}`, containerId: name, containerName: `lab-${name}`, state, status: '', image: '', dockerPort: undefined, apiPort: undefined, connected: true };
}

/** A source whose answers the test sets. */
class FakeSource implements OrchestratorSource {
  reads = 0;
  failWith: Error | undefined;
  hooks: { poke(): void; say(entries: TimelineEntry[]): void } | undefined;
  constructor(public view: OrchestratorView) {}
  async read(): Promise<OrchestratorView> {
    this.reads++;
    await new Promise((r) => setTimeout(r, 5));
    if (this.failWith) throw this.failWith;
    return structuredClone(this.view);
  }
  follow(hooks: { poke(): void; say(entries: TimelineEntry[]): void }): void {
    this.hooks = hooks;
  }
}

const ready = (name: string) => ({ name, health: 'ready' as const, status: 'Ready', schedulable: true });
const view = (): OrchestratorView => ({
  nodes: [ready('leader'), ready('worker1')],
  workloads: [workloadView('web', { desired: 2, ready: 2 })],
  cards: [cardView('t1', { name: 'web.1', workload: 'web', slot: 'web.1', node: 'leader' }), cardView('t2', { name: 'web.2', workload: 'web', slot: 'web.2', node: 'worker1' })],
});

describe('LiveCluster', () => {
  let live: LiveCluster | undefined;
  afterEach(() => live?.stop());

  function setup() {
    const source = new FakeSource(view());
    let machines = [machine('leader', 0), machine('worker1', 1)];
    live = new LiveCluster({ cluster: 'lab', engine: 'swarm', listMachines: async () => machines, source, pollMs: 3_600_000, debounceMs: 1, now: () => new Date('2026-01-01T10:00:00Z') });
    const messages: LiveMessage[] = [];
    live.subscribe((m) => messages.push(m));
    return { source, live, messages, setMachines: (m: NodeRecord[]) => (machines = m) };
  }

  it('looks once at start, then tells subscribers what changed when poked', async () => {
    const { source, live, messages, setMachines } = setup();
    await live.start();
    expect(live.state.nodes.map((n) => `${n.name}:${n.health}:${n.machine}`)).toEqual(['leader:ready:running', 'worker1:ready:running']);
    expect(live.state.cards).toHaveLength(2);
    expect(live.timeline).toEqual([]);
    expect(source.hooks).toBeDefined();
    messages.length = 0;

    setMachines([machine('leader', 0), machine('worker1', 1, 'exited')]);
    source.view = { ...view(), nodes: [ready('leader'), { ...ready('worker1'), health: 'down', status: 'Down' }], cards: [view().cards[0]!, cardView('t3', { name: 'web.2', workload: 'web', slot: 'web.2', node: 'leader' })] };
    source.hooks!.poke();
    await vi.waitFor(() => expect(messages.some((m) => m.type === 'timeline')).toBe(true));
    const patch = messages.find((m) => m.type === 'patch');
    expect(patch?.type === 'patch' && patch.data.nodes?.upsert.map((n) => `${n.name}:${n.health}:${n.machine}`)).toEqual(['worker1:down:stopped']);
    expect(patch?.type === 'patch' && patch.data.cards).toEqual({ upsert: [expect.objectContaining({ id: 't3' })], remove: ['t2'] });
    expect(live.timeline.map((e) => e.text)).toEqual(['node worker1 powered off', 'node worker1 is down (Down)', 'web.2 lost with worker1 (Down)', 'web.2 rescheduled: worker1 → leader']);
    expect(live.timeline.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('keeps the last view and says why when the orchestrator stops answering', async () => {
    const { source, live, messages } = setup();
    await live.start();
    messages.length = 0;
    source.failWith = new Error('no swarm manager answered');
    await live.refresh();
    expect(live.state.source).toEqual({ ok: false, message: 'no swarm manager answered' });
    expect(live.state.cards).toHaveLength(2);
    expect(messages).toEqual([{ type: 'patch', data: { source: { ok: false, message: 'no swarm manager answered' } } }]);
    source.failWith = undefined;
    await live.refresh();
    expect(live.state.source).toEqual({ ok: true });
  });

  it('never looks twice at once: calls during a look make one more look', async () => {
    const { source, live } = setup();
    await live.start();
    const before = source.reads;
    await Promise.all([live.refresh(), live.refresh(), live.refresh(), live.refresh()]);
    expect(source.reads - before).toBe(2);
  });

  it('adds what sources and actions say, numbered, and keeps only the newest', async () => {
    const { live } = setup();
    await live.start();
    const entry = (text: string): TimelineEntry => ({ at: '2026-01-01T10:00:00Z', kind: 'event', severity: 'info', text });
    for (let i = 0; i < 310; i++) live.say([entry(`e${i}`)]);
    expect(live.timeline).toHaveLength(300);
    expect(live.timeline[0]).toMatchObject({ seq: 11, text: 'e10' });
    expect(live.timeline.at(-1)).toMatchObject({ seq: 310, text: 'e309' });
  });

  it("shows the lab's progress when it is set", async () => {
    const { live, messages } = setup();
    await live.start();
    messages.length = 0;
    const lab: LabProgress = { lab: 'crash', title: 'Crash', engine: 'swarm', steps: [], done: false, updatedAt: '2026-01-01T10:00:00Z' };
    live.setLab(lab);
    await vi.waitFor(() => expect(live.state.lab).toEqual(lab));
    expect(messages.find((m) => m.type === 'patch')).toEqual({ type: 'patch', data: { lab } });
  });
});

describe('watchLabProgress', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('tells when the file appears, changes and goes away, and ignores a half-written one', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dashboard-lab-'));
    const file = path.join(dir, 'not-yet', 'lab.json');
    const seen: (string | undefined)[] = [];
    const stop = watchLabProgress(file, (p) => seen.push(p?.currentStep), 20);
    try {
      await vi.waitFor(() => expect(seen).toEqual([undefined]));
      const progress = { lab: 'crash', title: 'Crash', engine: 'swarm', currentStep: 'one', steps: [], done: false, updatedAt: 'now' };
      await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(file)));
      await writeFile(file, JSON.stringify(progress));
      await vi.waitFor(() => expect(seen).toEqual([undefined, 'one']), { timeout: 3_000 });
      await writeFile(file, '{"lab": "cra');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([undefined, 'one']);
      await writeFile(file, JSON.stringify({ ...progress, currentStep: 'two' }));
      await vi.waitFor(() => expect(seen).toEqual([undefined, 'one', 'two']), { timeout: 3_000 });
      await rm(file);
      await vi.waitFor(() => expect(seen).toEqual([undefined, 'one', 'two', undefined]), { timeout: 3_000 });
    } finally {
      stop();
    }
  });
});
