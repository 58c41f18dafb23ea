/**
 * One sync of one Deployment (kube's pkg/controller/deployment sync.go, rolling.go,
 * recreate.go): find or create the new ReplicaSet and keep revisions straight, then take one
 * step — scale (proportionally, mid-rollout), roll (within maxSurge/maxUnavailable) or
 * recreate (old pods gone first) — and write the status with its conditions.
 *
 * The Rollout keeps the latest copy of every object it wrote, so later steps of the same sync
 * never write with a stale resourceVersion.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, type ApiClient, isNotFound, recordEvent } from '../../shared/api-client.js';
import { getCondition, setCondition } from './conditions.js';
import {
  activeReplicaSets,
  actualReplicaCount,
  availableReplicaCount,
  byCreation,
  calculateStatus,
  deploymentComplete,
  desiredReplicas,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  isRollingUpdate,
  isSaturated,
  isScalingEvent,
  hasProgressDeadline,
  maxRevision,
  maxScaledDown,
  maxUnavailable,
  newDeploymentCondition,
  newReplicaSetAnnotations,
  newRSNewReplicas,
  POD_TEMPLATE_HASH_LABEL,
  progressCheckDelay,
  proportionalSizes,
  REASONS,
  replicaSetsToCleanUp,
  replicasAnnotations,
  replicasAnnotationsNeedUpdate,
  REVISION_ANNOTATION,
  revisionOf,
  rolloutStatus,
  rsReplicas,
  specReplicaCount,
} from './deployment-util.js';
import { canonicalJson, computePodTemplateHash } from './hash.js';
import { isControlledBy, newControllerRef } from './owner.js';
import { isNamespaceTerminating } from './pod-control.js';
import { replicaSetPath } from './replicaset.js';

export const DEPLOYMENT_COMPONENT = 'deployment-controller';

export function deploymentPath(namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
}

export interface RolloutDeps {
  client: ApiClient;
  /** Look at this Deployment again after `delayMs` (progress deadline checks). */
  requeueAfter: (delayMs: number) => void;
}

export class Rollout {
  private d: Deployment;
  /** The latest copy of each of the Deployment's ReplicaSets, by uid. */
  private readonly latest = new Map<string, ReplicaSet>();
  private sets: ReplicaSet[];

  constructor(
    private readonly deps: RolloutDeps,
    deployment: Deployment,
    replicaSets: ReplicaSet[],
  ) {
    this.d = structuredClone(deployment);
    this.sets = [...replicaSets];
    for (const rs of replicaSets) this.latest.set(rs.metadata?.uid ?? '', rs);
  }

  private get namespace(): string {
    return this.d.metadata?.namespace ?? 'default';
  }

  private get name(): string {
    return this.d.metadata?.name ?? '';
  }

  private fresh(rs: ReplicaSet): ReplicaSet;
  private fresh(rs: ReplicaSet | undefined): ReplicaSet | undefined;
  private fresh(rs: ReplicaSet | undefined): ReplicaSet | undefined {
    return rs === undefined ? undefined : (this.latest.get(rs.metadata?.uid ?? '') ?? rs);
  }

  private remember(rs: ReplicaSet): ReplicaSet {
    const uid = rs.metadata?.uid ?? '';
    if (!this.latest.has(uid)) this.sets.push(rs);
    this.latest.set(uid, rs);
    this.sets = this.sets.map((existing) => (existing.metadata?.uid === uid ? rs : existing));
    return rs;
  }

