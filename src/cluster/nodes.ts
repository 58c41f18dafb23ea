import { UserError } from '../common/errors.js';
import { execOrThrow } from '../docker/exec.js';
import { ensureNodeImage } from '../docker/image.js';
import type { ClusterRecord, NodeRecord } from '../docker/provider.js';
import { engineFor } from '../engines/index.js';
import { gatewayAddress, nextNodeAddress } from './addresses.js';
import { engineContext, ignoreNotModified, NODE_READY_TIMEOUT_MS, ORCHESTRATOR_READY_TIMEOUT_MS, startNodes } from './lifecycle.js';
import { clusterNetworkName, dns1123LabelProblem } from './names.js';
import { nodeFiles, PKI_FILES, readNodeBundles, type ClusterPki } from './node-files.js';
import { findFreePort } from './ports.js';
import type { Reporter } from './reporter.js';
import type { ClusterRuntime } from './runtime.js';
import { defaultNodeName, type ClusterSpec, type NodeRole, type NodeSpec } from './spec.js';
import { NODE_PKI_DIR } from '../common/node-config.js';
import { shouldMountKernelModules } from '../docker/run-mode.js';

/** The cluster, or a UserError naming the clusters that do exist. */
export async function requireCluster(rt: ClusterRuntime, name: string): Promise<ClusterRecord> {
  const clusters = await rt.provider.listClusters();
  const found = clusters.find((c) => c.name === name);
  if (found) return found;
  const known = clusters.map((c) => c.name);
  throw new UserError(`no cluster named "${name}"`, {
    hint: known.length ? `existing clusters: ${known.join(', ')} (choose one with --name)` : 'create one with clusterlab up',
  });
}

/** The spec a cluster runs with: the one it was created from, plus nodes added since. */
export function currentSpec(cluster: ClusterRecord, nodes: NodeRecord[]): ClusterSpec {
  const base = cluster.spec ?? { name: cluster.name, engine: cluster.engine, nodes: [] };
  const known = new Map(base.nodes.map((n) => [n.name, n]));
  return {
    ...base,
    nodes: nodes.map((n) => known.get(n.name) ?? { name: n.name, role: n.role, labels: {}, ports: [] }),
  };
}

export async function requireNode(rt: ClusterRuntime, cluster: string, name: string): Promise<NodeRecord> {
  const nodes = await rt.provider.listNodes(cluster);
  const node = nodes.find((n) => n.name === name || n.containerName === name);
  if (node) return node;
  throw new UserError(`no node named "${name}" in cluster "${cluster}"`, {
    hint: nodes.length ? `its nodes: ${nodes.map((n) => n.name).join(', ')}` : `the cluster has no nodes; see clusterlab status --name ${cluster}`,
  });
}

function requireRunning(node: NodeRecord, action: string): void {
  if (node.state !== 'running') {
    throw new UserError(`cannot ${action} node ${node.name}: it is ${node.state}`, {
      hint: node.state === 'paused' ? `unpause it first: clusterlab node unpause ${node.name}` : `start it first: clusterlab node start ${node.name}`,
    });
  }
}

async function waitMember(rt: ClusterRuntime, cluster: ClusterRecord, node: string, signal?: AbortSignal, progress?: (d: string) => void): Promise<void> {
  const nodes = await rt.provider.listNodes(cluster.name);
  const engine = engineFor(cluster.engine);
  await engine.waitNodesReady(engineContext(rt, currentSpec(cluster, nodes), nodes, signal, progress), [node], ORCHESTRATOR_READY_TIMEOUT_MS);
}

export type NodeAction = 'stop' | 'start' | 'restart' | 'kill' | 'pause' | 'unpause' | 'disconnect' | 'connect';

/**
 * One node, treated like a machine: power off (stop), power on (start), reboot (restart),
 * pull the plug (kill), freeze (pause), cut its cable (disconnect) and plug it back (connect).
 * Actions that bring a node back wait until the orchestrator sees it Ready again.
 */
