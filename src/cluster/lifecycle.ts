import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InterruptedError, UserError } from '../common/errors.js';
import { ensureNodeImage } from '../docker/image.js';
import { detectRunMode, shouldMountKernelModules } from '../docker/run-mode.js';
import type { NodeRecord } from '../docker/provider.js';
import { engineFor } from '../engines/index.js';
import type { EngineContext } from '../engines/engine.js';
import { gatewayAddress, nextNodeAddress } from './addresses.js';
import { nodeContainerName } from './names.js';
import { createClusterPki, nodeFiles, readNodeBundles, type ClusterPki } from './node-files.js';
import { checkHostPortsFree, findFreePort } from './ports.js';
import type { Reporter } from './reporter.js';
import type { ClusterRuntime } from './runtime.js';
import type { ClusterSpec } from './spec.js';
import { dockerCertDir, removeClusterState } from './state.js';
import { uninstallKubeconfig } from '../engines/kube/kubeconfig.js';

/** How long a node may take from `start` to every daemon ready. */
export const NODE_READY_TIMEOUT_MS = 90_000;
/** How long the orchestrator may take to see started nodes as Ready. */
export const ORCHESTRATOR_READY_TIMEOUT_MS = 120_000;

export interface CreateOptions {
  reporter: Reporter;
  signal?: AbortSignal;
  /** Keep what was made when creation fails (for debugging), as kind's --retain. */
  retain?: boolean;
}

export interface CreateResult {
  spec: ClusterSpec;
  nodes: NodeRecord[];
  notes: string[];
  image: string;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError('interrupted: creation stopped');
}

export function engineContext(rt: ClusterRuntime, spec: ClusterSpec, nodes: NodeRecord[], signal?: AbortSignal, progress?: (d: string) => void): EngineContext {
  return { docker: rt.docker, spec, nodes, signal, progress };
}

/** Host ports that stopped clusters' managers hold for their Docker and API endpoints. */
async function heldDockerPorts(rt: ClusterRuntime): Promise<Set<number>> {
  const held = new Set<number>();
  for (const cluster of await rt.provider.listClusters()) {
    for (const node of await rt.provider.listNodes(cluster.name)) {
      if (node.dockerPort) held.add(node.dockerPort);
      if (node.apiPort) held.add(node.apiPort);
    }
  }
  return held;
}

/** Fails before anything is created when the name is taken. */
async function checkNamesFree(rt: ClusterRuntime, spec: ClusterSpec): Promise<void> {
  if (await rt.provider.getCluster(spec.name)) {
    throw new UserError(`a cluster named "${spec.name}" already exists`, {
      hint: `use it (clusterlab status --name ${spec.name}), remove it (clusterlab down --name ${spec.name}), or choose another --name`,
    });
  }
  const names = new Set(spec.nodes.map((n) => nodeContainerName(spec.name, n.name)));
  const clashes = (await rt.docker.listContainers({ all: true }))
    .flatMap((c) => c.Names.map((n) => n.replace(/^\//, '')))
    .filter((n) => names.has(n));
  if (clashes.length > 0) {
    throw new UserError(`container name${clashes.length > 1 ? 's' : ''} already in use: ${clashes.join(', ')}`, {
      hint: `choose another cluster name with --name, or remove those containers (docker rm -f ${clashes.join(' ')})`,
    });
  }
}

/** Writes the host's copy of the client certificate for `clusterlab env`. */
export async function writeDockerClientCerts(cluster: string, pki: { caPem: string; certPem: string; keyPem: string }): Promise<string> {
  const dir = dockerCertDir(cluster);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, 'ca.pem'), pki.caPem);
  await writeFile(path.join(dir, 'cert.pem'), pki.certPem);
  await writeFile(path.join(dir, 'key.pem'), pki.keyPem, { mode: 0o600 });
  return dir;
}

/** Starts node containers together and waits until each reports its daemons ready. */
export async function startNodes(rt: ClusterRuntime, nodes: NodeRecord[], signal?: AbortSignal): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      const container = rt.docker.getContainer(node.containerId);
      const state = (await container.inspect()).State;
      if (state.Paused) await container.unpause();
      else if (!state.Running) await container.start();
      await rt.provider.waitNodeReady(node.containerId, { timeoutMs: NODE_READY_TIMEOUT_MS, signal, node: node.name });
    }),
  );
}

/**
 * `clusterlab up`: ordered steps (kind's actions), each reported; anything made is removed
 * again when a step fails or the user interrupts, unless `retain`.
 */