  private async event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const meta = this.d.metadata;
    await recordEvent(
      this.deps.client,
      { apiVersion: 'apps/v1', kind: 'Deployment', name: meta?.name ?? '', namespace: meta?.namespace, uid: meta?.uid },
      type,
      reason,
      message,
      DEPLOYMENT_COMPONENT,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Entry points (one per branch of syncDeployment)
  // -------------------------------------------------------------------------------------------

  /** A Deployment without a usable selector would select every pod: say so and stop. */
  async selectorRequired(): Promise<void> {
    await this.event('Warning', 'SelectorRequired', 'Selector is empty');
    const generation = this.d.metadata?.generation ?? 0;
    if ((this.d.status?.observedGeneration ?? 0) < generation) await this.writeStatus({ ...this.d.status, observedGeneration: generation });
  }

  /** Being deleted: only report. */
  async statusOnly(): Promise<void> {
    const { newRS, oldSets } = await this.replicaSetsAndRevision(false);
    await this.syncStatus([...oldSets, newRS], newRS);
  }

  /** Paused, or only the replica count changed: scale what exists, start no rollout. */
  async scaleOnly(): Promise<void> {
    const { newRS, oldSets } = await this.replicaSetsAndRevision(false);
    await this.scale(newRS, oldSets);
    if (this.d.spec?.paused) await this.cleanup(oldSets);
    await this.syncStatus([...oldSets, newRS], newRS);
  }

  /** Paused ⇄ resumed shows in Progressing (Unknown), so a resumed rollout does not time out at once. */
  async checkPausedConditions(): Promise<void> {
    if (!hasProgressDeadline(this.d)) return;
    const condition = getCondition(this.d.status?.conditions, 'Progressing');
    if (condition?.reason === REASONS.timedOut) return;
    const pausedShown = condition?.reason === REASONS.paused;
    const now = new Date();
    let next: DeploymentCondition | undefined;
    if (this.d.spec?.paused && !pausedShown) next = newDeploymentCondition('Progressing', 'Unknown', REASONS.paused, 'Deployment is paused', now);
    else if (!this.d.spec?.paused && pausedShown) next = newDeploymentCondition('Progressing', 'Unknown', REASONS.resumed, 'Deployment is resumed', now);
    if (next === undefined) return;
    await this.writeStatus({ ...this.d.status, conditions: setCondition(this.d.status?.conditions, next) });
  }

  /** Whether the replica count changed since the active ReplicaSets were last told it (kube's isScalingEvent). */
  async replicaCountChanged(): Promise<boolean> {
    const { newRS, oldSets } = await this.replicaSetsAndRevision(false);
    return isScalingEvent(this.d, [...oldSets, newRS]);
  }

  async rollingUpdate(): Promise<void> {
    const { newRS, oldSets } = await this.replicaSetsAndRevision(true);
    const created = newRS!;
    const allSets = (): ReplicaSet[] => [...oldSets.map((rs) => this.fresh(rs)), this.fresh(created)];
    if (await this.reconcileNewReplicaSet(allSets(), this.fresh(created))) return this.syncRolloutStatus(allSets(), this.fresh(created));
    if (await this.reconcileOldReplicaSets(allSets(), activeReplicaSets(oldSets.map((rs) => this.fresh(rs))), this.fresh(created))) {
      return this.syncRolloutStatus(allSets(), this.fresh(created));
    }
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanup(oldSets.map((rs) => this.fresh(rs)));
    await this.syncRolloutStatus(allSets(), this.fresh(created));
  }

  async recreate(pods: readonly Pod[]): Promise<void> {
    let { newRS, oldSets } = await this.replicaSetsAndRevision(false);
    const allSets = (): (ReplicaSet | undefined)[] => [...oldSets.map((rs) => this.fresh(rs)), this.fresh(newRS)];
    if (await this.scaleDownOldForRecreate(activeReplicaSets(oldSets))) return this.syncRolloutStatus(allSets(), this.fresh(newRS));
    if (this.oldPodsRunning(this.fresh(newRS), oldSets.map((rs) => this.fresh(rs)), pods)) return this.syncRolloutStatus(allSets(), this.fresh(newRS));
    if (newRS === undefined) ({ newRS, oldSets } = await this.replicaSetsAndRevision(true));
    await this.scaleAndRecord(this.fresh(newRS!), desiredReplicas(this.d));
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanup(oldSets.map((rs) => this.fresh(rs)));
    await this.syncRolloutStatus(allSets(), this.fresh(newRS));
  }

  // -------------------------------------------------------------------------------------------
  // The new ReplicaSet and revisions
  // -------------------------------------------------------------------------------------------

  private async replicaSetsAndRevision(createIfMissing: boolean): Promise<{ newRS: ReplicaSet | undefined; oldSets: ReplicaSet[] }> {
    const sets = this.sets.map((rs) => this.fresh(rs));
    const oldSets = findOldReplicaSets(this.d, sets);
    const newRS = await this.newReplicaSet(sets, oldSets, createIfMissing);
    return { newRS, oldSets };
  }

  private async newReplicaSet(sets: ReplicaSet[], oldSets: ReplicaSet[], createIfMissing: boolean): Promise<ReplicaSet | undefined> {
    const existing = findNewReplicaSet(this.d, sets);
    const newRevision = maxRevision(oldSets) + 1;
    const minReadySeconds = this.d.spec?.minReadySeconds ?? 0;

    if (existing !== undefined) {
      // Found (e.g. after `rollout undo`): it becomes the latest revision again.
      const { annotations, changed } = newReplicaSetAnnotations(this.d, existing, newRevision, true);
      let rs = existing;
      if (changed || (existing.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
        const next = structuredClone(existing) as ReplicaSet & { spec: NonNullable<ReplicaSet['spec']> };
        next.metadata = { ...next.metadata, annotations };
        next.spec.minReadySeconds = minReadySeconds;
        rs = this.remember(await this.deps.client.update<ReplicaSet>(this.rsPath(existing), next));
      }
      await this.setDeploymentRevision(revisionOf(rs));
      if (hasProgressDeadline(this.d) && getCondition(this.d.status?.conditions, 'Progressing') === undefined) {
        const condition = newDeploymentCondition('Progressing', 'True', REASONS.foundNewRS, `Found new replica set "${rs.metadata?.name ?? ''}"`, new Date());
        await this.writeStatus({ ...this.d.status, conditions: setCondition(this.d.status?.conditions, condition) });
      }
      return rs;
    }
    if (!createIfMissing) return undefined;

    const hash = computePodTemplateHash(this.d.spec?.template, this.d.status?.collisionCount);
    const template = structuredClone(this.d.spec?.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = structuredClone(this.d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const draft: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${this.name}-${hash}`,
        namespace: this.namespace,
        ownerReferences: [newControllerRef(this.d, 'apps/v1', 'Deployment')],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds, selector, template },
    };
    const replicas = newRSNewReplicas(this.d, [...oldSets, draft], draft);
    draft.spec!.replicas = replicas;
    draft.metadata!.annotations = newReplicaSetAnnotations(this.d, draft, newRevision, false).annotations;

    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.deps.client.create<ReplicaSet>(`/apis/apps/v1/namespaces/${this.namespace}/replicasets`, draft);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') {
        const found = await this.deps.client.get<ReplicaSet>(this.rsPath(draft));
        if (!isControlledBy(found, this.d.metadata?.uid) || !equalIgnoreHash(found.spec?.template, this.d.spec?.template)) {
          // Someone else's ReplicaSet has this name: a hash collision. A new count gives a new name.
          await this.writeStatus({ ...this.d.status, collisionCount: (this.d.status?.collisionCount ?? 0) + 1 });
          throw new Error(`ReplicaSet ${draft.metadata?.name ?? ''} already exists with another template (hash collision); retrying with collisionCount ${(this.d.status?.collisionCount ?? 0)}`, { cause: err });
        }
        created = found;
        alreadyExisted = true;
      } else {
        if (isNamespaceTerminating(err)) throw err;
        const message = `Failed to create new replica set "${draft.metadata?.name ?? ''}": ${(err as Error).message}`;
        if (hasProgressDeadline(this.d)) {
          const condition = newDeploymentCondition('Progressing', 'False', REASONS.failedRSCreate, message, new Date());
          await this.writeStatus({ ...this.d.status, conditions: setCondition(this.d.status?.conditions, condition) }).catch(() => undefined);
        }
        await this.event('Warning', REASONS.failedRSCreate, message);
        throw err;
      }
    }
    this.remember(created);
    if (!alreadyExisted && replicas > 0) await this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name ?? ''} from 0 to ${replicas}`);
    await this.setDeploymentRevision(newRevision);
    if (!alreadyExisted && hasProgressDeadline(this.d)) {
      const condition = newDeploymentCondition('Progressing', 'True', REASONS.newRSCreated, `Created new replica set "${created.metadata?.name ?? ''}"`, new Date());
      await this.writeStatus({ ...this.d.status, conditions: setCondition(this.d.status?.conditions, condition) });
    }
    return created;
  }

  /** The Deployment's revision annotation follows its new ReplicaSet's (rollout history reads it). */
  private async setDeploymentRevision(revision: number): Promise<void> {
    if (revision <= 0 || this.d.metadata?.annotations?.[REVISION_ANNOTATION] === String(revision)) return;
    const patched = await this.deps.client.patch<Deployment>(
      deploymentPath(this.namespace, this.name),
      { metadata: { annotations: { [REVISION_ANNOTATION]: String(revision) } } },
      'merge',
    );
    // Only the annotation and version are taken: the spec this sync works from stays the one it read.
    this.d = {
      ...this.d,
      metadata: { ...this.d.metadata, annotations: patched.metadata?.annotations, resourceVersion: patched.metadata?.resourceVersion },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Scaling
  // -------------------------------------------------------------------------------------------

  private rsPath(rs: ReplicaSet): string {
    return replicaSetPath(rs.metadata?.namespace ?? this.namespace, rs.metadata?.name ?? '');
  }

  /** Sets spec.replicas and the desired/max annotations; an event when the size changed. */
  private async scaleReplicaSet(rs: ReplicaSet, size: number, direction: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const from = rsReplicas(rs);
    const sizeChanged = from !== size;
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, this.d)) return { scaled: false, rs };
    const next = structuredClone(rs) as ReplicaSet & { spec: NonNullable<ReplicaSet['spec']> };
    next.metadata = { ...next.metadata, annotations: { ...(next.metadata?.annotations ?? {}), ...replicasAnnotations(this.d) } };
    next.spec.replicas = size;
    const updated = this.remember(await this.deps.client.update<ReplicaSet>(this.rsPath(rs), next));
    if (sizeChanged) await this.event('Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${rs.metadata?.name ?? ''} from ${from} to ${size}`);
    return { scaled: sizeChanged, rs: updated };
  }

  private async scaleAndRecord(rs: ReplicaSet, size: number): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (rsReplicas(rs) === size) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, size, rsReplicas(rs) < size ? 'up' : 'down');
  }

  /** A replica count change outside a rollout step (kube's `scale`). */
  private async scale(newRS: ReplicaSet | undefined, oldSets: ReplicaSet[]): Promise<void> {
    const desired = desiredReplicas(this.d);
    const only = findActiveOrLatest(newRS, oldSets);
    if (only !== undefined) {
      if (rsReplicas(only) !== desired) await this.scaleAndRecord(this.fresh(only), desired);
      return;
    }
    if (isSaturated(this.d, newRS)) {
      for (const old of activeReplicaSets(oldSets)) await this.scaleAndRecord(this.fresh(old), 0);
      return;
    }
    if (!isRollingUpdate(this.d)) return;
    // Several ReplicaSets have pods mid-rollout: each keeps its share of the new size.
    for (const { rs, size, direction } of proportionalSizes(this.d, activeReplicaSets([...oldSets, newRS]))) {
      await this.scaleReplicaSet(this.fresh(rs), size, direction);
    }
  }

  /** Grows the new ReplicaSet as far as maxSurge allows (or shrinks it to desired). */
  private async reconcileNewReplicaSet(allSets: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    const desired = desiredReplicas(this.d);
    if (rsReplicas(newRS) === desired) return false;
    if (rsReplicas(newRS) > desired) return (await this.scaleAndRecord(newRS, desired)).scaled;
    return (await this.scaleAndRecord(newRS, newRSNewReplicas(this.d, allSets, newRS))).scaled;
  }

  /** Shrinks old ReplicaSets as far as maxUnavailable allows, unhealthy replicas first. */
  private async reconcileOldReplicaSets(allSets: ReplicaSet[], oldActive: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    if (specReplicaCount(oldActive) === 0) return false;
    const limit = maxScaledDown(this.d, allSets, newRS);
    if (limit <= 0) return false;
    const { sets: cleaned, count: cleanedUp } = await this.cleanupUnhealthyReplicas(oldActive, limit);
    const scaledDown = await this.scaleDownOldForRollingUpdate([...cleaned, newRS], cleaned);
    return cleanedUp + scaledDown > 0;
  }

  /** Old replicas that are not available cost nothing to remove: they go first. */
  private async cleanupUnhealthyReplicas(oldSets: ReplicaSet[], limit: number): Promise<{ sets: ReplicaSet[]; count: number }> {
    const sets = [...oldSets].sort(byCreation);
    let total = 0;
    for (let i = 0; i < sets.length && total < limit; i++) {
      const rs = sets[i]!;
      const unhealthy = rsReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (rsReplicas(rs) === 0 || unhealthy <= 0) continue;
      const count = Math.min(limit - total, unhealthy);
      sets[i] = (await this.scaleAndRecord(rs, rsReplicas(rs) - count)).rs;
      total += count;
    }
    return { sets, count: total };
  }

  private async scaleDownOldForRollingUpdate(allSets: ReplicaSet[], oldSets: ReplicaSet[]): Promise<number> {
    const minAvailable = desiredReplicas(this.d) - maxUnavailable(this.d);
    const available = availableReplicaCount(allSets);
    if (available <= minAvailable) return 0;
    const wanted = available - minAvailable;
    let total = 0;
    for (const rs of [...oldSets].sort(byCreation)) {
      if (total >= wanted) break;
      if (rsReplicas(rs) === 0) continue;
      const count = Math.min(rsReplicas(rs), wanted - total);
      await this.scaleAndRecord(rs, rsReplicas(rs) - count);
      total += count;
    }
    return total;
  }

  private async scaleDownOldForRecreate(oldActive: ReplicaSet[]): Promise<boolean> {
    let scaled = false;
    for (const rs of oldActive) {
      if (rsReplicas(rs) === 0) continue;
      if ((await this.scaleAndRecord(this.fresh(rs), 0)).scaled) scaled = true;
    }
    return scaled;
  }

  /** Recreate waits while any old ReplicaSet reports pods or any old pod has not finished. */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldSets: ReplicaSet[], pods: readonly Pod[]): boolean {
    if (actualReplicaCount(oldSets) > 0) return true;
    const oldUids = new Set(oldSets.map((rs) => rs.metadata?.uid));
    return pods.some((pod) => {
      const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true)?.uid;
      if (owner === undefined || owner === newRS?.metadata?.uid || !oldUids.has(owner)) return false;
      const phase = pod.status?.phase;
      return phase !== 'Succeeded' && phase !== 'Failed';
    });
  }

