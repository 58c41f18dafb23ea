import type Docker from 'dockerode';
import { UserError } from '../../common/errors.js';
import { execIn, execOrThrow } from '../../docker/exec.js';
import type { NodeRecord } from '../../docker/provider.js';
import type { NodeSpec } from '../../cluster/spec.js';
import type { BootstrapResult, ClusterEngine, EngineContext, OrchestratorNodeState } from '../engine.js';

/** The attachable overlay network every swarm cluster gets for its workloads. */
export const WORKLOAD_NETWORK = 'clusterlab';
const SWARM_PORT = 2377;

/** A row of `docker node ls --format '{{json .}}'`. */
interface SwarmNodeRow {
  ID: string;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
  Self: boolean;
}

export function parseNodeLs(output: string): SwarmNodeRow[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SwarmNodeRow);
}

/**
 * Several rows can carry one hostname after a node was removed and added again; the one
 * that is Ready (or else the last) speaks for the node.
 */
export function nodeStatesFromRows(rows: SwarmNodeRow[]): Map<string, OrchestratorNodeState> {
  const states = new Map<string, OrchestratorNodeState>();
  for (const row of rows) {
    const existing = states.get(row.Hostname);
    if (existing && existing.state === 'Ready' && row.Status !== 'Ready') continue;
    states.set(row.Hostname, { state: row.Status, availability: row.Availability, managerStatus: row.ManagerStatus });
  }
  return states;
}

function docker(ctx: EngineContext): Docker {
  return ctx.docker;
}

function running(nodes: NodeRecord[]): NodeRecord[] {
  return nodes.filter((n) => n.state === 'running' && n.connected);
}

/** Running managers, the first-created first: the ones to ask about the swarm. */
function managers(nodes: NodeRecord[]): NodeRecord[] {
  return running(nodes).filter((n) => n.role === 'manager');
}

async function run(ctx: EngineContext, node: NodeRecord, args: string[], timeoutMs = 60_000) {
  return execOrThrow(docker(ctx), node.containerId, args, { timeoutMs, signal: ctx.signal }, `node ${node.name}`);
}

/** Runs a command on the first manager that answers. */
async function onAnyManager(ctx: EngineContext, args: string[]): Promise<string> {
  let lastError: unknown;
  for (const manager of managers(ctx.nodes)) {
    const result = await execIn(docker(ctx), manager.containerId, args, { timeoutMs: 15_000, signal: ctx.signal }).catch((e: unknown) => {
      lastError = e;
      return undefined;
    });
    if (result?.exitCode === 0) return result.stdout;
    if (result) lastError = new Error(result.stderr.trim() || `exit ${result.exitCode}`);
  }
  throw new UserError('no swarm manager answered', {
    hint: `start a manager node (clusterlab node start …) or see clusterlab status${lastError ? `\nlast error: ${(lastError as Error).message}` : ''}`,
  });
}

async function joinToken(ctx: EngineContext, role: 'worker' | 'manager'): Promise<string> {
  return (await onAnyManager(ctx, ['docker', 'swarm', 'join-token', '-q', role])).trim();
}

async function join(ctx: EngineContext, node: NodeRecord, token: string, managerIp: string): Promise<void> {
  ctx.progress?.(`joining ${node.name} as ${node.role}`);
  await run(ctx, node, ['docker', 'swarm', 'join', '--token', token, '--advertise-addr', node.ip, '--listen-addr', `${node.ip}:${SWARM_PORT}`, `${managerIp}:${SWARM_PORT}`]);
}

async function applyLabels(ctx: EngineContext, labelsByNode: Map<string, Record<string, string>>): Promise<void> {
  for (const [name, labels] of labelsByNode) {
    const pairs = Object.entries(labels);
    if (pairs.length === 0) continue;
    await onAnyManager(ctx, ['docker', 'node', 'update', ...pairs.flatMap(([k, v]) => ['--label-add', `${k}=${v}`]), name]);
  }
}

/**
 * Whether the swarm routing mesh (ingress and VIP load balancing) can work: it needs IPVS in
 * the kernel. The node's supervisor tries `modprobe ip_vs`; /proc/net/ip_vs exists once it
 * is loaded.
 */
export async function routingMeshAvailable(ctx: EngineContext, node: NodeRecord): Promise<boolean> {
  const result = await execIn(docker(ctx), node.containerId, ['test', '-e', '/proc/net/ip_vs'], { timeoutMs: 10_000 });
  return result.exitCode === 0;
}

export const routingMeshAdvice =
  'no IPVS in this kernel: the routing mesh (ingress publishing, VIP load balancing) does not answer; ' +
  'publish with --publish mode=host,target=…,published=… and use --endpoint-mode dnsrr';

