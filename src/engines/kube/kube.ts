/**
 * The kube engine, host side. The nodes bring their own control plane up (the supervisor runs
 * etcd, the API server, the scheduler and the agents from the node config written at `up`);
 * this side waits for the API and for every node to be Ready, then hands the cluster to
 * kubectl through the kubeconfig.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Node } from 'kubernetes-types/core/v1.js';
import { UserError } from '../../common/errors.js';
import { contextName } from '../../cluster/names.js';
import { kubeSettings, type KubeSettings } from '../../cluster/spec.js';
import { NODE_CONFIG_PATH, type NodeConfig } from '../../common/node-config.js';
import { execOrThrow } from '../../docker/exec.js';
import type { NodeRecord } from '../../docker/provider.js';
import type { BootstrapResult, ClusterEngine, EngineContext, OrchestratorNodeState } from '../engine.js';
import { apiNodes, kubeGet, kubeRequest, KubeRequestError, readKubeAccess, type KubeAccess } from './host-api.js';
import { installKubeconfig } from './kubeconfig.js';

const API_READY_TIMEOUT_MS = 90_000;
const NODES_READY_TIMEOUT_MS = 120_000;
const POLL_MS = 250;

/** Ready / NotReady / Unknown, as `kubectl get nodes` words it. */
export function nodeReadiness(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'Unknown') return 'Unknown';
  return ready.status === 'True' ? 'Ready' : 'NotReady';
}

export function orchestratorState(node: Node): OrchestratorNodeState {
  const labels = node.metadata?.labels ?? {};
  return {
    state: nodeReadiness(node),
    availability: node.spec?.unschedulable ? 'SchedulingDisabled' : 'Schedulable',
    managerStatus: 'node-role.kubernetes.io/control-plane' in labels ? 'control-plane' : '',
  };
}

async function listNodes(access: KubeAccess, signal?: AbortSignal): Promise<Node[]> {
  return (await kubeGet<{ items: Node[] }>(access, '/api/v1/nodes', { signal })).items;
}

/** Polls until `done` holds, within timeoutMs; the last problem goes into the error. */
async function waitFor(what: string, timeoutMs: number, signal: AbortSignal | undefined, check: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let problem = 'no answer yet';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const left = await check();
      if (left === undefined) return;
      problem = left;
    } catch (err) {
      if (signal?.aborted) throw err;
      problem = err instanceof Error ? err.message : String(err);
    }
    await sleep(POLL_MS, undefined, { signal });
  }
  throw new UserError(`${what} within ${Math.round(timeoutMs / 1000)} s: ${problem}`, {
    hint: 'look at the node logs (clusterlab logs NODE --daemon supervisor, or clusterlab export logs)',
  });
}

async function waitNodes(access: KubeAccess, names: string[], timeoutMs: number, signal?: AbortSignal, progress?: (d: string) => void): Promise<void> {
  await waitFor(`not every node became Ready`, timeoutMs, signal, async () => {
    const nodes = await listNodes(access, signal);
    const ready = new Set(nodes.filter((n) => nodeReadiness(n) === 'Ready').map((n) => n.metadata?.name));
    const missing = names.filter((n) => !ready.has(n));
    progress?.(`${names.length - missing.length}/${names.length} nodes Ready`);
    return missing.length === 0 ? undefined : `waiting for ${missing.join(', ')}`;
  });
}

function access(ctx: EngineContext): Promise<KubeAccess> {
  return readKubeAccess(ctx.docker, ctx.nodes, ctx.signal);
}

function runningNames(nodes: NodeRecord[]): string[] {
  return nodes.filter((n) => n.state === 'running' && n.connected).map((n) => n.name);
}

export const kubeEngine: ClusterEngine = {
  name: 'kube',

  async bootstrap(ctx: EngineContext): Promise<BootstrapResult> {
    const api = await access(ctx);
    ctx.progress?.('API server');
    await waitFor('the API server did not answer', API_READY_TIMEOUT_MS, ctx.signal, async () => {
      const body = await kubeGet<string>(api, '/readyz', { signal: ctx.signal });
      return String(body).trim() === 'ok' ? undefined : `readyz: ${String(body).slice(0, 200)}`;
    });
    await waitNodes(api, ctx.spec.nodes.map((n) => n.name), NODES_READY_TIMEOUT_MS, ctx.signal, ctx.progress);
    const file = await installKubeconfig(ctx.spec.name, api);
    return {
      notes: [`API server ${api.server} (HTTPS, client certificate)`, `kubectl context "${contextName(ctx.spec.name)}" written to ${file} and made current`],
    };
  },

  async joinNode(ctx, node) {
    await waitNodes(await access(ctx), [node.name], NODES_READY_TIMEOUT_MS, ctx.signal, ctx.progress);
  },

  async removeNode(ctx, node) {
    const api = await access(ctx);
    try {
      await kubeRequest(api, 'DELETE', `/api/v1/nodes/${encodeURIComponent(node.name)}`, { signal: ctx.signal });
    } catch (err) {
      if (!(err instanceof KubeRequestError && err.statusCode === 404)) throw err;
    }
  },

  async nodeStates(ctx) {
    const states = new Map<string, OrchestratorNodeState>();
    if (apiNodes(ctx.nodes).length === 0) return states;
    try {
      for (const node of await listNodes(await access(ctx), ctx.signal)) states.set(node.metadata?.name ?? '', orchestratorState(node));
    } catch {
      // No API server answers: the orchestrator's view is unknown, which status shows as such.
    }
    return states;
  },

  async waitNodesReady(ctx, names, timeoutMs) {
    await waitNodes(await access(ctx), names.length > 0 ? names : runningNames(ctx.nodes), timeoutMs, ctx.signal, ctx.progress);
  },

  async describe(ctx): Promise<Record<string, string>> {
    const [node] = apiNodes(ctx.nodes);
    if (!node) return {};
    const timings = await timingsInForce(ctx, node);
    return {
      apiServer: `https://127.0.0.1:${node.apiPort}`,
      kubeContext: contextName(ctx.spec.name),
      // The node-failure timings in force: how long until a silent node is NotReady, and
      // until its pods are evicted and replaced elsewhere.
      nodeMonitorGracePeriod: `${timings.nodeMonitorGracePeriodSeconds}s`,
      podEvictionAfter: `${timings.defaultTolerationSeconds}s`,
    };
  },
};

/**
 * The node-failure timings the control plane runs with, read from its node config (the
 * record that counts even when ~/.clusterlab is gone); the spec's when that cannot be read.
 */
async function timingsInForce(ctx: EngineContext, node: NodeRecord): Promise<KubeSettings> {
  const fallback = kubeSettings(ctx.spec);
  try {
    const result = await execOrThrow(ctx.docker, node.containerId, ['cat', NODE_CONFIG_PATH], { timeoutMs: 10_000, signal: ctx.signal }, `node ${node.name}`);
    const kube = (JSON.parse(result.stdout) as NodeConfig).kube;
    return {
      nodeMonitorGracePeriodSeconds: kube?.nodeMonitorGracePeriodSeconds ?? fallback.nodeMonitorGracePeriodSeconds,
      defaultTolerationSeconds: kube?.defaultTolerationSeconds ?? fallback.defaultTolerationSeconds,
    };
  } catch {
    return fallback;
  }
}
