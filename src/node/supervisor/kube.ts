/**
 * The kube engine's daemons on a node, after dockerd: on control planes etcd, the API server,
 * the scheduler, the controller manager and the cluster DNS; on every node the agent. Each is its own process so that one can be
 * killed and restarted without the others (the failure labs do exactly that).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KUBE_API_PORT, KUBE_PKI_FILES, NODE_CODE_DIR, NODE_PKI_DIR, type NodeConfig } from '../../common/node-config.js';
import type { DaemonSpec } from './daemon.js';
import { etcdDaemon } from './etcd.js';
import { dnsProbe } from '../controlplane/dns/probe.js';
import { httpProbe } from './probes.js';

/** The agent's health endpoint (the kubelet's port): 'ok' once its Node is registered. */
export const AGENT_HEALTH_PORT = 10248;

type NodeBundle = 'apiserver' | 'scheduler' | 'controller-manager' | 'dns' | 'agent';

function nodeScript(bundle: NodeBundle): { command: string; args: string[] } {
  // Debian's Node.js. A capped heap and a small young generation (V8 reserves 16 MiB
  // semi-spaces by default) keep each process small: memory goals in bench/up-kube.mjs.
  return {
    command: '/usr/bin/node',
    args: ['--max-old-space-size=256', '--max-semi-space-size=2', path.join(NODE_CODE_DIR, `${bundle}.js`)],
  };
}

/** The control plane's client pair, for probing the API server the way its clients reach it. */
function controlPlaneTls(pkiDir: string): { ca: string; cert: string; key: string } {
  const read = (name: string) => readFileSync(path.join(pkiDir, name), 'utf8');
  return { ca: read(KUBE_PKI_FILES.ca), cert: read(KUBE_PKI_FILES.controlPlaneCert), key: read(KUBE_PKI_FILES.controlPlaneKey) };
}

export function kubeDaemons(config: NodeConfig, pkiDir: string = NODE_PKI_DIR): DaemonSpec[] {
  const kube = config.kube;
  if (!kube) throw new Error('kube node without a kube section in its config');
  const daemons: DaemonSpec[] = [];
  if (kube.controlPlane) {
    const apiProbe = httpProbe({ host: '127.0.0.1', port: KUBE_API_PORT, path: '/readyz', expectBody: 'ok', tls: controlPlaneTls(pkiDir) });
    daemons.push(
      etcdDaemon(config),
      { name: 'apiserver', ...nodeScript('apiserver'), probe: apiProbe, notReadyWarningMs: 30_000 },
      { name: 'scheduler', ...nodeScript('scheduler') },
      { name: 'controller-manager', ...nodeScript('controller-manager') },
      // Ready once it answers cluster names, i.e. has read the Services and Endpoints.
      { name: 'dns', ...nodeScript('dns'), probe: dnsProbe() },
    );
  }
  daemons.push({
    name: 'agent',
    ...nodeScript('agent'),
    probe: httpProbe({ host: '127.0.0.1', port: AGENT_HEALTH_PORT, path: '/healthz', expectBody: 'ok' }),
    // A worker's agent waits for the control plane, which may take a while on first start.
    notReadyWarningMs: 90_000,
  });
  return daemons;
}
