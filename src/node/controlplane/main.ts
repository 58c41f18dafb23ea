/**
 * The control plane's processes, one bundle: `node controlplane.js apiserver|scheduler|controller-manager`.
 * The supervisor runs each as its own daemon so that one can crash (or be killed in a lab)
 * and come back without the others.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ETCD_CLIENT_PORT, KUBE_API_PORT, KUBE_PKI_FILES, NODE_CONFIG_PATH, NODE_PKI_DIR, type NodeConfig } from '../../common/node-config.js';
import { ApiClient, clientOptionsFromPki } from '../shared/api-client.js';
import { runWithLeaderElection } from '../shared/leader-election.js';
import { startApiServer } from './apiserver/server.js';
import { ControllerContext, DEFAULT_CONTROLLER_SETTINGS } from './controllers/context.js';
import { runControllerManager } from './controllers/manager.js';
import { runScheduler } from './scheduler/scheduler.js';
import { EtcdStore } from './store/etcd.js';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function readConfig(): NodeConfig {
  const file = process.env.CLUSTERLAB_NODE_CONFIG || NODE_CONFIG_PATH;
  const config = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
  if (!config.kube?.controlPlane) throw new Error(`${file}: this node is not a kube control plane`);
  return config;
}

/** Resolves on SIGTERM/SIGINT; the supervisor stops its daemons that way. */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => controller.abort());
  return controller.signal;
}

async function apiserver(config: NodeConfig, signal: AbortSignal): Promise<void> {
  const kube = config.kube!;
  const pki = (name: string) => readFileSync(path.join(NODE_PKI_DIR, name), 'utf8');
  // Each API server talks to the etcd member on its own node: with 3 control planes, a node
  // whose etcd lost quorum answers 503 and clients move on to another API server.
  const store = new EtcdStore({ endpoints: [`http://127.0.0.1:${ETCD_CLIENT_PORT}`] });
  const server = await startApiServer({
    store,
    tls: { ca: pki(KUBE_PKI_FILES.ca), cert: pki(KUBE_PKI_FILES.apiserverCert), key: pki(KUBE_PKI_FILES.apiserverKey) },
    host: '0.0.0.0',
    port: KUBE_API_PORT,
    serviceCidr: kube.serviceCidr,
    version: kube.version,
    ...(kube.defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds: kube.defaultTolerationSeconds } : {}),
    log,
  });
  log(`API server serving on ${server.url}`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  await store.close();
}

async function scheduler(config: NodeConfig, signal: AbortSignal): Promise<void> {
  const client = new ApiClient(clientOptionsFromPki('controlplane', config.kube!.apiServers, `clusterlab-scheduler/${config.node}`));
  // With 3 control planes, exactly one scheduler binds pods at a time.
  await runWithLeaderElection(
    client,
    { namespace: 'kube-system', name: 'kube-scheduler', identity: `${config.node}_${os.hostname()}_${process.pid}`, signal },
    async (leadership) => {
      log('became the leading scheduler');
      await runScheduler(client, { signal: leadership, log });
    },
  );
}

async function controllerManager(config: NodeConfig, signal: AbortSignal): Promise<void> {
  const kube = config.kube!;
  const client = new ApiClient(clientOptionsFromPki('controlplane', kube.apiServers, `clusterlab-controller-manager/${config.node}`));
  const settings = {
    nodeMonitorGracePeriodSeconds: kube.nodeMonitorGracePeriodSeconds ?? DEFAULT_CONTROLLER_SETTINGS.nodeMonitorGracePeriodSeconds,
    defaultTolerationSeconds: kube.defaultTolerationSeconds ?? DEFAULT_CONTROLLER_SETTINGS.defaultTolerationSeconds,
  };
  await runWithLeaderElection(
    client,
    { namespace: 'kube-system', name: 'kube-controller-manager', identity: `${config.node}_${os.hostname()}_${process.pid}`, signal },
    async (leadership) => {
      log('became the leading controller manager');
      await runControllerManager(new ControllerContext(client, leadership, log, settings));
    },
  );
}

const roles: Record<string, (config: NodeConfig, signal: AbortSignal) => Promise<void>> = {
  apiserver,
  scheduler,
  'controller-manager': controllerManager,
};

const role = process.argv[2] ?? '';
const run = roles[role];
if (!run) {
  process.stderr.write(`usage: controlplane.js ${Object.keys(roles).join('|')}\n`);
  process.exit(2);
}
process.on('uncaughtException', (err) => {
  log(`${role}: uncaught exception: ${err.stack ?? String(err)}`);
  process.exit(1);
});
run(readConfig(), stopSignal()).then(
  () => process.exit(0),
  (err: unknown) => {
    log(`${role} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
