/** Small builders of dashboard states for the dashboard-*.test.ts files. */
import type { CardView, DashboardState, NodeView, WorkloadView } from '../../src/dashboard/model.js';

export function nodeView(name: string, overrides: Partial<NodeView> = {}): NodeView {
  return { name, role: name === 'leader' ? 'manager' : 'worker', order: 0, health: 'ready', status: 'Ready', machine: 'running', address: '172.30.0.2', schedulable: true, ...overrides };
}

export function cardView(id: string, overrides: Partial<CardView> = {}): CardView {
  return { id, name: id, image: 'busybox:1', state: 'running', tone: 'ok', restarts: 0, since: '2026-01-01T00:00:00.000Z', ...overrides };
}

export function workloadView(name: string, overrides: Partial<WorkloadView> = {}): WorkloadView {
  return { id: name, name, kind: 'service', image: 'busybox:1', desired: 3, ready: 3, ...overrides };
}

export function stateOf(parts: Partial<DashboardState> = {}): DashboardState {
  return { cluster: 'lab', engine: 'swarm', source: { ok: true }, nodes: [], workloads: [], cards: [], ...parts };
}
