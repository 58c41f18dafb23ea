/**
 * The swarm back end of the cluster view: a manager's Docker API (over TLS for a local
 * cluster, or any DOCKER_HOST), read with dockerode. The pure parts turn Engine API objects
 * into the view's nodes and workloads and are unit-tested.
 */
import type Docker from 'dockerode';
import { normalizeImage, type ClusterView, type LabNode, type Replica, type Rollout, type Workload } from '../view.js';

/** The fields of GET /nodes that the view reads (Docker Engine API). */
export interface SwarmNodeObject {
  ID: string;
  Spec?: { Role?: string; Availability?: string };
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
}

/** The fields of GET /tasks that the view reads. */
export interface SwarmTaskObject {
  ID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string };
  Spec?: { ContainerSpec?: { Image?: string } };
}

/** The fields of GET /services that the view reads. */
export interface SwarmServiceObject {
  ID: string;
  Spec?: {
    Name?: string;
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
    TaskTemplate?: { ContainerSpec?: { Image?: string } };
  };
  /** Absent until the service's spec is first updated. */
  UpdateStatus?: { State?: string; Message?: string };
}

/** One view node per hostname: a node removed and joined again leaves a stale Down entry behind. */
export function nodesFromSwarm(objects: SwarmNodeObject[]): LabNode[] {
  const byName = new Map<string, LabNode>();
  for (const o of objects) {
    const name = o.Description?.Hostname ?? o.ID;
    const state = o.Status?.State ?? 'unknown';
    const availability = o.Spec?.Availability ?? 'active';
    const node: LabNode = {
      name,
      role: o.Spec?.Role === 'manager' ? 'manager' : 'worker',
      ready: state === 'ready',
      state,
      schedulable: availability === 'active',
      availability,
      address: o.Status?.Addr && o.Status.Addr !== '0.0.0.0' ? o.Status.Addr : '',
    };
    const existing = byName.get(name);
    if (existing?.ready && !node.ready) continue;
    byName.set(name, node);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A service and its tasks as a view workload; `nodeNames` maps node IDs to hostnames. */
export function workloadFromSwarm(service: SwarmServiceObject, tasks: SwarmTaskObject[], nodeNames: Map<string, string>): Workload {
  const name = service.Spec?.Name ?? service.ID;
  const global = service.Spec?.Mode?.Global !== undefined;
  const current = tasks.filter((t) => t.DesiredState === 'running');
  const replicas: Replica[] = current
    .map((t) => {
      const node = t.NodeID ? (nodeNames.get(t.NodeID) ?? t.NodeID) : '';
      const state = t.Status?.State ?? 'unknown';
      return {
        name: global ? `${name}.${node || t.ID.slice(0, 12)}` : `${name}.${t.Slot ?? '?'}`,
        node,
        state,
        running: state === 'running',
        image: normalizeImage(t.Spec?.ContainerSpec?.Image ?? ''),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const images = new Set(tasks.map((t) => normalizeImage(t.Spec?.ContainerSpec?.Image ?? '')).filter((i) => i !== ':latest'));
  return {
    kind: 'service',
    name,
    desired: global ? undefined : (service.Spec?.Mode?.Replicated?.Replicas ?? 1),
    image: normalizeImage(service.Spec?.TaskTemplate?.ContainerSpec?.Image ?? ''),
    replicas,
    restarts: tasks.filter((t) => t.DesiredState === 'shutdown' && t.Status?.State === 'failed').length,
    revisions: Math.max(1, images.size),
    rollout: swarmRollout(service, replicas),
  };
}

/**
 * The update's state as swarm reports it (updating, paused, completed, rollback_started,
 * rollback_paused, rollback_completed); a finished or never-updated service is complete
 * once its replicas run the spec's image.
 */
export function swarmRollout(service: SwarmServiceObject, replicas: Replica[]): Rollout {
  const update = service.UpdateStatus;
  const detail = update?.State ? `update ${update.State}${update.Message ? `: ${update.Message}` : ''}` : 'never updated';
  if (update?.State === 'updating' || update?.State === 'rollback_started') return { state: 'progressing', detail };
  if (update?.State === 'paused' || update?.State === 'rollback_paused') return { state: 'stalled', detail };
  const image = normalizeImage(service.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '');
  const desired = service.Spec?.Mode?.Replicated?.Replicas;
  const running = replicas.filter((r) => r.running);
  const converged = running.every((r) => r.image === image) && running.length === replicas.length && (desired === undefined || running.length === desired);
  return converged ? { state: 'complete', detail } : { state: 'progressing', detail: `${detail}; ${running.length} of ${desired ?? replicas.length} running` };
}

export function swarmView(docker: Docker): ClusterView {
  const listNodes = async () => (await docker.listNodes()) as SwarmNodeObject[];
  return {
    engine: 'swarm',
    async nodes() {
      return nodesFromSwarm(await listNodes());
    },
    async workload(name) {
      // The name filter matches prefixes: web also finds web-frontend.
      const services = (await docker.listServices({ filters: { name: [name] } })) as SwarmServiceObject[];
      const service = services.find((s) => s.Spec?.Name === name);
      if (!service) return undefined;
      const [tasks, nodes] = await Promise.all([
        docker.listTasks({ filters: { service: [service.ID] } }) as Promise<SwarmTaskObject[]>,
        listNodes(),
      ]);
      return workloadFromSwarm(service, tasks, new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID])));
    },
    async close() {
      // dockerode keeps no connection open between requests.
    },
  };
}
