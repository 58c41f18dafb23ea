/**
 * The Deployment controller (kube's pkg/controller/deployment): watches Deployments, their
 * ReplicaSets (claimed by selector, adopted and released like pods by a ReplicaSet) and — for
 * Recreate — the deletion of their pods, and hands each Deployment to one Rollout step.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type ApiClient, isConflict, objectKey } from '../../shared/api-client.js';
import { matchesLabels } from '../apiserver/selectors.js';
import type { ControllerContext } from './context.js';
import { deploymentPath, Rollout } from './deployment-rollout.js';
import { isRollingUpdate } from './deployment-util.js';
import { canonicalJson } from './hash.js';
import { claimObjects, controllerRefOf, newControllerRef } from './owner.js';
import { parseSelector, PODS_PATH, REPLICASETS_PATH, replicaSetPath } from './replicaset.js';
import { WorkQueue } from './work-queue.js';

export const DEPLOYMENTS_PATH = '/apis/apps/v1/deployments';
const WORKERS = 5;
/** A sync that lost a write race runs again after this long (the watch has the fresh copy by then). */
const CONFLICT_RETRY_MS = 50;

function selects(d: Deployment, labels: Record<string, string> | undefined): boolean {
  const selector = parseSelector(d.spec?.selector);
  return selector !== undefined && selector.length > 0 && matchesLabels(selector, labels);
}

class DeploymentController {
  private readonly client: ApiClient;
  private readonly deployments;
  private readonly replicaSets;
  private readonly pods;
  private readonly queue: WorkQueue;

  constructor(private readonly ctx: ControllerContext) {
    this.client = ctx.client;
    this.deployments = ctx.informer<Deployment>(DEPLOYMENTS_PATH);
    this.replicaSets = ctx.informer<ReplicaSet>(REPLICASETS_PATH);
    this.pods = ctx.informer<Pod>(PODS_PATH);
    this.queue = new WorkQueue('deployment', { log: ctx.log });

    this.deployments
      .onAdd((d) => this.enqueue(d))
      .onUpdate((d) => this.enqueue(d))
      .onDelete((d) => this.enqueue(d));
    this.replicaSets
      .onAdd((rs) => this.replicaSetAdded(rs))
      .onUpdate((rs, old) => this.replicaSetUpdated(rs, old))
      .onDelete((rs) => this.replicaSetDeleted(rs));
    this.pods.onDelete((pod) => this.podDeleted(pod));
  }

  run(): Promise<void> {
    return this.queue.run((key) => this.syncQuietlyOnConflict(key), this.ctx.signal, WORKERS);
  }

  private enqueue(d: Deployment): void {
    this.queue.add(objectKey(d));
  }