export async function nodeAction(rt: ClusterRuntime, clusterName: string, nodeName: string, action: NodeAction, reporter: Reporter, signal?: AbortSignal): Promise<void> {
  const cluster = await requireCluster(rt, clusterName);
  const node = await requireNode(rt, clusterName, nodeName);
  const container = rt.docker.getContainer(node.containerId);
  const network = rt.docker.getNetwork(clusterNetworkName(clusterName));

  switch (action) {
    case 'stop':
      await reporter.step(`Stopping ${node.name}`, () => container.stop({ t: 20 }).catch(ignoreNotModified));
      return;
    case 'kill':
      requireRunning(node, 'kill');
      await reporter.step(`Killing ${node.name} (like pulling its power cable)`, () => container.kill({ signal: 'SIGKILL' }));
      return;
    case 'pause':
      requireRunning(node, 'pause');
      await reporter.step(`Pausing ${node.name}`, () => container.pause());
      return;
    case 'unpause':
      if (node.state !== 'paused') throw new UserError(`node ${node.name} is not paused (it is ${node.state})`);
      await reporter.step(`Unpausing ${node.name}`, () => container.unpause());
      return;
    case 'start':
      await reporter.step(`Starting ${node.name}`, () => startNodes(rt, [node], signal));
      await reporter.step(`Waiting for ${node.name} to rejoin`, (d) => waitMember(rt, cluster, node.name, signal, d));
      return;
    case 'restart':
      await reporter.step(`Restarting ${node.name}`, async () => {
        await container.restart({ t: 20 });
        await rt.provider.waitNodeReady(node.containerId, { timeoutMs: NODE_READY_TIMEOUT_MS, signal, node: node.name });
      });
      await reporter.step(`Waiting for ${node.name} to rejoin`, (d) => waitMember(rt, cluster, node.name, signal, d));
      return;
    case 'disconnect':
      if (!node.connected) throw new UserError(`node ${node.name} is already disconnected`, { hint: `reconnect it: clusterlab node connect ${node.name}` });
      await reporter.step(`Cutting ${node.name} off the cluster network`, () => network.disconnect({ Container: node.containerId, Force: true }));
      return;
    case 'connect':
      if (node.connected) throw new UserError(`node ${node.name} is already connected`);
      await reporter.step(`Connecting ${node.name} to the cluster network`, () =>
        network.connect({ Container: node.containerId, EndpointConfig: { IPAMConfig: { IPv4Address: node.ip }, Aliases: [node.name] } }),
      );
      if (node.state === 'running') await reporter.step(`Waiting for ${node.name} to rejoin`, (d) => waitMember(rt, cluster, node.name, signal, d));
      return;
  }
}

/** Reads the cluster's CA and client certificate back from a running manager. */
export async function readClusterPki(rt: ClusterRuntime, nodes: NodeRecord[]): Promise<ClusterPki> {
  const manager = nodes.find((n) => n.role === 'manager' && n.state === 'running');
  if (!manager) throw new UserError('no running manager holds the cluster certificates', { hint: 'start a manager node first' });
  const read = async (file: string) =>
    (await execOrThrow(rt.docker, manager.containerId, ['cat', `${NODE_PKI_DIR}/${file}`], { timeoutMs: 10_000 }, `node ${manager.name}`)).stdout;
  const [caCert, caKey, clientCert, clientKey] = await Promise.all([read(PKI_FILES.ca), read(PKI_FILES.caKey), read(PKI_FILES.client), read(PKI_FILES.clientKey)]);
  return { ca: { certPem: caCert, keyPem: caKey }, client: { certPem: clientCert, keyPem: clientKey } };
}

/** The next free name for a role: worker3 after worker1 and worker2. */
export function nextNodeName(role: NodeRole, existing: string[]): string {
  const taken = new Set(existing);
  for (let i = 1; ; i++) {
    const name = defaultNodeName(role, i);
    if (!taken.has(name)) return name;
  }
}