  /** Deletes old, empty ReplicaSets beyond revisionHistoryLimit. */
  private async cleanup(oldSets: ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(this.d, oldSets)) {
      try {
        await this.deps.client.delete(this.rsPath(rs));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Status
  // -------------------------------------------------------------------------------------------

  private async syncStatus(allSets: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = calculateStatus(allSets.map((rs) => this.fresh(rs)), this.fresh(newRS), this.d, new Date());
    if (canonicalJson(status) === canonicalJson(this.d.status)) return;
    await this.writeStatus(status);
  }

  private async syncRolloutStatus(allSets: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const now = new Date();
    const status = rolloutStatus(allSets.map((rs) => this.fresh(rs)), this.fresh(newRS), this.d, now);
    if (canonicalJson(status) === canonicalJson(this.d.status)) {
      // Nothing moved: come back when the progress deadline would pass.
      const delay = progressCheckDelay(this.d, status, now);
      if (delay !== undefined) this.deps.requeueAfter(delay);
      return;
    }
    await this.writeStatus(status);
  }

  private async writeStatus(status: DeploymentStatus): Promise<void> {
    const updated = await this.deps.client.update<Deployment>(`${deploymentPath(this.namespace, this.name)}/status`, { ...this.d, status });
    this.d = { ...this.d, metadata: { ...this.d.metadata, resourceVersion: updated.metadata?.resourceVersion }, status: updated.status ?? status };
  }
}
