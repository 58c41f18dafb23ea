/**
 * The timeline from state changes: what a trainer would narrate when comparing two looks at
 * the cluster (a node went down, a task failed, its slot came back on another node, a
 * service was scaled, a rollout moved on, a lab step passed). Remembers recently vanished
 * cards for a minute, so that a replacement is told as "rescheduled from A to B".
 */
import type { CardView, DashboardState, MachineState, NodeHealth, NodeView, TimelineEntry, WorkloadView } from './model.js';

const MACHINE_WORDS: Record<MachineState, string> = {
  running: 'powered on',
  stopped: 'powered off',
  paused: 'frozen (paused)',
  disconnected: 'cut off the cluster network',
  missing: 'gone',
};

const MACHINE_BACK: Partial<Record<MachineState, string>> = {
  paused: 'thawed',
  disconnected: 'reconnected to the cluster network',
};

interface Vanished {
  id: string;
  name: string;
  node?: string;
  image: string;
  at: number;
  /** Already matched to a replacement (kept, so that it is not remembered again). */
  taken: boolean;
}

/**
 * What a replacement of this card would share with it: its slot (swarm), else its workload
 * (kube: any pod of the deployment replaces any other; a rollout's new pods have a new image).
 */
export function replacementKey(card: CardView): string | undefined {
  if (card.slot) return `slot:${card.slot}`;
  return card.workload ? `workload:${card.workload}` : undefined;
}

function onNode(card: CardView): string {
  return card.node ? ` on ${card.node}` : '';
}

export class TimelineDeriver {
  private readonly vanished = new Map<string, Vanished[]>();

  constructor(private readonly memoryMs = 60_000) {}

  /** Entries describing how `prev` became `next`; none for the first look. */
  changes(prev: DashboardState | undefined, next: DashboardState, now: Date): TimelineEntry[] {
    if (!prev) return [];
    const at = now.toISOString();
    this.forget(now.getTime());
    const cardKind = next.engine === 'swarm' ? 'task' : 'pod';
    const entries: TimelineEntry[] = [];
    const add = (kind: TimelineEntry['kind'], severity: TimelineEntry['severity'], text: string) => entries.push({ at, kind, severity, text });

    const nextNodes = new Map(next.nodes.map((n) => [n.name, n]));
    for (const entry of this.nodeChanges(prev.nodes, nextNodes)) add('node', entry.severity, entry.text);

    const prevCards = new Map(prev.cards.map((c) => [c.id, c]));
    const nextCards = new Map(next.cards.map((c) => [c.id, c]));
    const prevWorkloads = new Map(prev.workloads.map((w) => [w.id, w]));
    const nextWorkloads = new Map(next.workloads.map((w) => [w.id, w]));

    // Vanished first: a replacement seen in the same look then finds what it replaces.
    for (const [id, before] of prevCards) {
      const after = nextCards.get(id);
      const gone = !after || (after.tone === 'gone' && before.tone !== 'gone');
      const failed = after?.tone === 'failed' && before.tone !== 'failed';
      // A failed card may linger while its replacement starts: it is replaced from now on.
      if (gone || failed) this.remember(before, now.getTime());
      if (!gone || before.tone === 'failed') continue; // a failure is told when it happens
      const node = before.node ? nextNodes.get(before.node) : undefined;
      const nodeLost = node !== undefined && (node.health !== 'ready' || node.machine !== 'running');
      const workload = before.workload ? nextWorkloads.get(before.workload) : undefined;
      const shrunk = workload && before.workload && (prevWorkloads.get(before.workload)?.desired ?? 0) > (workload.desired ?? Infinity);
      const outdated = workload !== undefined && workload.image !== before.image;
      if (nodeLost) add(cardKind, 'warning', `${before.name} lost with ${before.node} (${node!.status})`);
      else if (before.workload && !workload) add(cardKind, 'info', `${before.name} removed with ${before.workload}`);
      else if (outdated) continue; // replaced by a rollout: told when the new one is placed
      else if (shrunk) add(cardKind, 'info', `${before.name} removed${onNode(before)} (scaled down)`);
      else add(cardKind, 'info', `${before.name} stopped${onNode(before)}`);
    }

    for (const [id, after] of nextCards) {
      const before = prevCards.get(id);
      // A card that shows up already ended is an old one reporting late (its node came back).
      if (after.tone === 'gone' || (!before && after.tone === 'failed')) continue;
      if (before && after.tone === 'failed' && before.tone !== 'failed') {
        add(cardKind, 'error', `${after.name} failed${onNode(after)}${after.message ? `: ${after.message}` : ''}`);
      } else if (before && after.restarts > before.restarts) {
        add(cardKind, 'warning', `${after.name} restarted${onNode(after)} (${after.restarts} restart${after.restarts === 1 ? '' : 's'})`);
      }
      // A card counts as placed once it has a node: when it appears with one, or gets one.
      const placed = after.node !== undefined && (!before || before.node === undefined);
      if (!placed) continue;
      const replaced = this.takeReplaced(after);
      if (replaced && replaced.image !== after.image) add('rollout', 'info', `${after.name} updated${onNode(after)}: ${replaced.image} → ${after.image}`);
      else if (replaced?.node && replaced.node !== after.node) add(cardKind, 'ok', `${after.name} rescheduled: ${replaced.node} → ${after.node}`);
      else if (replaced) add(cardKind, 'ok', `${after.name} replaced${onNode(after)}`);
      else if (after.workload && prevWorkloads.has(after.workload)) add(cardKind, 'info', `${after.name} started${onNode(after)}`);
    }

    for (const entry of this.workloadChanges(prevWorkloads, nextWorkloads)) entries.push({ at, ...entry });
    for (const entry of labChanges(prev, next)) entries.push({ at, ...entry });
    return entries;
  }

