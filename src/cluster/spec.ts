/**
 * The internal, fully defaulted description of a cluster. The YAML config (config.ts)
 * and the command-line flags are both turned into this; everything downstream uses it.
 */

export type Engine = 'swarm' | 'kube';
export type NodeRole = 'manager' | 'worker';

export interface PortMapping {
  /** Port inside the node container. */
  containerPort: number;
  /** Port on the host. */
  hostPort: number;
  /** Host address to bind; 127.0.0.1 unless the config says otherwise. */
  listenAddress: string;
  protocol: 'tcp' | 'udp';
}

export interface NodeSpec {
  /** DNS-1123 label, unique in the cluster; also the node's hostname. */
  name: string;
  role: NodeRole;
  /** Orchestrator labels (swarm node labels / Kubernetes node labels). */
  labels: Record<string, string>;
  /** CPU limit in cores (may be fractional); undefined = unlimited. */
  cpus?: number;
  /** Memory limit in bytes; undefined = unlimited. */
  memoryBytes?: number;
  ports: PortMapping[];
}

export interface ClusterSpec {
  /** DNS-1123 label: used in container, network and volume names. */
  name: string;
  engine: Engine;
  nodes: NodeSpec[];
  /** kube only: node-failure timings; Kubernetes' own defaults when absent. */
  kube?: KubeSettings;
}

/** The node-failure timings a lab may shorten (kube-controller-manager and kube-apiserver flags). */
export interface KubeSettings {
  /** --node-monitor-grace-period: a node silent this long turns NotReady/Unknown. */
  nodeMonitorGracePeriodSeconds: number;
  /** --default-{not-ready,unreachable}-toleration-seconds: pods leave a failed node after this. */
  defaultTolerationSeconds: number;
}

export const KUBE_DEFAULT_SETTINGS: KubeSettings = { nodeMonitorGracePeriodSeconds: 40, defaultTolerationSeconds: 300 };

/** The timings in force for a spec. */
export function kubeSettings(spec: ClusterSpec): KubeSettings {
  return { ...KUBE_DEFAULT_SETTINGS, ...spec.kube };
}

export const DEFAULT_CLUSTER_NAME = 'lab';
export const DEFAULT_NODE_COUNT = 3;
export const DEFAULT_MANAGER_COUNT = 1;

/**
 * Node names as in a classroom: the first manager is `leader`, further managers
 * `manager2`, `manager3`…, workers `worker1`, `worker2`….
 */
export function defaultNodeName(role: NodeRole, ordinalInRole: number): string {
  if (role === 'manager') return ordinalInRole === 1 ? 'leader' : `manager${ordinalInRole}`;
  return `worker${ordinalInRole}`;
}

/** The spec `clusterlab up --nodes N --managers M` means. */
export function specFromFlags(name: string, engine: Engine, nodes: number, managers: number): ClusterSpec {
  const list: NodeSpec[] = [];
  for (let i = 1; i <= nodes; i++) {
    const role: NodeRole = i <= managers ? 'manager' : 'worker';
    const ordinal = role === 'manager' ? i : i - managers;
    list.push({ name: defaultNodeName(role, ordinal), role, labels: {}, ports: [] });
  }
  return { name, engine, nodes: list };
}