/** `clusterlab node add`: a new node container that joins the running cluster. */
export async function addNode(rt: ClusterRuntime, clusterName: string, options: { role: NodeRole; name?: string; reporter: Reporter; signal?: AbortSignal }): Promise<NodeRecord> {
  const cluster = await requireCluster(rt, clusterName);
  const nodes = await rt.provider.listNodes(clusterName);
  const name = options.name ?? nextNodeName(options.role, nodes.map((n) => n.name));
  const problem = dns1123LabelProblem(name);
  if (problem) throw new UserError(`invalid node name "${name}": ${problem}`, { exitCode: 2 });
  if (nodes.some((n) => n.name === name)) throw new UserError(`node ${name} already exists in cluster ${clusterName}`);
  if (cluster.engine === 'kube' && options.role === 'manager') {
    // A new control plane would have to join the running etcd cluster as a member first.
    throw new UserError('adding a control plane to a running kube cluster is not supported', {
      hint: `add a worker (clusterlab node add --name ${clusterName}), or create the cluster with --control-planes 3`,
    });
  }
  const spec = currentSpec(cluster, nodes);
  const nodeSpec: NodeSpec = { name, role: options.role, labels: {}, ports: [] };
  const { reporter, signal } = options;

  const [pki, bundles, { ref: image }] = await Promise.all([
    readClusterPki(rt, nodes),
    readNodeBundles(cluster.engine),
    ensureNodeImage(rt.docker, { signal }),
  ]);
  const ip = nextNodeAddress(cluster.subnet, [gatewayAddress(cluster.subnet), ...nodes.map((n) => n.ip)]);
  const held = new Set(nodes.map((n) => n.dockerPort).filter((p): p is number => p !== undefined));
  const dockerPort = options.role === 'manager' ? await findFreePort(held) : undefined;
  const index = Math.max(-1, ...nodes.map((n) => n.index)) + 1;

  let created = false;
  try {
    await reporter.step(`Creating node ${name} (${options.role}, ${ip})`, async () => {
      created = true;
      await rt.provider.createNode(
        {
          cluster: clusterName,
          engine: cluster.engine,
          node: nodeSpec,
          index,
          ip,
          image,
          runMode: cluster.runMode,
          cgroupVersion: rt.info.cgroupVersion,
          dockerPort,
          mountKernelModules: shouldMountKernelModules(rt.info.os),
        },
        await nodeFiles(
          spec,
          { node: nodeSpec, index, ip },
          pki,
          bundles,
          nodes.filter((n) => n.role === 'manager').map((n) => ({ name: n.name, ip: n.ip })),
        ),
      );
    });
    const record = (await rt.provider.listNodes(clusterName)).find((n) => n.name === name)!;
    await reporter.step(`Starting ${name}`, () => startNodes(rt, [record], signal));
    const all = await rt.provider.listNodes(clusterName);
    const engine = engineFor(cluster.engine);
    await reporter.step(`Joining ${name} to the ${cluster.engine}`, (d) => engine.joinNode(engineContext(rt, spec, all, signal, d), all.find((n) => n.name === name)!, nodeSpec));
    await reporter.step(`Waiting for ${name} to be Ready`, (d) => waitMember(rt, cluster, name, signal, d));
    return (await rt.provider.listNodes(clusterName)).find((n) => n.name === name)!;
  } catch (err) {
    if (created) await reporter.step(`Removing the half-made node ${name}`, () => rt.provider.deleteNode(clusterName, name));
    throw err;
  }
}

/** `clusterlab node rm`: drain, leave the cluster, remove the container and its volume. */
export async function removeNode(rt: ClusterRuntime, clusterName: string, nodeName: string, reporter: Reporter, signal?: AbortSignal): Promise<void> {
  const cluster = await requireCluster(rt, clusterName);
  const nodes = await rt.provider.listNodes(clusterName);
  const node = await requireNode(rt, clusterName, nodeName);
  if (node.role === 'manager' && nodes.filter((n) => n.role === 'manager').length === 1) {
    throw new UserError(`node ${node.name} is the cluster's only manager`, { hint: `add another manager first (clusterlab node add --role manager) or remove the whole cluster (clusterlab down --name ${clusterName})` });
  }
  const engine = engineFor(cluster.engine);
  await reporter.step(`Taking ${node.name} out of the ${cluster.engine}`, (d) => engine.removeNode(engineContext(rt, currentSpec(cluster, nodes), nodes, signal, d), node));
  await reporter.step(`Removing node ${node.name}`, () => rt.provider.deleteNode(clusterName, node.name, node.containerId));
}