  /** The Deployment an object's controller reference points at, if it is (still) that one. */
  private resolveControllerRef(obj: { metadata?: ReplicaSet['metadata'] }): Deployment | undefined {
    const ref = controllerRefOf(obj);
    if (ref === undefined || ref.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(`${obj.metadata?.namespace ?? ''}/${ref.name}`);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  private deploymentsSelecting(rs: ReplicaSet): Deployment[] {
    return this.deployments.list().filter((d) => d.metadata?.namespace === rs.metadata?.namespace && selects(d, rs.metadata?.labels));
  }

  private replicaSetAdded(rs: ReplicaSet): void {
    if (rs.metadata?.deletionTimestamp !== undefined) return this.replicaSetDeleted(rs);
    if (controllerRefOf(rs) !== undefined) {
      const d = this.resolveControllerRef(rs);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsSelecting(rs)) this.enqueue(d);
  }

  private replicaSetUpdated(rs: ReplicaSet, old: ReplicaSet): void {
    if (rs.metadata?.resourceVersion === old.metadata?.resourceVersion) return;
    const ref = controllerRefOf(rs);
    const oldRef = controllerRefOf(old);
    const refChanged = ref?.uid !== oldRef?.uid;
    if (refChanged && oldRef !== undefined) {
      const previous = this.resolveControllerRef(old);
      if (previous) this.enqueue(previous);
    }
    if (ref !== undefined) {
      const d = this.resolveControllerRef(rs);
      if (d) this.enqueue(d);
      return;
    }
    const labelsChanged = canonicalJson(rs.metadata?.labels) !== canonicalJson(old.metadata?.labels);
    if (labelsChanged || refChanged) for (const d of this.deploymentsSelecting(rs)) this.enqueue(d);
  }

  private replicaSetDeleted(rs: ReplicaSet): void {
    const d = this.resolveControllerRef(rs);
    if (d) this.enqueue(d);
  }

  /** Recreate waits for old pods to be gone: their deletion is its cue. */
  private podDeleted(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (ref === undefined || ref.kind !== 'ReplicaSet') return;
    const rs = this.replicaSets.get(`${pod.metadata?.namespace ?? ''}/${ref.name}`);
    if (rs === undefined || rs.metadata?.uid !== ref.uid) return;
    const d = this.resolveControllerRef(rs);
    if (d && !isRollingUpdate(d)) this.enqueue(d);
  }

  private async syncQuietlyOnConflict(key: string): Promise<void> {
    try {
      await this.sync(key);
    } catch (err) {
      // Lost a race with another writer (a user's edit, the ReplicaSet controller's status):
      // not worth a log line, just another look with fresher objects.
      if (!isConflict(err)) throw err;
      this.queue.addAfter(key, CONFLICT_RETRY_MS);
    }
  }

  private async sync(key: string): Promise<void> {
    const d = this.deployments.get(key);
    if (d === undefined) return;
    const deps = { client: this.client, requeueAfter: (delayMs: number) => this.queue.addAfter(key, delayMs) };
    const selector = parseSelector(d.spec?.selector);
    if (selector === undefined || selector.length === 0) {
      await new Rollout(deps, d, []).selectorRequired();
      return;
    }
    const rollout = new Rollout(deps, d, await this.replicaSetsFor(d));
    if (d.metadata?.deletionTimestamp !== undefined) return rollout.statusOnly();
    await rollout.checkPausedConditions();
    if (d.spec?.paused) return rollout.scaleOnly();
    if (await rollout.replicaCountChanged()) return rollout.scaleOnly();
    if (isRollingUpdate(d)) return rollout.rollingUpdate();
    return rollout.recreate(this.pods.list().filter((pod) => pod.metadata?.namespace === d.metadata?.namespace && selects(d, pod.metadata?.labels)));
  }

  /** The ReplicaSets this Deployment controls after adopting orphans and releasing strays. */
  private replicaSetsFor(d: Deployment): Promise<ReplicaSet[]> {
    const namespace = d.metadata?.namespace;
    return claimObjects(
      this.replicaSets.list().filter((rs) => rs.metadata?.namespace === namespace),
      {
        client: this.client,
        owner: d,
        ownerRef: newControllerRef(d, 'apps/v1', 'Deployment'),
        pathOf: (rs) => replicaSetPath(rs.metadata?.namespace ?? 'default', rs.metadata?.name ?? ''),
        matches: (rs) => selects(d, rs.metadata?.labels),
        recheckOwner: async () => {
          const fresh = await this.client.getOrUndefined<Deployment>(deploymentPath(namespace ?? 'default', d.metadata?.name ?? ''));
          if (fresh?.metadata?.uid !== d.metadata?.uid) throw new Error(`original Deployment ${d.metadata?.name ?? ''} is gone`);
          if (fresh?.metadata?.deletionTimestamp !== undefined) throw new Error(`Deployment ${d.metadata?.name ?? ''} is being deleted`);
        },
      },
    );
  }
}

/** Registers the Deployment controller's informer handlers; the returned function runs it until ctx.signal aborts. */
export function setupDeploymentController(ctx: ControllerContext): () => Promise<void> {
  const controller = new DeploymentController(ctx);
  return () => controller.run();
}
