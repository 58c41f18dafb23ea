/**
 * A kube cluster, live: nodes, pods and deployments listed from the API server with the
 * cluster's admin credentials (those of its kubeconfig context), watches on them as change
 * hints, Kubernetes Events on the timeline, and the dashboard's actions done as kubectl does
 * them (PATCH …/scale, a strategic-merge patch of the pod template's images) or as a learner
 * would (`docker kill` of the pod's containers on its node).
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Event as KubeEvent, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { ListMeta } from 'kubernetes-types/meta/v1.js';
import { requireNode } from '../cluster/nodes.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { UserError } from '../common/errors.js';
import { execOrThrow } from '../docker/exec.js';
import type { NodeRecord } from '../docker/provider.js';
import { kubeRequest, KubeRequestError, readKubeAccess, type KubeAccess } from '../engines/kube/host-api.js';
import type { EngineActions } from './actions.js';
import type { OrchestratorView } from './compose.js';
import { kubeEventEntry, kubeView } from './kube-state.js';
import { kubeWatch, type WatchEvent } from './kube-watch.js';
import type { OrchestratorSource } from './live.js';
import type { TimelineEntry } from './model.js';

interface List<T> {
  metadata?: ListMeta;
  items: T[];
}

/** dockershim's labels, which clusterlab's agent puts on each pod container it runs. */
const POD_UID_LABEL = 'io.kubernetes.pod.uid';
const CONTAINER_TYPE_LABEL = 'io.kubernetes.docker.type';

const WATCHED = ['/api/v1/nodes', '/api/v1/pods', '/apis/apps/v1/deployments'];
const EVENTS = '/api/v1/events';
const RETRY_MS = 2_000;

