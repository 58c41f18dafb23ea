import type { NodeRecord } from '../docker/provider.js';
import { engineFor } from '../engines/index.js';
import { engineContext } from './lifecycle.js';
import { clusterNetworkName } from './names.js';
import { currentSpec, requireCluster } from './nodes.js';
import type { ClusterRuntime } from './runtime.js';

export interface NodeStatus {
  name: string;
  role: string;
  /** The container's state: running, exited, paused, created… */
  state: string;
  ip: string;
  /** False after `node disconnect`. */
  connected: boolean;
  container: string;
  /** The orchestrator's view: Ready/Down…, Active/Drain…, Leader/Reachable… */
  orchestrator: { state: string; availability: string; managerStatus: string } | null;
  /** 127.0.0.1 port of the node's TLS Docker endpoint (managers). */
  dockerPort?: number;
  /** 127.0.0.1 port of the node's Kubernetes API server (kube control planes). */
  apiPort?: number;
}

export interface ClusterStatus {
  name: string;
  engine: string;
  /** running: every node up; degraded: some; stopped: none. */
  state: 'running' | 'degraded' | 'stopped';
  network: { name: string; subnet: string };
  runMode: string;
  nodes: NodeStatus[];
  /** Engine facts, e.g. { "routing mesh": "available" }. */
  facts: Record<string, string>;
}

export function clusterState(nodes: NodeRecord[]): ClusterStatus['state'] {
  const up = nodes.filter((n) => n.state === 'running').length;
  if (up === 0) return 'stopped';
  return up === nodes.length ? 'running' : 'degraded';
}

/** A cluster as the labels and the orchestrator see it, for `status` and bug reports. */
export async function describeCluster(rt: ClusterRuntime, name: string): Promise<ClusterStatus> {
  const cluster = await requireCluster(rt, name);
  const nodes = await rt.provider.listNodes(name);
  const engine = engineFor(cluster.engine);
  const ctx = engineContext(rt, currentSpec(cluster, nodes), nodes);
  const [states, facts] = await Promise.all([engine.nodeStates(ctx), engine.describe(ctx).catch(() => ({}))]);
  return {
    name: cluster.name,
    engine: cluster.engine,
    state: clusterState(nodes),
    network: { name: clusterNetworkName(cluster.name), subnet: cluster.subnet },
    runMode: cluster.runMode,
    nodes: nodes.map((n) => ({
      name: n.name,
      role: n.role,
      state: n.state,
      ip: n.ip,
      connected: n.connected,
      container: n.containerName,
      orchestrator: states.get(n.name) ?? null,
      ...(n.dockerPort !== undefined ? { dockerPort: n.dockerPort } : {}),
      ...(n.apiPort !== undefined ? { apiPort: n.apiPort } : {}),
    })),
    facts,
  };
}