  private nodeChanges(prev: NodeView[], next: Map<string, NodeView>): { severity: TimelineEntry['severity']; text: string }[] {
    const out: { severity: TimelineEntry['severity']; text: string }[] = [];
    const prevNames = new Set(prev.map((n) => n.name));
    for (const before of prev) {
      const after = next.get(before.name);
      if (!after) {
        out.push({ severity: 'warning', text: `node ${before.name} removed from the cluster` });
        continue;
      }
      if (after.machine !== before.machine) {
        const back = after.machine === 'running' ? MACHINE_BACK[before.machine] : undefined;
        out.push({ severity: after.machine === 'running' ? 'info' : 'warning', text: `node ${after.name} ${back ?? MACHINE_WORDS[after.machine]}` });
      }
      if (after.health !== before.health) out.push(healthChange(after, after.health));
    }
    for (const [name, after] of next) if (!prevNames.has(name)) out.push({ severity: 'info', text: `node ${name} joined (${after.role})` });
    return out;
  }

  private workloadChanges(prev: Map<string, WorkloadView>, next: Map<string, WorkloadView>): Omit<TimelineEntry, 'at'>[] {
    const out: Omit<TimelineEntry, 'at'>[] = [];
    for (const [id, after] of next) {
      const before = prev.get(id);
      if (!before) {
        out.push({ kind: 'scale', severity: 'info', text: `${after.kind} ${after.name} created (${after.desired === undefined ? 'global' : `${after.desired} replicas`}, ${after.image})` });
        continue;
      }
      if (after.desired !== before.desired && after.desired !== undefined) {
        out.push({ kind: 'scale', severity: 'info', text: `${after.name} scaled ${before.desired ?? '?'} → ${after.desired}` });
      }
      if (after.image !== before.image) out.push({ kind: 'rollout', severity: 'info', text: `rollout of ${after.name}: ${before.image} → ${after.image}` });
      if (after.rollout !== before.rollout && after.rollout) {
        const trouble = /fail|paused|rolling back|rolled back/i.test(after.rollout);
        const done = /completed|rolled out/i.test(after.rollout);
        out.push({ kind: 'rollout', severity: trouble ? 'warning' : done ? 'ok' : 'info', text: `${after.name}: ${after.rollout}` });
      }
    }
    for (const [id, before] of prev) if (!next.has(id)) out.push({ kind: 'scale', severity: 'info', text: `${before.kind} ${before.name} removed` });
    return out;
  }

  private remember(card: CardView, at: number): void {
    const key = replacementKey(card);
    if (!key) return;
    const list = this.vanished.get(key) ?? [];
    if (!list.some((v) => v.id === card.id)) list.push({ id: card.id, name: card.name, node: card.node, image: card.image, at, taken: false });
    this.vanished.set(key, list);
  }

  /** The oldest remembered card this one replaces; each is replaced once. */
  private takeReplaced(card: CardView): Vanished | undefined {
    const key = replacementKey(card);
    const taken = key ? this.vanished.get(key)?.find((v) => !v.taken && v.id !== card.id) : undefined;
    if (taken) taken.taken = true;
    return taken;
  }

  private forget(now: number): void {
    for (const [key, list] of this.vanished) {
      const kept = list.filter((v) => now - v.at <= this.memoryMs);
      if (kept.length) this.vanished.set(key, kept);
      else this.vanished.delete(key);
    }
  }
}

function healthChange(node: NodeView, health: NodeHealth): { severity: TimelineEntry['severity']; text: string } {
  if (health === 'ready') return { severity: 'ok', text: `node ${node.name} is ready` };
  if (health === 'down') return { severity: 'error', text: `node ${node.name} is down (${node.status})` };
  return { severity: 'warning', text: `node ${node.name}: state unknown (${node.status})` };
}

function labChanges(prev: DashboardState, next: DashboardState): Omit<TimelineEntry, 'at'>[] {
  const out: Omit<TimelineEntry, 'at'>[] = [];
  const lab = next.lab;
  if (!lab) return out;
  const before = prev.lab?.lab === lab.lab ? prev.lab : undefined;
  if (!before) out.push({ kind: 'lab', severity: 'info', text: `lab "${lab.title}" started` });
  if (lab.currentStep && lab.currentStep !== before?.currentStep) {
    const step = lab.steps.find((s) => s.id === lab.currentStep);
    out.push({ kind: 'lab', severity: 'info', text: `lab step: ${step?.title ?? lab.currentStep}` });
  }
  const beforeSteps = new Map((before?.steps ?? []).map((s) => [s.id, s]));
  for (const step of lab.steps) {
    const was = beforeSteps.get(step.id);
    // A re-check that fails again with another message is news too.
    const unchanged = was !== undefined && step.status === was.status && (step.status !== 'failed' || step.message === was.message);
    if (unchanged || step.status === 'pending') continue;
    const severity = step.status === 'passed' ? 'ok' : step.status === 'failed' ? 'error' : 'info';
    out.push({ kind: 'lab', severity, text: `step "${step.title}" ${step.status}${step.message ? `: ${step.message}` : ''}` });
  }
  if (lab.done && !before?.done) out.push({ kind: 'lab', severity: 'ok', text: `lab "${lab.title}" done` });
  return out;
}