function splitWorkload(workload: string): { namespace: string; name: string } {
  const slash = workload.indexOf('/');
  return slash < 0 ? { namespace: 'default', name: workload } : { namespace: workload.slice(0, slash), name: workload.slice(slash + 1) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KubeSource implements OrchestratorSource, EngineActions {
  private access: KubeAccess | undefined;
  private machines: NodeRecord[] = [];
  private pods = new Map<string, Pod>();

  constructor(
    private readonly rt: ClusterRuntime,
    private readonly cluster: string,
  ) {}

  async read(machines: NodeRecord[], now: Date): Promise<OrchestratorView> {
    this.machines = machines;
    const [nodes, pods, deployments] = await Promise.all([
      this.get<List<Node>>('/api/v1/nodes'),
      this.get<List<Pod>>('/api/v1/pods'),
      this.get<List<Deployment>>('/apis/apps/v1/deployments'),
    ]);
    this.pods = new Map(pods.items.map((p) => [p.metadata?.uid ?? '', p]));
    return kubeView({ nodes: nodes.items, pods: pods.items, deployments: deployments.items }, now);
  }

  follow(hooks: { poke(): void; say(entries: TimelineEntry[]): void }, signal: AbortSignal): void {
    for (const collection of WATCHED) void this.watchLoop(collection, () => hooks.poke(), signal, false);
    void this.watchLoop<KubeEvent>(
      EVENTS,
      (event) => {
        const entry = event.type === 'ADDED' || event.type === 'MODIFIED' ? kubeEventEntry(event.object, new Date()) : undefined;
        if (entry) hooks.say([entry]);
      },
      signal,
      true,
    );
  }

  /**
   * Watches a collection until the signal aborts. With `fromNow`, it starts at a fresh
   * list's resourceVersion so only new objects are told; otherwise from "now" as the server
   * sees it (its first events are the existing objects: harmless hints).
   */
  private async watchLoop<T>(collection: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal, fromNow: boolean): Promise<void> {
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        const access = await this.credentials();
        if (fromNow && !resourceVersion) resourceVersion = (await this.get<List<T>>(collection)).metadata?.resourceVersion;
        let gone = false;
        const started = Date.now();
        await kubeWatch<T>(
          access,
          collection,
          resourceVersion,
          (event) => {
            const version = (event.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
            if (event.type === 'ERROR') gone = true;
            else if (version) resourceVersion = version;
            if (event.type !== 'BOOKMARK' && event.type !== 'ERROR') onEvent(event);
          },
          signal,
        );
        // 410 Gone: the version is too old; list again (fromNow) or watch from now.
        if (gone) resourceVersion = undefined;
        // A server that ends watches at once must not make this loop spin.
        if (Date.now() - started < 1_000) await sleep(RETRY_MS);
      } catch {
        this.access = undefined; // the control plane may have moved; ask again
        resourceVersion = undefined;
        await sleep(RETRY_MS);
      }
    }
  }

  async crash(cardId: string): Promise<string> {
    const pod = this.pods.get(cardId);
    if (!pod) throw new UserError(`no pod with uid ${cardId} (it may be gone already)`);
    const name = pod.metadata?.name ?? cardId;
    if (!pod.spec?.nodeName) throw new UserError(`pod ${name} is not scheduled on a node yet`);
    const node = await requireNode(this.rt, this.cluster, pod.spec.nodeName);
    const where = `node ${node.name}`;
    const listed = await execOrThrow(
      this.rt.docker,
      node.containerId,
      ['docker', 'ps', '-q', '--filter', `label=${POD_UID_LABEL}=${cardId}`, '--filter', `label=${CONTAINER_TYPE_LABEL}=container`],
      { timeoutMs: 20_000 },
      where,
    );
    const ids = listed.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    if (ids.length === 0) throw new UserError(`pod ${name} has no running container on ${node.name}`);
    await execOrThrow(this.rt.docker, node.containerId, ['docker', 'kill', ...ids], { timeoutMs: 20_000 }, where);
    return `killed the container${ids.length > 1 ? 's' : ''} of pod ${name} on ${node.name} (clusterlab exec ${node.name} -- docker kill ${ids.join(' ')})`;
  }

  async scale(workload: string, replicas: number): Promise<string> {
    const { namespace, name } = splitWorkload(workload);
    await this.patch(`/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(name)}/scale`, { spec: { replicas } }, 'application/merge-patch+json', workload);
    return `deployment ${name} scaled to ${replicas} (kubectl scale deployment/${name} --replicas=${replicas}${namespace === 'default' ? '' : ` -n ${namespace}`})`;
  }

  async rollout(workload: string, image: string): Promise<string> {
    const { namespace, name } = splitWorkload(workload);
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(name)}`;
    const deployment = await this.get<Deployment>(path).catch((err: unknown) => {
      throw notFound(err, workload) ?? err;
    });
    const containers = deployment.spec?.template.spec?.containers ?? [];
    if (containers.length === 0) throw new UserError(`deployment ${name} has no containers`);
    // Every container, as `kubectl set image deployment/NAME '*=IMAGE'`.
    const patch = { spec: { template: { spec: { containers: containers.map((c) => ({ name: c.name, image })) } } } };
    await this.patch(path, patch, 'application/strategic-merge-patch+json', workload);
    return `deployment ${name} rolling out ${image} (kubectl set image deployment/${name} '*=${image}'${namespace === 'default' ? '' : ` -n ${namespace}`})`;
  }

  private async patch(path: string, body: unknown, contentType: string, workload: string): Promise<void> {
    await kubeRequest(await this.credentials(), 'PATCH', path, { body, contentType, timeoutMs: 10_000 }).catch((err: unknown) => {
      throw notFound(err, workload) ?? err;
    });
  }

  private async get<T>(path: string): Promise<T> {
    try {
      return await kubeRequest<T>(await this.credentials(), 'GET', path, { timeoutMs: 5_000 });
    } catch (err) {
      if (!(err instanceof KubeRequestError) || err.statusCode === undefined) this.access = undefined;
      throw err;
    }
  }

  /** The admin credentials, read back from a running control plane (as `clusterlab kubeconfig` does). */
  private async credentials(): Promise<KubeAccess> {
    if (this.access) return this.access;
    if (this.machines.length === 0) this.machines = await this.rt.provider.listNodes(this.cluster);
    this.access = await readKubeAccess(this.rt.docker, this.machines);
    return this.access;
  }
}

function notFound(err: unknown, workload: string): UserError | undefined {
  return err instanceof KubeRequestError && err.statusCode === 404 ? new UserError(`no deployment named "${workload}"`) : undefined;
}
