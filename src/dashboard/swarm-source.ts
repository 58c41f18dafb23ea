/**
 * A swarm cluster, live: the swarm's objects read through a manager's TLS Docker endpoint
 * (the one `clusterlab env` points the docker CLI at), its /events stream as change hints,
 * and the dashboard's actions done the way a learner would do them (`docker service scale`,
 * `docker service update --image`, `docker kill` on the node that runs the task).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { writeDockerClientCerts } from '../cluster/lifecycle.js';
import { readClusterPki, requireNode } from '../cluster/nodes.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { dockerCertDir } from '../cluster/state.js';
import { UserError, messageOf } from '../common/errors.js';
import { execOrThrow } from '../docker/exec.js';
import type { NodeRecord } from '../docker/provider.js';
import { followDockerEvents } from './docker-events.js';
import type { OrchestratorView } from './compose.js';
import type { EngineActions } from './actions.js';
import type { OrchestratorSource } from './live.js';
import type { TimelineEntry } from './model.js';
import { swarmView, type SwarmNodeObject, type SwarmTaskObject } from './swarm-state.js';

interface Tls {
  ca: string;
  cert: string;
  key: string;
}

/** The parts of GET /services/{id} a service update needs. */
interface ServiceInspect {
  ID: string;
  Version?: { Index?: number };
  Spec?: Docker.ServiceSpec & { Name?: string; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
}

const REQUEST_TIMEOUT_MS = 5_000;

export class SwarmSource implements OrchestratorSource, EngineActions {
  private tls: Tls | undefined;
  /** One client per manager endpoint and mode, kept (their connections are reused). */
  private readonly clients = new Map<string, Docker>();
  private machines: NodeRecord[] = [];
  /** The manager that answered last is asked first. */
  private preferred: string | undefined;

  constructor(
    private readonly rt: ClusterRuntime,
    private readonly cluster: string,
  ) {}

  async read(machines: NodeRecord[], now: Date): Promise<OrchestratorView> {
    this.machines = machines;
    const [nodes, services, tasks] = await this.withManager((docker) => Promise.all([docker.listNodes(), docker.listServices(), docker.listTasks()]));
    // The Docker API's objects; the fields read are typed in swarm-state.ts.
    return swarmView({ nodes: nodes as SwarmNodeObject[], services, tasks: tasks as SwarmTaskObject[] }, now);
  }

  follow(hooks: { poke(): void; say(entries: TimelineEntry[]): void }, signal: AbortSignal): void {
    followDockerEvents({
      open: async () => {
        const [manager] = this.managers();
        if (!manager) throw new Error('no running manager');
        return this.client(manager, { streaming: true }, await this.credentials()).getEvents({ filters: { type: ['service', 'node'] } });
      },
      onEvent: () => hooks.poke(),
      onOpen: () => hooks.poke(),
      signal,
    });
  }

