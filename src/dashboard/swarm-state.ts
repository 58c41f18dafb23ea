/**
 * The swarm's objects (Docker API: /nodes, /services, /tasks) as the dashboard's view. Pure.
 * Only the fields read here are typed: the API returns more.
 */
import type Docker from 'dockerode';
import type { OrchestratorNode, OrchestratorView } from './compose.js';
import type { CardView, NodeHealth, Tone, WorkloadView } from './model.js';

export interface SwarmNodeObject {
  ID: string;
  Spec?: { Role?: string; Availability?: string };
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number }; Engine?: { EngineVersion?: string } };
  Status?: { State?: string; Message?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string };
}

export interface SwarmTaskObject {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  CreatedAt?: string;
  Spec?: { ContainerSpec?: { Image?: string } };
  Status?: { Timestamp?: string; State?: string; Message?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

/** How long a failed task stays on the board after it ended, so that people see it fail. */
export const FAILED_TASK_VISIBLE_MS = 15_000;

const WANTED = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

/** `busybox:1@sha256:…` → `busybox:1`: the digest swarm pins is noise on a card. */
export function shortImage(image: string | undefined): string {
  return (image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
}

export function taskTone(state: string | undefined): Tone {
  switch (state) {
    case 'running':
      return 'ok';
    case 'failed':
    case 'rejected':
      return 'failed';
    case 'complete':
    case 'shutdown':
    case 'orphaned':
    case 'remove':
      return 'gone';
    case undefined:
      return 'warning';
    default:
      return WANTED.has(state) ? 'starting' : 'warning';
  }
}

function nodeHealth(state: string | undefined): NodeHealth {
  if (state === 'ready') return 'ready';
  if (state === 'down' || state === 'disconnected') return 'down';
  return 'unknown';
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Several swarm entries can carry one hostname after a node left and joined again: the ready one speaks. */
function byHostname(nodes: SwarmNodeObject[]): Map<string, SwarmNodeObject> {
  const out = new Map<string, SwarmNodeObject>();
  for (const node of nodes) {
    const name = node.Description?.Hostname;
    if (!name) continue;
    const existing = out.get(name);
    if (existing?.Status?.State === 'ready' && node.Status?.State !== 'ready') continue;
    out.set(name, node);
  }
  return out;
}

export function swarmNodeView(node: SwarmNodeObject, name: string): OrchestratorNode {
  const availability = node.Spec?.Availability ?? 'active';
  const state = node.Status?.State ?? 'unknown';
  const view: OrchestratorNode = {
    name,
    health: nodeHealth(state),
    status: availability === 'active' ? capitalize(state) : `${capitalize(state)}, ${capitalize(availability)}`,
    schedulable: availability === 'active',
    role: node.Spec?.Role === 'manager' ? 'manager' : 'worker',
  };
  if (node.Status?.Addr && node.Status.Addr !== '0.0.0.0') view.address = node.Status.Addr;
  if (node.ManagerStatus?.Leader) view.leader = true;
  const resources = node.Description?.Resources;
  if (resources?.NanoCPUs) view.cpus = resources.NanoCPUs / 1e9;
  if (resources?.MemoryBytes) view.memoryBytes = resources.MemoryBytes;
  if (node.Description?.Engine?.EngineVersion) view.version = node.Description.Engine.EngineVersion;
  return view;
}

function rolloutText(service: Docker.Service): string | undefined {
  const status = service.UpdateStatus;
  if (!status?.State) return undefined;
  const words: Record<string, string> = {
    updating: 'update in progress',
    paused: 'update paused',
    completed: 'update completed',
    rollback_started: 'rolling back',
    rollback_paused: 'rollback paused',
    rollback_completed: 'rolled back',
  };
  const word = words[status.State] ?? status.State;
  return status.Message && status.State !== 'completed' && status.State !== 'updating' ? `${word}: ${status.Message}` : word;
}

export interface SwarmObjects {
  nodes: SwarmNodeObject[];
  services: Docker.Service[];
  tasks: SwarmTaskObject[];
}

/** The view of a swarm at `now` (failed tasks stay visible for a while after they ended). */
export function swarmView(objects: SwarmObjects, now: Date): OrchestratorView {
  const hosts = byHostname(objects.nodes);
  const hostOfId = new Map(objects.nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  const services = new Map(objects.services.map((s) => [s.ID, s]));
  const global = (s: Docker.Service | undefined) => s?.Spec?.Mode?.Global !== undefined;

  const slotKey = (task: SwarmTaskObject) => {
    const service = services.get(task.ServiceID);
    const name = service?.Spec?.Name ?? task.ServiceID;
    return global(service) ? `${name}@${hostOfId.get(task.NodeID ?? '') ?? task.NodeID ?? ''}` : `${name}.${task.Slot ?? 0}`;
  };
  const failuresBySlot = new Map<string, SwarmTaskObject[]>();
  for (const task of objects.tasks) {
    if (taskTone(task.Status?.State) !== 'failed') continue;
    const key = slotKey(task);
    failuresBySlot.set(key, [...(failuresBySlot.get(key) ?? []), task]);
  }

  const cards: CardView[] = [];
  for (const task of objects.tasks) {
    const service = services.get(task.ServiceID);
    if (!service) continue; // the service is being removed
    const state = task.Status?.State ?? 'unknown';
    const tone = taskTone(state);
    const wanted = WANTED.has(task.DesiredState ?? '');
    const endedAt = Date.parse(task.Status?.Timestamp ?? '');
    const recentFailure = tone === 'failed' && Number.isFinite(endedAt) && now.getTime() - endedAt <= FAILED_TASK_VISIBLE_MS;
    if (!wanted && !recentFailure) continue;
    const name = service.Spec?.Name ?? task.ServiceID;
    const slot = slotKey(task);
    const node = task.NodeID ? hostOfId.get(task.NodeID) : undefined;
    const created = Date.parse(task.CreatedAt ?? '');
    const card: CardView = {
      id: task.ID,
      name: global(service) ? `${name}.${node ?? '?'}` : `${name}.${task.Slot ?? 0}`,
      workload: name,
      slot,
      image: shortImage(task.Spec?.ContainerSpec?.Image),
      state,
      tone,
      restarts: (failuresBySlot.get(slot) ?? []).filter((f) => f.ID !== task.ID && Date.parse(f.CreatedAt ?? '') < created).length,
      since: task.Status?.Timestamp ?? task.CreatedAt ?? now.toISOString(),
    };
    if (node) card.node = node;
    // Swarm's progress words ("preparing", "started") say nothing the state does not.
    const message = task.Status?.Err || (tone === 'failed' || tone === 'warning' ? task.Status?.Message : undefined);
    if (message) card.message = message;
    cards.push(card);
  }

  const workloads: WorkloadView[] = objects.services.map((service) => {
    const name = service.Spec?.Name ?? service.ID;
    const template = service.Spec?.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined;
    const view: WorkloadView = {
      id: name,
      name,
      kind: 'service',
      image: shortImage(template?.ContainerSpec?.Image),
      ready: objects.tasks.filter((t) => t.ServiceID === service.ID && WANTED.has(t.DesiredState ?? '') && t.Status?.State === 'running').length,
    };
    const replicas = service.Spec?.Mode?.Replicated?.Replicas;
    if (replicas !== undefined) view.desired = replicas;
    const rollout = rolloutText(service);
    if (rollout) view.rollout = rollout;
    return view;
  });

  return { nodes: [...hosts].map(([name, node]) => swarmNodeView(node, name)), workloads, cards };
}
