/**
 * The ReplicaSet controller (kube's pkg/controller/replicaset): keeps spec.replicas active
 * pods for each ReplicaSet — claiming pods by selector (adopting orphans, releasing pods whose
 * labels moved away), creating the missing ones from the template in slow-start batches,
 * deleting the cheapest extra ones first — and reports replicas, fullyLabeledReplicas,
 * readyReplicas, availableReplicas (minReadySeconds), observedGeneration and ReplicaFailure.
 */
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { LabelSelector as LabelSelectorObject } from 'kubernetes-types/meta/v1.js';
import { type ApiClient, isConflict, isNotFound, objectKey } from '../../shared/api-client.js';
import { labelSelectorFromObject, matchesLabels, type LabelSelector } from '../apiserver/selectors.js';
import { getCondition, kubeTimestamp, removeCondition, setCondition } from './conditions.js';
import type { ControllerContext } from './context.js';
import { canonicalJson } from './hash.js';
import { Expectations } from './expectations.js';
import { controllerRefOf, claimObjects, newControllerRef } from './owner.js';
import { isNamespaceTerminating, PodControl, slowStartBatch } from './pod-control.js';
import { podsToDelete } from './pod-ranking.js';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable } from './pod-state.js';
import { WorkQueue } from './work-queue.js';

export const REPLICASETS_PATH = '/apis/apps/v1/replicasets';
export const PODS_PATH = '/api/v1/pods';
const COMPONENT = 'replicaset-controller';
/** At most this many pods created or deleted per sync (kube's --replicaset burst). */
const BURST_REPLICAS = 500;
const WORKERS = 5;
/** A sync that lost a write race runs again after this long (the watch has the fresh copy by then). */
const CONFLICT_RETRY_MS = 50;
/** Looks at a ReplicaSet this long after a pod should have turned available (timers may fire early). */
const AVAILABILITY_MARGIN_MS = 100;

