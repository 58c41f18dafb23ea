/**
 * The contract between the host side and the code that runs inside a node.
 *
 * `up` writes NodeConfig as JSON to NODE_CONFIG_PATH in every node container before it
 * starts; the supervisor (src/node/supervisor) reads it and starts the node's daemons.
 * This module is imported by both sides, so it holds only types and constants.
 */

export const NODE_CONFIG_PATH = '/etc/clusterlab/node.json';
/** Where the bundled node code is copied (supervisor.js, later controlplane.js, agent.js). */
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

export interface NodeConfig {
  cluster: string;
  node: string;
  role: 'manager' | 'worker';
  engine: 'swarm' | 'kube';
  /** The node's fixed address on the cluster network. */
  ip: string;
  dockerd: DockerdConfig;
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