  async crash(cardId: string): Promise<string> {
    const task = (await this.withManager((docker) => docker.getTask(cardId).inspect()).catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode === 404) throw new UserError(`no task ${cardId.slice(0, 12)} (it may be gone already)`);
      throw err;
    })) as SwarmTaskObject;
    const containerId = task.Status?.ContainerStatus?.ContainerID;
    if (task.Status?.State !== 'running' || !containerId || !task.NodeID) {
      throw new UserError(`task ${cardId.slice(0, 12)} is not running (it is ${task.Status?.State ?? 'unknown'})`);
    }
    const swarmNode = (await this.withManager((docker) => docker.getNode(task.NodeID!).inspect())) as SwarmNodeObject;
    const hostname = swarmNode.Description?.Hostname ?? '';
    const node = await requireNode(this.rt, this.cluster, hostname);
    await execOrThrow(this.rt.docker, node.containerId, ['docker', 'kill', containerId], { timeoutMs: 20_000 }, `node ${node.name}`);
    return `killed container ${containerId.slice(0, 12)} on ${node.name} (clusterlab exec ${node.name} -- docker kill ${containerId.slice(0, 12)})`;
  }

  async scale(workload: string, replicas: number): Promise<string> {
    await this.updateService(workload, (spec) => {
      if (!spec.Mode?.Replicated) throw new UserError(`service ${workload} is global: it runs one task per node and cannot be scaled`);
      spec.Mode = { Replicated: { Replicas: replicas } };
    });
    return `service ${workload} scaled to ${replicas} (docker service scale ${workload}=${replicas})`;
  }

  async rollout(workload: string, image: string): Promise<string> {
    await this.updateService(workload, (spec) => {
      const template = spec.TaskTemplate;
      if (!template?.ContainerSpec) throw new UserError(`service ${workload} has no container to update`);
      template.ContainerSpec.Image = image;
    });
    return `service ${workload} rolling out ${image} (docker service update --image ${image} ${workload})`;
  }

  /** Changes a service's spec at the version read (a concurrent change makes the engine refuse). */
  private async updateService(name: string, change: (spec: NonNullable<ServiceInspect['Spec']>) => void): Promise<void> {
    await this.withManager(async (docker) => {
      const service = docker.getService(name);
      const info = (await service.inspect().catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode === 404) throw new UserError(`no service named "${name}"`);
        throw err;
      })) as ServiceInspect;
      const spec = structuredClone(info.Spec ?? {});
      change(spec);
      // docker-modem sends `_query` as the query string and `_body` as the JSON body.
      await service.update({ _query: { version: info.Version?.Index ?? 0 }, _body: spec });
    });
  }

  /** Running managers with a published TLS endpoint, the one that answered last first. */
  private managers(): NodeRecord[] {
    const managers = this.machines.filter((n) => n.role === 'manager' && n.state === 'running' && n.dockerPort !== undefined);
    return managers.sort((a, b) => Number(b.name === this.preferred) - Number(a.name === this.preferred) || a.index - b.index);
  }

  private async withManager<T>(fn: (docker: Docker) => Promise<T>): Promise<T> {
    if (this.machines.length === 0) this.machines = await this.rt.provider.listNodes(this.cluster);
    const managers = this.managers();
    if (managers.length === 0) throw new UserError('no swarm manager is running', { hint: 'start a manager node (clusterlab node start leader)' });
    let lastError: unknown;
    for (const manager of managers) {
      try {
        const result = await fn(this.client(manager, { streaming: false }, await this.credentials()));
        this.preferred = manager.name;
        return result;
      } catch (err) {
        // A refusal by the engine (a status code) is an answer; only an unreachable manager makes us try the next.
        if (err instanceof UserError || (err as { statusCode?: number }).statusCode !== undefined) throw err;
        lastError = err;
      }
    }
    throw new UserError(`no swarm manager answered (${messageOf(lastError)})`, { hint: 'a swarm needs a majority of its managers; see clusterlab status' });
  }

  private client(manager: NodeRecord, mode: { streaming: boolean }, tls: Tls): Docker {
    const key = `${manager.dockerPort}/${mode.streaming}`;
    const cached = this.clients.get(key);
    if (cached) return cached;
    const client = new Docker({
      host: '127.0.0.1',
      port: manager.dockerPort,
      protocol: 'https',
      ...tls,
      // The events stream may stay silent for long: only plain requests time out.
      ...(mode.streaming ? {} : { timeout: REQUEST_TIMEOUT_MS }),
    });
    this.clients.set(key, client);
    return client;
  }

  /** The client certificate `up` wrote; rebuilt from a manager when it is lost (as `clusterlab env` does). */
  private async credentials(): Promise<Tls> {
    if (this.tls) return this.tls;
    const dir = dockerCertDir(this.cluster);
    const read = () => Promise.all(['ca.pem', 'cert.pem', 'key.pem'].map((f) => readFile(path.join(dir, f), 'utf8')));
    let files = await read().catch(() => undefined);
    if (!files) {
      const pki = await readClusterPki(this.rt, this.machines);
      await writeDockerClientCerts(this.cluster, { caPem: pki.ca.certPem, certPem: pki.client.certPem, keyPem: pki.client.keyPem });
      files = await read();
    }
    const [ca = '', cert = '', key = ''] = files;
    this.tls = { ca, cert, key };
    return this.tls;
  }
}