export function replicaSetPath(namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/replicasets/${name}`;
}

function podPath(pod: Pod): string {
  return `/api/v1/namespaces/${pod.metadata?.namespace ?? 'default'}/pods/${pod.metadata?.name ?? ''}`;
}

/** A selector object as requirements; a missing or unreadable one selects nothing. */
export function parseSelector(selector: LabelSelectorObject | undefined): LabelSelector | undefined {
  if (selector === undefined) return undefined;
  try {
    return labelSelectorFromObject(selector);
  } catch {
    return undefined;
  }
}

function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  return selector !== undefined && selector.length > 0 && matchesLabels(selector, labels);
}

/**
 * The status for the pods a ReplicaSet controls (active ones only). A failed create or delete
 * becomes the ReplicaFailure condition; a successful sync clears it.
 */
export function calculateReplicaSetStatus(rs: ReplicaSet, activePods: readonly Pod[], manageError: Error | undefined, nowMs: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of activePods) {
    const labels = pod.metadata?.labels ?? {};
    if (Object.entries(templateLabels).every(([key, value]) => labels[key] === value)) fullyLabeled += 1;
    if (isPodReady(pod)) {
      ready += 1;
      if (isPodAvailable(pod, minReadySeconds, nowMs)) available += 1;
    }
  }
  let conditions: ReplicaSetCondition[] = [...(rs.status?.conditions ?? [])];
  const failure = getCondition(conditions, 'ReplicaFailure');
  if (manageError !== undefined && failure === undefined) {
    const diff = activePods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    conditions = setCondition(conditions, { type: 'ReplicaFailure', status: 'True', reason, message: manageError.message, lastTransitionTime: kubeTimestamp(new Date(nowMs)) });
  } else if (manageError === undefined && failure !== undefined) {
    conditions = removeCondition(conditions, 'ReplicaFailure');
  }
  // `replicas` is always written; the other counts only when not zero (omitempty).
  const status: ReplicaSetStatus = { replicas: activePods.length };
  if (fullyLabeled > 0) status.fullyLabeledReplicas = fullyLabeled;
  if (ready > 0) status.readyReplicas = ready;
  if (available > 0) status.availableReplicas = available;
  if (rs.status?.observedGeneration !== undefined) status.observedGeneration = rs.status.observedGeneration;
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

class ReplicaSetController {
  private readonly client: ApiClient;
  private readonly replicaSets;
  private readonly pods;
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly podControl: PodControl;

  constructor(private readonly ctx: ControllerContext) {
    this.client = ctx.client;
    this.replicaSets = ctx.informer<ReplicaSet>(REPLICASETS_PATH);
    this.pods = ctx.informer<Pod>(PODS_PATH);
    this.queue = new WorkQueue('replicaset', { log: ctx.log });
    this.podControl = new PodControl(ctx.client, COMPONENT);

    this.replicaSets
      .onAdd((rs) => this.enqueue(rs))
      .onUpdate((rs) => this.enqueue(rs))
      .onDelete((rs) => {
        this.expectations.forget(objectKey(rs));
        this.enqueue(rs);
      });
    this.pods
      .onAdd((pod) => this.podAdded(pod))
      .onUpdate((pod, old) => this.podUpdated(pod, old))
      .onDelete((pod) => this.podDeleted(pod));
  }

  run(): Promise<void> {
    return this.queue.run((key) => this.sync(key), this.ctx.signal, WORKERS);
  }

  private enqueue(rs: ReplicaSet): void {
    this.queue.add(objectKey(rs));
  }

  /** The ReplicaSet a controller reference points at, if it is (still) that object. */
  private resolveControllerRef(namespace: string | undefined, pod: Pod): ReplicaSet | undefined {
    const ref = controllerRefOf(pod);
    if (ref === undefined || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.replicaSets.get(`${namespace ?? ''}/${ref.name}`);
    return rs?.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets whose selector matches an orphan pod: one of them may adopt it. */
  private replicaSetsSelecting(pod: Pod): ReplicaSet[] {
    return this.replicaSets
      .list()
      .filter((rs) => rs.metadata?.namespace === pod.metadata?.namespace && selects(parseSelector(rs.spec?.selector), pod.metadata?.labels));
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Seen for the first time already being deleted (e.g. after a re-list).
      this.podDeleted(pod);
      return;
    }
    if (controllerRefOf(pod) !== undefined) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace, pod);
      if (rs === undefined) return;
      this.expectations.creationObserved(objectKey(rs));
      this.enqueue(rs);
      return;
    }
    for (const rs of this.replicaSetsSelecting(pod)) this.enqueue(rs);
  }

  private podUpdated(pod: Pod, old: Pod): void {
    if (pod.metadata?.resourceVersion === old.metadata?.resourceVersion) return;
    const labelsChanged = canonicalJson(pod.metadata?.labels) !== canonicalJson(old.metadata?.labels);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Deletion started: the pod no longer counts, which the owner should hear about now.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const ref = controllerRefOf(pod);
    const oldRef = controllerRefOf(old);
    const refChanged = ref?.uid !== oldRef?.uid;
    if (refChanged && oldRef !== undefined) {
      const previous = this.resolveControllerRef(old.metadata?.namespace, old);
      if (previous) this.enqueue(previous);
    }
    if (ref !== undefined) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace, pod);
      if (rs === undefined) return;
      this.enqueue(rs);
      const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
      if (minReadySeconds > 0 && !isPodReady(old) && isPodReady(pod)) {
        // Nothing else happens when the pod becomes available: look again then.
        this.queue.addAfter(objectKey(rs), minReadySeconds * 1000 + 1000);
      }
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.replicaSetsSelecting(pod)) this.enqueue(rs);
  }

  private podDeleted(pod: Pod): void {
    const rs = this.resolveControllerRef(pod.metadata?.namespace, pod);
    if (rs === undefined) return;
    this.expectations.deletionObserved(objectKey(rs), objectKey(pod));
    this.enqueue(rs);
  }

  private async sync(key: string): Promise<void> {
    const rs = this.replicaSets.get(key);
    if (rs === undefined) {
      this.expectations.forget(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    const selector = parseSelector(rs.spec?.selector);
    if (selector === undefined) {
      this.ctx.log(`replicaset ${key}: invalid selector, not syncing`);
      return;
    }
    const namespace = rs.metadata?.namespace ?? 'default';
    const candidates = this.pods.list().filter((pod) => pod.metadata?.namespace === namespace && isPodActive(pod));
    const owned = await claimObjects(candidates, {
      client: this.client,
      owner: rs,
      ownerRef: newControllerRef(rs, 'apps/v1', 'ReplicaSet'),
      pathOf: podPath,
      matches: (pod) => selects(selector, pod.metadata?.labels),
      recheckOwner: () => this.recheckReplicaSet(rs),
    });

    let manageError: Error | undefined;
    if (needsSync && rs.metadata?.deletionTimestamp === undefined) {
      try {
        await this.manageReplicas(owned, rs, key);
      } catch (err) {
        manageError = err as Error;
      }
    }
    const nowMs = Date.now();
    const updated = await this.updateStatus(rs, calculateReplicaSetStatus(rs, owned, manageError, nowMs));
    if (manageError) throw manageError;

    // A ready pod turns available minReadySeconds later without any event: look again then.
    const minReadySeconds = updated.spec?.minReadySeconds ?? 0;
    if (minReadySeconds > 0) {
      const waits = owned.map((pod) => msUntilAvailable(pod, minReadySeconds, nowMs)).filter((ms) => ms > 0);
      if (waits.length > 0) this.queue.addAfter(key, Math.min(...waits) + AVAILABILITY_MARGIN_MS);
    }
  }

  /** Fresh read before adopting: the cached ReplicaSet may already be gone or being deleted. */
  private async recheckReplicaSet(rs: ReplicaSet): Promise<void> {
    const fresh = await this.client.getOrUndefined<ReplicaSet>(replicaSetPath(rs.metadata?.namespace ?? 'default', rs.metadata?.name ?? ''));
    if (fresh?.metadata?.uid !== rs.metadata?.uid) throw new Error(`original ReplicaSet ${rs.metadata?.name ?? ''} is gone: got uid ${fresh?.metadata?.uid ?? 'none'}`);
    if (fresh?.metadata?.deletionTimestamp !== undefined) throw new Error(`ReplicaSet ${rs.metadata?.name ?? ''} is being deleted`);
  }

  private async manageReplicas(owned: Pod[], rs: ReplicaSet, key: string): Promise<void> {
    const desired = rs.spec?.replicas ?? 1;
    const diff = owned.length - desired;
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: rs.metadata };
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, count);
      const ref = newControllerRef(rs, 'apps/v1', 'ReplicaSet');
      const { successes, error } = await slowStartBatch(count, 1, async () => {
        try {
          await this.podControl.createPod(rs.spec?.template, owner, ref);
        } catch (err) {
          if (!isNamespaceTerminating(err)) throw err; // every create would fail: nothing to do
        }
      });
      // Pods never created will never be observed.
      for (let skipped = count - successes; skipped > 0; skipped--) this.expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const count = Math.min(diff, BURST_REPLICAS);
      const victims = podsToDelete(owned, this.relatedPods(rs), count);
      this.expectations.expectDeletions(key, victims.map((pod) => objectKey(pod)));
      const errors: Error[] = [];
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.podControl.deletePod(pod, owner);
          } catch (err) {
            this.expectations.deletionObserved(key, objectKey(pod));
            if (!isNotFound(err)) errors.push(err as Error);
          }
        }),
      );
      if (errors.length > 0) throw errors[0]!;
    }
  }

  /** Active pods of this ReplicaSet's family (every ReplicaSet with the same controller). */
  private relatedPods(rs: ReplicaSet): Pod[] {
    const ownerUid = controllerRefOf(rs)?.uid;
    const family = new Set<string>();
    for (const candidate of this.replicaSets.list()) {
      const sameOwner = ownerUid !== undefined && controllerRefOf(candidate)?.uid === ownerUid;
      if (sameOwner || candidate.metadata?.uid === rs.metadata?.uid) family.add(candidate.metadata?.uid ?? '');
    }
    return this.pods.list().filter((pod) => isPodActive(pod) && family.has(controllerRefOf(pod)?.uid ?? ''));
  }

  /**
   * Writes the status when it changed. After a conflict (the ReplicaSet changed meanwhile,
   * e.g. was scaled) the key simply syncs again, from the fresher copy the watch brings.
   */
  private async updateStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSet> {
    const generation = rs.metadata?.generation;
    const next: ReplicaSetStatus = { ...status, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
    if (canonicalJson(next) === canonicalJson(rs.status)) return rs;
    const path = `${replicaSetPath(rs.metadata?.namespace ?? 'default', rs.metadata?.name ?? '')}/status`;
    try {
      return await this.client.update<ReplicaSet>(path, { ...rs, status: next });
    } catch (err) {
      if (isNotFound(err)) return rs;
      if (!isConflict(err)) throw err;
      this.queue.addAfter(objectKey(rs), CONFLICT_RETRY_MS);
      return rs;
    }
  }
}

/** Registers the ReplicaSet controller's informer handlers; the returned function runs it until ctx.signal aborts. */
export function setupReplicaSetController(ctx: ControllerContext): () => Promise<void> {
  const controller = new ReplicaSetController(ctx);
  return () => controller.run();
}
