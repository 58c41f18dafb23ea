/**
 * One look at the cluster, put together: the machines (node containers, from the host's
 * engine and their labels) and the orchestrator's view of them (swarm or kube). Pure.
 */
import type { ContainerState, NodeRecord } from '../docker/provider.js';
import { sortState } from './diff.js';
import type { CardView, DashboardEngine, DashboardState, LabProgress, MachineState, NodeHealth, NodeView, WorkloadView } from './model.js';

/** A node as the orchestrator sees it. */
export interface OrchestratorNode {
  name: string;
  health: NodeHealth;
  status: string;
  schedulable: boolean;
  role?: 'manager' | 'worker';
  address?: string;
  leader?: boolean;
  cpus?: number;
  memoryBytes?: number;
  version?: string;
}

export interface OrchestratorView {
  nodes: OrchestratorNode[];
  workloads: WorkloadView[];
  cards: CardView[];
}

export type Machine = Pick<NodeRecord, 'name' | 'role' | 'index' | 'ip' | 'state' | 'connected'>;

export function machineState(state: ContainerState, connected: boolean): MachineState {
  switch (state) {
    case 'running':
    case 'restarting':
      return connected ? 'running' : 'disconnected';
    case 'paused':
      return 'paused';
    case 'removing':
      return 'missing';
    default:
      return 'stopped';
  }
}

export interface ComposeInput {
  cluster: string;
  engine: DashboardEngine;
  machines: Machine[];
  /** The orchestrator's latest view; undefined when it never answered. */
  view: OrchestratorView | undefined;
  source: DashboardState['source'];
  lab?: LabProgress;
}

export function composeState(input: ComposeInput): DashboardState {
  const seen = new Map((input.view?.nodes ?? []).map((n) => [n.name, n]));
  const nodes: NodeView[] = input.machines.map((machine) => {
    const known = seen.get(machine.name);
    seen.delete(machine.name);
    const node: NodeView = {
      name: machine.name,
      role: machine.role,
      order: machine.index,
      health: known?.health ?? 'unknown',
      status: known?.status ?? (input.view ? `not in the ${input.engine === 'swarm' ? 'swarm' : 'cluster'}` : 'Unknown'),
      machine: machineState(machine.state, machine.connected),
      address: machine.ip || known?.address || '',
      schedulable: known?.schedulable ?? false,
    };
    if (known?.leader) node.leader = true;
    if (known?.cpus !== undefined) node.cpus = known.cpus;
    if (known?.memoryBytes !== undefined) node.memoryBytes = known.memoryBytes;
    if (known?.version !== undefined) node.version = known.version;
    return node;
  });
  // Known to the orchestrator, but no machine carries the name (removed by hand).
  let order = Math.max(-1, ...input.machines.map((m) => m.index));
  for (const known of seen.values()) {
    nodes.push({
      name: known.name,
      role: known.role ?? 'worker',
      order: ++order,
      health: known.health,
      status: known.status,
      machine: 'missing',
      address: known.address ?? '',
      schedulable: known.schedulable,
    });
  }
  const state: DashboardState = {
    cluster: input.cluster,
    engine: input.engine,
    source: input.source,
    nodes,
    workloads: input.view?.workloads ?? [],
    cards: input.view?.cards ?? [],
  };
  if (input.lab) state.lab = input.lab;
  return sortState(state);
}
