/**
 * The node agent process (clusterlab's kubelet): `node agent.js`, started and restarted by
 * the node's supervisor. Reads the node config, serves /healthz on 127.0.0.1:10248 and the
 * kubelet API (logs, exec, attach) on KUBELET_PORT, and runs the Agent until SIGTERM. Pods
 * keep running when it stops.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AGENT_STATE_DIR, KUBE_PKI_FILES, KUBELET_PORT, NODE_CONFIG_PATH, NODE_PKI_DIR, type NodeConfig } from '../../common/node-config.js';
import { ApiClient, clientOptionsFromPki } from '../shared/api-client.js';
import { Agent } from './agent.js';
import { DockerClient } from './docker-client.js';
import { DockerRuntime } from './docker-runtime.js';
import { DockerStreams } from './docker-streams.js';
import { NodeNetwork } from './node-network.js';
import { startHealthServer } from './health-server.js';
import { startKubeletServer, type KubeletServer } from './kubelet-server.js';
import { readMachineInfo } from './machine-info.js';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function readConfig(): NodeConfig {
  const file = process.env.CLUSTERLAB_NODE_CONFIG || NODE_CONFIG_PATH;
  const config = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
  if (!config.kube) throw new Error(`${file}: this node has no kube section: it is not a kube node`);
  return config;
}

async function main(): Promise<void> {
  const config = readConfig();
  const kube = config.kube!;
  const client = new ApiClient(clientOptionsFromPki('node', kube.apiServers, `clusterlab-agent/${config.node}`));
  const docker = new DockerClient(process.env.CLUSTERLAB_DOCKER_SOCKET || undefined);
  const runtime = new DockerRuntime(docker);
  const stateDir = process.env.CLUSTERLAB_AGENT_STATE_DIR || AGENT_STATE_DIR;
  const network = new NodeNetwork({
    client,
    docker,
    nodeName: config.node,
    clusterCidr: kube.clusterCidr,
    serviceCidr: kube.serviceCidr,
    podDir: (uid) => path.join(stateDir, 'pods', uid),
    log,
  });
  const agent = new Agent({
    node: { name: config.node, ip: config.ip, kube },
    client,
    runtime,
    machine: readMachineInfo(config.node),
    stateDir,
    network,
    watchContainerEvents: (onChange, onEnd) => runtime.watchContainerEvents(onChange, onEnd),
    log,
  });
  const health = await startHealthServer(() => agent.isHealthy());
  const kubeletApi = await startKubeletApi(docker, runtime, agent).catch((err: Error) => {
    // Pods run without it; only logs/exec/attach are missing. Say so and carry on.
    log(`agent: the kubelet API on port ${KUBELET_PORT} is not available: ${err.message}`);
    return undefined;
  });
  log(`agent: starting on ${config.node} (${config.ip}), API servers ${kube.apiServers.join(', ')}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`agent: ${signal}: stopping (pods keep running)`);
    void agent
      .stop()
      .then(() => Promise.all([health.close(), kubeletApi?.close()]))
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await agent.start();
}

async function startKubeletApi(docker: DockerClient, runtime: DockerRuntime, agent: Agent): Promise<KubeletServer> {
  const pki = (file: string): string => readFileSync(path.join(NODE_PKI_DIR, file), 'utf8');
  return startKubeletServer({
    tls: { ca: pki(KUBE_PKI_FILES.ca), cert: pki(KUBE_PKI_FILES.kubeletCert), key: pki(KUBE_PKI_FILES.kubeletKey) },
    port: KUBELET_PORT,
    pods: { findPod: (namespace, name) => agent.findPod(namespace, name), podContainers: (uid) => runtime.listPodContainers(uid) },
    streams: new DockerStreams(docker),
    log,
  });
}

process.on('uncaughtException', (err) => {
  log(`agent: uncaught exception: ${err.stack ?? String(err)}`);
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  log(`agent: unhandled rejection: ${(err as Error)?.stack ?? String(err)}`);
});
main().catch((err: Error) => {
  log(`agent: ${err.stack ?? err.message}`);
  process.exit(1);
});
