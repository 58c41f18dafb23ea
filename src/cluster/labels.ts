/**
 * Label keys: the record of what exists. Every container, network and volume that
 * clusterlab creates carries these; local state files are only a cache of them.
 */
const PREFIX = 'dev.clusterlab';

export const LABELS = {
  /** Marks any object clusterlab made; value "true". */
  managed: `${PREFIX}.managed`,
  /** The cluster name. */
  cluster: `${PREFIX}.cluster`,
  /** The node name (containers and their volumes). */
  node: `${PREFIX}.node`,
  /** The node's role: manager | worker. */
  role: `${PREFIX}.role`,
  /** The node's fixed address on the cluster network. */
  ip: `${PREFIX}.ip`,
  /** The orchestrator installed in the cluster: swarm | kube (on the network). */
  engine: `${PREFIX}.engine`,
  /** The cluster spec as JSON (on the network): enough to rebuild state when files are lost. */
  spec: `${PREFIX}.spec`,
  /** How node containers get their powers: privileged | capabilities (on the network). */
  runMode: `${PREFIX}.run-mode`,
  /** Host port (127.0.0.1) that reaches the node's TLS Docker endpoint, managers only. */
  dockerPort: `${PREFIX}.docker-port`,
  /** Host port (127.0.0.1) that reaches the node's Kubernetes API server, kube control planes only. */
  apiPort: `${PREFIX}.api-port`,
  /** Ordinal of the node in creation order, keeps listings stable. */
  index: `${PREFIX}.index`,
  /** Node image recipe hash (on images clusterlab builds). */
  recipe: `${PREFIX}.recipe`,
} as const;

/** Docker API filter that selects every object of one cluster. */
export function clusterFilter(cluster: string): { label: string[] } {
  return { label: [`${LABELS.cluster}=${cluster}`] };
}

/** Docker API filter that selects every object clusterlab made. */
export function managedFilter(): { label: string[] } {
  return { label: [`${LABELS.managed}=true`] };
}
