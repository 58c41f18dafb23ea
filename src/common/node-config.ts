/**
 * The contract between the host side and the code that runs inside a node.
 *
 * `up` writes NodeConfig as JSON to NODE_CONFIG_PATH in every node container before it
 * starts; the supervisor (src/node/supervisor) reads it and starts the node's daemons.
 * This module is imported by both sides, so it holds only types and constants.
 */

export const NODE_CONFIG_PATH = '/etc/clusterlab/node.json';
/** Where the bundled node code is copied: supervisor.js; on kube nodes apiserver.js, scheduler.js, controller-manager.js, agent.js. */
export const NODE_CODE_DIR = '/opt/clusterlab';
/** Certificates and keys a node needs (ca.pem, dockerd-cert.pem, dockerd-key.pem, ...). */
export const NODE_PKI_DIR = '/etc/clusterlab/pki';
/** Each daemon's output goes to `${NODE_LOG_DIR}/<daemon>.log`. */
export const NODE_LOG_DIR = '/var/log/clusterlab';
/** Port the node's dockerd listens on with TLS (managers only), inside the node. */
export const NODE_DOCKER_TLS_PORT = 2376;

export interface DockerdConfig {
  /** Serve the Docker API on tcp://0.0.0.0:NODE_DOCKER_TLS_PORT with --tlsverify. */
  tls?: {
    caFile: string;
    certFile: string;
    keyFile: string;
  };
  /** Extra dockerd flags (tests, experiments). */
  extraArgs?: string[];
}

/** The API server's HTTPS port inside a control-plane node. */
export const KUBE_API_PORT = 6443;
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
/** Where etcd keeps its data inside a control-plane node (a volume: survives stop/start). */
export const ETCD_DATA_DIR = '/var/lib/etcd';
/** Agent state (pod volumes, ...) inside every kube node. */
export const AGENT_STATE_DIR = '/var/lib/clusterlab/agent';

/**
 * Files under NODE_PKI_DIR on kube nodes (PEM): the cluster CA, the API server's serving
 * pair (control planes), the control plane's own client pair (control planes: scheduler and
 * controller manager, O=system:masters), the node's client pair (every node: the agent,
 * CN=system:node:NAME, O=system:nodes) and the agent's serving pair (every node).
 */
export const KUBE_PKI_FILES = {
  ca: 'ca.pem',
  apiserverCert: 'apiserver.pem',
  apiserverKey: 'apiserver-key.pem',
  controlPlaneCert: 'controlplane.pem',
  controlPlaneKey: 'controlplane-key.pem',
  nodeCert: 'node.pem',
  nodeKey: 'node-key.pem',
  /** The agent's serving pair for its kubelet API (logs, exec, attach) on KUBELET_PORT. */
  kubeletCert: 'kubelet.pem',
  kubeletKey: 'kubelet-key.pem',
} as const;

/** The agent's HTTPS API (the kubelet's port): container logs, exec and attach streams for the API server. */
export const KUBELET_PORT = 10250;

export interface KubeTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface KubeNodeConfig {
  /** Control-plane nodes run etcd, the API server, the scheduler and the controller manager. */
  controlPlane: boolean;
  /** API server URLs the node's clients try, local one first: ['https://172.30.0.2:6443', …]. */
  apiServers: string[];
  /** Control planes only: this member's part of the etcd cluster. */
  etcd?: {
    /** Member name (the node name). */
    name: string;
    /** `name=http://ip:2380,…` over every control plane. */
    initialCluster: string;
  };
  /** Registered on the Node object by the agent (kubelet's --node-labels / --register-with-taints). */
  nodeLabels: Record<string, string>;
  nodeTaints: KubeTaint[];
  /** The pods' address range; the controller manager gives each node a /24 of it (Node.spec.podCIDR). */
  clusterCidr: string;
  /** ClusterIP range, e.g. 10.96.0.0/12. */
  serviceCidr: string;
  /** The reported server version (kubectl on the machine picks its binary from it): "1.33.0". */
  version: string;
  /** Node lifecycle timings (kube: 40 s and 300 s); labs shorten them. */
  nodeMonitorGracePeriodSeconds?: number;
  defaultTolerationSeconds?: number;
}

export interface NodeConfig {
  cluster: string;
  node: string;
  role: 'manager' | 'worker';
  engine: 'swarm' | 'kube';
  /** The node's fixed address on the cluster network. */
  ip: string;
  dockerd: DockerdConfig;
  /** Present on kube nodes. */
  kube?: KubeNodeConfig;
}

/**
 * The supervisor prints one JSON object per line on stdout (the container's log).
 * The host waits for `{"event":"node-ready"}` after a start.
 */
export interface SupervisorEvent {
  ts: string;
  event: 'info' | 'starting' | 'started' | 'ready' | 'exited' | 'restarting' | 'node-ready' | 'stopping' | 'stopped' | 'error';
  daemon?: string;
  pid?: number;
  code?: number | null;
  signal?: string | null;
  message?: string;
}