export const swarmEngine: ClusterEngine = {
  name: 'swarm',

  async bootstrap(ctx: EngineContext): Promise<BootstrapResult> {
    const [first, ...otherManagers] = managers(ctx.nodes);
    if (!first) throw new Error('swarm bootstrap needs a running manager');
    const workers = running(ctx.nodes).filter((n) => n.role === 'worker');

    ctx.progress?.(`swarm init on ${first.name}`);
    await run(ctx, first, ['docker', 'swarm', 'init', '--advertise-addr', first.ip, '--listen-addr', `${first.ip}:${SWARM_PORT}`]);
    const [managerToken, workerToken] = await Promise.all([joinToken(ctx, 'manager'), joinToken(ctx, 'worker')]);

    // Managers one at a time (each raft membership change must settle); workers together.
    // The overlay network and the mesh probe need only the first manager: they go alongside.
    const joins = (async () => {
      for (const manager of otherManagers) await join(ctx, manager, managerToken, first.ip);
      await Promise.all(workers.map((w) => join(ctx, w, workerToken, first.ip)));
    })();
    const network = run(ctx, first, ['docker', 'network', 'create', '--driver', 'overlay', '--attachable', WORKLOAD_NETWORK]);
    const [mesh] = await Promise.all([routingMeshAvailable(ctx, first), joins, network]);

    await applyLabels(ctx, new Map(ctx.spec.nodes.map((n) => [n.name, n.labels])));
    return {
      notes: [
        `overlay network "${WORKLOAD_NETWORK}" (attachable) is ready for services and stacks`,
        mesh ? 'routing mesh: available (IPVS found)' : `routing mesh: unavailable: ${routingMeshAdvice}`,
      ],
    };
  },

  async joinNode(ctx: EngineContext, node: NodeRecord, spec: NodeSpec): Promise<void> {
    const manager = managers(ctx.nodes).find((m) => m.name !== node.name);
    if (!manager) throw new UserError('no running manager to join the new node to', { hint: 'start a manager node first' });
    const token = await joinToken({ ...ctx, nodes: ctx.nodes.filter((n) => n.name !== node.name) }, node.role);
    await join(ctx, node, token, manager.ip);
    await applyLabels(ctx, new Map([[node.name, spec.labels]]));
  },

  async removeNode(ctx: EngineContext, node: NodeRecord): Promise<void> {
    const others: EngineContext = { ...ctx, nodes: ctx.nodes.filter((n) => n.name !== node.name) };
    const ids = parseNodeLs(await onAnyManager(others, ['docker', 'node', 'ls', '--format', '{{json .}}']))
      .filter((r) => r.Hostname === node.name)
      .map((r) => r.ID);
    if (ids.length === 0) return;
    ctx.progress?.(`draining ${node.name}`);
    if (node.role === 'manager') await onAnyManager(others, ['docker', 'node', 'demote', ...ids]);
    await onAnyManager(others, ['docker', 'node', 'update', '--availability', 'drain', ...ids]);
    if (node.state === 'running') {
      ctx.progress?.(`${node.name} leaves the swarm`);
      await execIn(ctx.docker, node.containerId, ['docker', 'swarm', 'leave', '--force'], { timeoutMs: 30_000 });
    }
    await onAnyManager(others, ['docker', 'node', 'rm', '--force', ...ids]);
  },

  async nodeStates(ctx: EngineContext): Promise<Map<string, OrchestratorNodeState>> {
    try {
      return nodeStatesFromRows(parseNodeLs(await onAnyManager(ctx, ['docker', 'node', 'ls', '--format', '{{json .}}'])));
    } catch {
      return new Map();
    }
  },

  async waitNodesReady(ctx: EngineContext, names: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let states = new Map<string, OrchestratorNodeState>();
    while (Date.now() < deadline) {
      if (ctx.signal?.aborted) throw new Error('aborted');
      states = await this.nodeStates(ctx);
      const pending = names.filter((n) => states.get(n)?.state !== 'Ready');
      if (pending.length === 0) return;
      ctx.progress?.(`waiting for ${pending.join(', ')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const pending = names.filter((n) => states.get(n)?.state !== 'Ready');
    throw new UserError(`swarm nodes not Ready after ${Math.round(timeoutMs / 1000)} s: ${pending.map((n) => `${n} (${states.get(n)?.state ?? 'unknown'})`).join(', ')}`, {
      hint: 'see clusterlab status and clusterlab logs NODE',
    });
  },

  async describe(ctx: EngineContext): Promise<Record<string, string>> {
    const manager = managers(ctx.nodes)[0];
    if (!manager) return { 'routing mesh': 'unknown (no running manager)' };
    return { 'routing mesh': (await routingMeshAvailable(ctx, manager)) ? 'available' : 'unavailable (no IPVS)' };
  },
};
