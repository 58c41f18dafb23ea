import type Docker from 'dockerode';
import { mkdtemp, mkdir, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import tarFs from 'tar-fs';
import { LABELS, clusterFilter, managedFilter } from '../cluster/labels.js';
import { gatewayAddress, pickClusterSubnet } from '../cluster/addresses.js';
import { clusterNetworkName, nodeVolumeName } from '../cluster/names.js';
import type { ClusterSpec, Engine, NodeRole } from '../cluster/spec.js';
import type { SupervisorEvent } from '../common/node-config.js';
import { UserError } from '../common/errors.js';
import { nodeContainerCreateOptions, type NodeContainerInput, type RunMode } from './node-container.js';

/** A cluster as the engine's labels describe it. */
export interface ClusterRecord {
  name: string;
  engine: Engine;
  subnet: string;
  runMode: RunMode;
  /** The spec the cluster was created from (with nodes added later not in it). */
  spec: ClusterSpec | undefined;
  networkId: string;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** A node as the engine's labels and state describe it. */
export interface NodeRecord {
  cluster: string;
  name: string;
  role: NodeRole;
  index: number;
  ip: string;
  containerId: string;
  containerName: string;
  state: ContainerState;
  /** Docker's human status, e.g. "Up 3 minutes". */
  status: string;
  image: string;
  dockerPort: number | undefined;
  /** Host port of the node's Kubernetes API server (kube control planes). */
  apiPort: number | undefined;
  /** Attached to the cluster network (false after `node disconnect`). */
  connected: boolean;
}

/** A file to place in a node before it starts. */
export interface NodeFile {
  path: string;
  content: string | Buffer;
  mode?: number;
}

/**
 * Everything clusterlab asks of the host's engine, kept narrow (kind's Provider): networks,
 * node containers and their volumes, found again by labels. Node-level operations that are
 * one dockerode call (stop, kill, pause…) are used directly through `docker`.
 */
export class DockerProvider {
  constructor(readonly docker: Docker) {}

  async listClusters(): Promise<ClusterRecord[]> {
    const [networks, containers] = await Promise.all([
      this.docker.listNetworks({ filters: managedFilter() }),
      this.docker.listContainers({ all: true, filters: managedFilter() }),
    ]);
    const byName = new Map<string, ClusterRecord>();
    for (const net of networks) {
      const labels = net.Labels ?? {};
      const name = labels[LABELS.cluster];
      if (!name) continue;
      byName.set(name, {
        name,
        engine: (labels[LABELS.engine] as Engine | undefined) ?? 'swarm',
        subnet: net.IPAM?.Config?.[0]?.Subnet ?? '',
        runMode: (labels[LABELS.runMode] as RunMode | undefined) ?? 'capabilities',
        spec: parseSpecLabel(labels[LABELS.spec]),
        networkId: net.Id,
      });
    }
    // A cluster whose network was removed by hand still shows up through its containers,
    // so that `down` can clean it.
    for (const c of containers) {
      const name = c.Labels[LABELS.cluster];
      if (name && !byName.has(name)) {
        byName.set(name, {
          name,
          engine: (c.Labels[LABELS.engine] as Engine | undefined) ?? 'swarm',
          subnet: '',
          runMode: 'capabilities',
          spec: undefined,
          networkId: '',
        });
      }
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async getCluster(name: string): Promise<ClusterRecord | undefined> {
    return (await this.listClusters()).find((c) => c.name === name);
  }

  async listNodes(cluster: string): Promise<NodeRecord[]> {
    const containers = await this.docker.listContainers({ all: true, filters: clusterFilter(cluster) });
    const network = clusterNetworkName(cluster);
    return containers
      .filter((c) => c.Labels[LABELS.node])
      .map((c): NodeRecord => {
        const labels = c.Labels;
        const port = labels[LABELS.dockerPort];
        const apiPort = labels[LABELS.apiPort];
        return {
          cluster,
          name: labels[LABELS.node]!,
          role: (labels[LABELS.role] as NodeRole | undefined) ?? 'worker',
          index: Number.parseInt(labels[LABELS.index] ?? '0', 10),
          ip: labels[LABELS.ip] ?? '',
          containerId: c.Id,
          containerName: (c.Names[0] ?? '').replace(/^\//, ''),
          state: c.State as ContainerState,
          status: c.Status,
          image: c.Image,
          dockerPort: port ? Number.parseInt(port, 10) : undefined,
          apiPort: apiPort ? Number.parseInt(apiPort, 10) : undefined,
          connected: Boolean(c.NetworkSettings?.Networks?.[network]),
        };
      })
      .sort((a, b) => a.index - b.index);
  }

  /** Subnets already in use by the engine's networks: a new cluster's must not overlap. */
  async usedSubnets(): Promise<string[]> {
    const networks = await this.docker.listNetworks();
    return networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => Boolean(s)));
  }

  /**
   * Creates the cluster's network on the first free /24 and returns that subnet. Two `up`s at
   * once may both see the same /24 free; the engine refuses the second ("Pool overlaps"), which
   * then moves on to the next one.
   */
  async createClusterNetwork(spec: ClusterSpec, runMode: RunMode): Promise<string> {
    const lost: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const subnet = pickClusterSubnet([...(await this.usedSubnets()), ...lost]);
      try {
        await this.createNetwork(spec, subnet, gatewayAddress(subnet), runMode);
        return subnet;
      } catch (err) {
        if (attempt >= 8 || !/overlap/i.test(String((err as Error).message))) throw err;
        lost.push(subnet);
      }
    }
  }

  async createNetwork(spec: ClusterSpec, subnet: string, gateway: string, runMode: RunMode): Promise<void> {
    await this.docker.createNetwork({
      Name: clusterNetworkName(spec.name),
      Driver: 'bridge',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
      Options: { 'com.docker.network.driver.mtu': '1500' },
      Labels: {
        [LABELS.managed]: 'true',
        [LABELS.cluster]: spec.name,
        [LABELS.engine]: spec.engine,
        [LABELS.runMode]: runMode,
        [LABELS.spec]: JSON.stringify(spec),
      },
    });
  }

  /** Creates a node container (not started), its volume, and puts `files` in place. */
  async createNode(input: NodeContainerInput, files: NodeFile[]): Promise<string> {
    await this.docker.createVolume({
      Name: nodeVolumeName(input.cluster, input.node.name),
      Labels: {
        [LABELS.managed]: 'true',
        [LABELS.cluster]: input.cluster,
        [LABELS.node]: input.node.name,
      },
    });
    const container = await this.docker.createContainer(nodeContainerCreateOptions(input));
    if (files.length > 0) await putFiles(container, files);
    return container.id;
  }

  /** Removes a node's container and volume; missing pieces are fine. */
  async deleteNode(cluster: string, node: string, containerId?: string): Promise<void> {
    const id = containerId ?? (await this.listNodes(cluster)).find((n) => n.name === node)?.containerId;
    if (id) await ignoreNotFound(this.docker.getContainer(id).remove({ force: true, v: true }));
    await ignoreNotFound(this.docker.getVolume(nodeVolumeName(cluster, node)).remove());
  }

  /** Removes every container, volume and network labelled with the cluster. Idempotent. */
  async deleteCluster(cluster: string): Promise<void> {
    const containers = await this.docker.listContainers({ all: true, filters: clusterFilter(cluster) });
    await Promise.all(containers.map((c) => ignoreNotFound(this.docker.getContainer(c.Id).remove({ force: true, v: true }))));
    const [volumes, networks] = await Promise.all([
      this.docker.listVolumes({ filters: clusterFilter(cluster) }),
      this.docker.listNetworks({ filters: clusterFilter(cluster) }),
    ]);
    await Promise.all((volumes.Volumes ?? []).map((v) => ignoreNotFound(this.docker.getVolume(v.Name).remove({ force: true }))));
    await Promise.all(networks.map((n) => ignoreNotFound(this.docker.getNetwork(n.Id).remove())));
  }

  /**
   * Waits until the node's supervisor reports every daemon ready after the container's
   * latest start: follows the container log (an event, not a polling loop).
   */
  async waitNodeReady(containerId: string, options: { timeoutMs: number; signal?: AbortSignal; node: string }): Promise<void> {
    const container = this.docker.getContainer(containerId);
    const inspected = await container.inspect();
    const startedAt = Date.parse(inspected.State.StartedAt);
    const since = Math.floor(startedAt / 1000) - 1;
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true, since })) as unknown as NodeJS.ReadableStream & { destroy(): void };

    const tail: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      const finish = (err?: Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        stream.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        finish(new UserError(`node ${options.node} did not become ready within ${Math.round(options.timeoutMs / 1000)} s`, {
          hint: `see its logs: clusterlab logs ${options.node}${tail.length ? `\nlast lines:\n${tail.join('\n')}` : ''}`,
        }));
      }, options.timeoutMs);
      const onAbort = () => finish(new Error('aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const onLine = (line: string) => {
        tail.push(line);
        if (tail.length > 10) tail.shift();
        const event = parseEvent(line);
        // Only an event of this start counts (the log holds earlier starts' events too).
        if (event?.event === 'node-ready' && Date.parse(event.ts) >= startedAt) finish();
      };
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          buffered += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            onLine(buffered.slice(0, nl));
            buffered = buffered.slice(nl + 1);
          }
          callback();
        },
      });
      this.docker.modem.demuxStream(stream, sink, sink);
      stream.on('end', async () => {
        // The container stopped before it was ready.
        const state = await container.inspect().then((i) => i.State).catch(() => undefined);
        finish(new UserError(`node ${options.node} stopped before it was ready (${state?.Status ?? 'gone'}, exit ${state?.ExitCode ?? '?'})`, {
          hint: `last lines of its log:\n${tail.join('\n')}`,
        }));
      });
      stream.on('error', (e: Error) => finish(e));
    });
  }
}

function parseEvent(line: string): SupervisorEvent | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(line.slice(start)) as SupervisorEvent;
  } catch {
    return undefined;
  }
}

function parseSpecLabel(value: string | undefined): ClusterSpec | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(value) as ClusterSpec;
  } catch {
    return undefined;
  }
}

/** Swallows the engine's 404 (already gone) and 409 "removal in progress". */
export async function ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404) return undefined;
    if (status === 409 && /already in progress/i.test(String((err as Error).message))) return undefined;
    throw err;
  }
}

/** Writes files into a created (or running) container through the archive API (tar-fs). */
export async function putFiles(container: Docker.Container, files: NodeFile[]): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-files-'));
  try {
    for (const file of files) {
      const target = path.join(dir, file.path);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.content);
      await chmod(target, file.mode ?? 0o644);
    }
    const pack = tarFs.pack(dir, {
      map: (header) => {
        header.uid = 0;
        header.gid = 0;
        if (header.type === 'directory') header.mode = 0o755;
        return header;
      },
    });
    // tar-fs's Pack is a streamx Readable; dockerode pipes it like any Node stream.
    await container.putArchive(pack as unknown as NodeJS.ReadableStream, { path: '/' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