export async function createCluster(rt: ClusterRuntime, spec: ClusterSpec, options: CreateOptions): Promise<CreateResult> {
  const { reporter, signal } = options;
  const engine = engineFor(spec.engine);
  await checkNamesFree(rt, spec);
  await checkHostPortsFree(spec.nodes.flatMap((n) => n.ports));
  const bundles = await readNodeBundles(spec.engine);

  const { ref: image } = await reporter.step('Ensuring the node image', async (detail) => {
    const result = await ensureNodeImage(rt.docker, { onProgress: detail, signal });
    detail(result.built ? `${result.ref} (built)` : result.ref);
    return result;
  });
  throwIfAborted(signal);
  const runMode = await detectRunMode(rt.docker, image, rt.info.engineId);

  let madeSomething = false;
  try {
    const nodes = await reporter.step(`Creating ${spec.nodes.length} nodes`, async (detail) => {
      madeSomething = true;
      const subnet = await rt.provider.createClusterNetwork(spec, runMode);
      detail(`network ${subnet}, ${runMode} nodes`);
      const pki: ClusterPki = await createClusterPki(spec.name);
      const heldPorts = await heldDockerPorts(rt);
      const ips: string[] = [gatewayAddress(subnet)];
      const plans = [];
      for (const [index, node] of spec.nodes.entries()) {
        const ip = nextNodeAddress(subnet, ips);
        ips.push(ip);
        let dockerPort: number | undefined;
        let apiPort: number | undefined;
        if (node.role === 'manager') {
          dockerPort = await findFreePort(heldPorts);
          heldPorts.add(dockerPort);
          if (spec.engine === 'kube') {
            apiPort = await findFreePort(heldPorts);
            heldPorts.add(apiPort);
          }
        }
        plans.push({ node, index, ip, dockerPort, apiPort });
      }
      const controlPlanes = plans.filter((p) => p.node.role === 'manager').map((p) => ({ name: p.node.name, ip: p.ip }));
      await Promise.all(
        plans.map(async ({ node, index, ip, dockerPort, apiPort }) => {
          throwIfAborted(signal);
          const files = await nodeFiles(spec, { node, index, ip }, pki, bundles, controlPlanes);
          await rt.provider.createNode(
            {
              cluster: spec.name,
              engine: spec.engine,
              node,
              index,
              ip,
              image,
              runMode,
              cgroupVersion: rt.info.cgroupVersion,
              dockerPort,
              apiPort,
              mountKernelModules: shouldMountKernelModules(rt.info.os),
            },
            files,
          );
        }),
      );
      await writeDockerClientCerts(spec.name, { caPem: pki.ca.certPem, certPem: pki.client.certPem, keyPem: pki.client.keyPem });
      return rt.provider.listNodes(spec.name);
    });
    throwIfAborted(signal);

    await reporter.step('Starting nodes', async (detail) => {
      detail(nodes.map((n) => n.name).join(', '));
      await startNodes(rt, nodes, signal);
    });
    throwIfAborted(signal);

    const running = await rt.provider.listNodes(spec.name);
    const result = await reporter.step(spec.engine === 'swarm' ? 'Forming the swarm' : 'Installing the control plane', (detail) =>
      engine.bootstrap(engineContext(rt, spec, running, signal, detail)),
    );
    throwIfAborted(signal);
    return { spec, nodes: running, notes: result.notes, image };
  } catch (err) {
    if (madeSomething && !options.retain) {
      const aborted = signal?.aborted;
      await reporter.step(aborted ? 'Interrupted: removing the half-made cluster' : 'Removing the half-made cluster', () => deleteCluster(rt, spec.name));
    }
    if (signal?.aborted && !(err instanceof InterruptedError)) throw new InterruptedError('interrupted: the cluster was not created');
    throw err;
  }
}

/** Removes everything labelled with the cluster, and its local files. Idempotent. */
export async function deleteCluster(rt: ClusterRuntime, name: string): Promise<void> {
  await rt.provider.deleteCluster(name);
  await removeClusterState(name);
  // Whatever the engine: a kubeconfig entry of a cluster by this name is stale now.
  await uninstallKubeconfig(name);
}

/**
 * Stops every node at once (as k3d does): each node's dockerd gives its containers their
 * stop grace period, so one node at a time would add those up.
 */
export async function stopCluster(rt: ClusterRuntime, name: string, reporter: Reporter): Promise<void> {
  const nodes = (await rt.provider.listNodes(name)).filter((n) => n.state !== 'exited' && n.state !== 'created');
  if (nodes.length === 0) return;
  await reporter.step('Stopping nodes', async (detail) => {
    detail(nodes.map((n) => n.name).join(', '));
    await Promise.all(nodes.map((n) => rt.docker.getContainer(n.containerId).stop({ t: 20 }).catch(ignoreNotModified)));
  });
}

/** Starts every node (managers first, for quorum) and waits until the orchestrator sees them Ready. */
export async function startCluster(rt: ClusterRuntime, name: string, reporter: Reporter, signal?: AbortSignal): Promise<NodeRecord[]> {
  const cluster = await rt.provider.getCluster(name);
  if (!cluster?.spec) throw new UserError(`cluster "${name}" is missing its network or description`, { hint: `remove it with clusterlab down --name ${name}` });
  const nodes = await rt.provider.listNodes(name);
  for (const role of ['manager', 'worker'] as const) {
    const group = nodes.filter((n) => n.role === role);
    if (group.length === 0) continue;
    await reporter.step(`Starting ${role}s`, async (detail) => {
      detail(group.map((n) => n.name).join(', '));
      await startNodes(rt, group, signal);
    });
  }
  const started = await rt.provider.listNodes(name);
  const engine = engineFor(cluster.engine);
  await reporter.step('Waiting for the cluster to be healthy', (detail) =>
    engine.waitNodesReady(engineContext(rt, cluster.spec!, started, signal, detail), started.map((n) => n.name), ORCHESTRATOR_READY_TIMEOUT_MS),
  );
  return started;
}

/** docker stop on a stopped container answers 304: already where we want it. */
export function ignoreNotModified(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode === 304) return;
  throw err;
}
