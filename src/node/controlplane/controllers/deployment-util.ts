/**
 * The Deployment controller's arithmetic and bookkeeping, as pure functions (kube's
 * pkg/controller/deployment/util): surge/unavailable fenceposts, how far the new ReplicaSet
 * may grow, proportional shares when a Deployment is scaled mid-rollout, revisions and the
 * annotations ReplicaSets carry, and the status with its Progressing/Available conditions.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { getCondition, kubeTimestamp, removeCondition, setCondition } from './conditions.js';
import { canonicalJson } from './hash.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
/** kube-controller-manager's limit on revision-history (in characters). */
export const MAX_REVISION_HISTORY_CHARS = 2000;

/** Condition reasons, as kubectl and learners see them. */
export const REASONS = {
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  failedRSCreate: 'ReplicaSetCreateError',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** progressDeadlineSeconds or revisionHistoryLimit at MaxInt32 means "no limit". */
const UNLIMITED = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// Spec with the API defaults (the server sets them; read them the same way if it did not)
// ---------------------------------------------------------------------------------------------

export function desiredReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function hasProgressDeadline(d: Deployment): boolean {
  const seconds = d.spec?.progressDeadlineSeconds ?? 600;
  return seconds !== UNLIMITED;
}

export function progressDeadlineSeconds(d: Deployment): number {
  return d.spec?.progressDeadlineSeconds ?? 600;
}

export function revisionHistoryLimit(d: Deployment): number | undefined {
  const limit = d.spec?.revisionHistoryLimit ?? 10;
  return limit === UNLIMITED ? undefined : limit;
}

export function rsReplicas(rs: ReplicaSet | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

// ---------------------------------------------------------------------------------------------
// maxSurge / maxUnavailable
// ---------------------------------------------------------------------------------------------

/** An int-or-percent against `total`: percents round up (surge) or down (unavailable). */
export function scaledValue(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(-?\d+)%$/.exec(value.trim());
  if (!match) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage (${JSON.stringify(value)})`);
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * Surge and unavailable in pods for `desired` replicas. Both rounding to 0 (e.g. 25% of 1
 * unavailable) would stall a rollout, so unavailable becomes 1 then, as in Kubernetes.
 */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const rolling = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(rolling?.maxSurge ?? '25%', rolling?.maxUnavailable ?? '25%', desiredReplicas(d));
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d).unavailable, desired);
}

// ---------------------------------------------------------------------------------------------
// Counting over ReplicaSets
// ---------------------------------------------------------------------------------------------

type MaybeRS = ReplicaSet | undefined;

export function specReplicaCount(sets: readonly MaybeRS[]): number {
  return sets.reduce((sum, rs) => sum + rsReplicas(rs), 0);
}

export function actualReplicaCount(sets: readonly MaybeRS[]): number {
  return sets.reduce((sum, rs) => sum + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicaCount(sets: readonly MaybeRS[]): number {
  return sets.reduce((sum, rs) => sum + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(sets: readonly MaybeRS[]): number {
  return sets.reduce((sum, rs) => sum + (rs?.status?.availableReplicas ?? 0), 0);
}

/** ReplicaSets that should have pods (spec.replicas > 0). */
export function activeReplicaSets(sets: readonly MaybeRS[]): ReplicaSet[] {
  return sets.filter((rs): rs is ReplicaSet => rs !== undefined && rsReplicas(rs) > 0);
}

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

function createdAt(rs: ReplicaSet): number {
  const time = Date.parse(rs.metadata?.creationTimestamp ?? '');
  return Number.isNaN(time) ? 0 : time;
}

/** Oldest first; the name breaks ties. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const diff = createdAt(a) - createdAt(b);
  if (diff !== 0) return diff;
  const nameA = a.metadata?.name ?? '';
  const nameB = b.metadata?.name ?? '';
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

/** Largest first; equal sizes oldest first (where to take replicas from). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(a, b);
}

/** Largest first; equal sizes newest first (where to add replicas). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(b, a);
}

/** Lowest revision first; equal revisions oldest first. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

// ---------------------------------------------------------------------------------------------
// Templates and revisions
// ---------------------------------------------------------------------------------------------

function withoutHashLabel(template: PodTemplateSpec | undefined): unknown {
  const copy = structuredClone(template ?? {});
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return copy;
}

/** The templates are the same apart from the pod-template-hash label (nil and empty alike). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(withoutHashLabel(a)) === canonicalJson(withoutHashLabel(b));
}

/** The oldest ReplicaSet whose template is the Deployment's: the "new" one. */
export function findNewReplicaSet(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one. */
export function findOldReplicaSets(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet[] {
  const newRS = findNewReplicaSet(d, sets);
  return sets.filter((rs) => newRS === undefined || rs.metadata?.uid !== newRS.metadata?.uid);
}

/** The revision annotation as a number (0 when absent or unreadable). */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const text = obj?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (text === undefined || !/^\d+$/.test(text)) return 0;
  return Number(text);
}

export function maxRevision(sets: readonly ReplicaSet[]): number {
  return sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** Deployment annotations a ReplicaSet does not inherit (they describe the Deployment itself). */
const NOT_COPIED_ANNOTATIONS = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

/**
 * The new ReplicaSet's annotations for `newRevision`: the Deployment's own (change-cause
 * included), the revision raised when it is lower (a rollback: the old number goes to
 * revision-history), and — for a ReplicaSet about to be created — desired/max replicas.
 */
export function newReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: number,
  exists: boolean,
  historyLimitChars: number = MAX_REVISION_HISTORY_CHARS,
): { annotations: Record<string, string>; changed: boolean } {
  const annotations: Record<string, string> = { ...(rs.metadata?.annotations ?? {}) };
  let changed = false;
  for (const [key, value] of Object.entries(d.metadata?.annotations ?? {})) {
    if (NOT_COPIED_ANNOTATIONS.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const oldRevisionText = annotations[REVISION_ANNOTATION];
  if (oldRevisionText !== undefined && !/^\d+$/.test(oldRevisionText)) return { annotations, changed };
  const oldRevision = oldRevisionText === undefined ? 0 : Number(oldRevisionText);
  if (oldRevision < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldRevisionText !== undefined) {
      const history = appendRevisionHistory(annotations[REVISION_HISTORY_ANNOTATION], oldRevisionText, historyLimitChars);
      if (history !== undefined) annotations[REVISION_HISTORY_ANNOTATION] = history;
    }
  }
  if (!exists) {
    const replicas = replicasAnnotations(d);
    for (const [key, value] of Object.entries(replicas)) {
      if (annotations[key] !== value) {
        annotations[key] = value;
        changed = true;
      }
    }
  }
  return { annotations, changed };
}

/** "1,3" + "4" → "1,3,4", dropping the oldest entries past the limit; undefined when it cannot fit. */
export function appendRevisionHistory(history: string | undefined, revision: string, limitChars: number): string | undefined {
  const entries = history ? history.split(',') : [];
  if (entries.length === 0) return revision;
  let total = history!.length + revision.length + 1;
  let start = 0;
  while (total > limitChars && start < entries.length) {
    total -= entries[start]!.length + 1;
    start += 1;
  }
  if (total > limitChars) return undefined;
  return [...entries.slice(start), revision].join(',');
}

/** desired-replicas and max-replicas, as the Deployment sees them now. */
export function replicasAnnotations(d: Deployment): Record<string, string> {
  const desired = desiredReplicas(d);
  return { [DESIRED_REPLICAS_ANNOTATION]: String(desired), [MAX_REPLICAS_ANNOTATION]: String(desired + maxSurge(d)) };
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, d: Deployment): boolean {
  const wanted = replicasAnnotations(d);
  return Object.entries(wanted).some(([key, value]) => rs.metadata?.annotations?.[key] !== value);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const text = rs.metadata?.annotations?.[key];
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Scaling decisions
// ---------------------------------------------------------------------------------------------

/** How many replicas the new ReplicaSet may have now (rolling: within surge; recreate: all). */
export function newRSNewReplicas(d: Deployment, allSets: readonly MaybeRS[], newRS: ReplicaSet): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d)) return desired;
  const maxTotal = desired + scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
  const current = specReplicaCount(allSets);
  if (current >= maxTotal) return rsReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, desired - rsReplicas(newRS));
  return rsReplicas(newRS) + scaleUp;
}

/**
 * How far old ReplicaSets may shrink now, without going below desired − maxUnavailable
 * available pods (counting the new ReplicaSet's unavailable pods as lost).
 */
export function maxScaledDown(d: Deployment, allSets: readonly MaybeRS[], newRS: ReplicaSet): number {
  const minAvailable = desiredReplicas(d) - maxUnavailable(d);
  const newRSUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  return specReplicaCount(allSets) - minAvailable - newRSUnavailable;
}

/** The new ReplicaSet has all the replicas, knows it, and they are all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (rs === undefined) return false;
  const desired = intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
  if (desired === undefined) return false;
  const want = desiredReplicas(d);
  return rsReplicas(rs) === want && desired === want && (rs.status?.availableReplicas ?? 0) === want;
}

/** The only ReplicaSet with replicas, or the newest one when none has any; undefined when several do. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (newRS === undefined && oldSets.length === 0) return undefined;
  const newestFirst = [...oldSets].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/** Go's math.Round: halves away from zero. */
function roundHalfAway(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}

/** The change a ReplicaSet's share of a Deployment's new size asks for. */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const desired = desiredReplicas(d);
  if (desired === 0) return -rsReplicas(rs);
  const maxNow = desired + maxSurge(d);
  let maxBefore = intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
  if (maxBefore === undefined || maxBefore === 0) maxBefore = d.status?.replicas ?? 0;
  if (maxBefore === 0) return 0; // nothing to be proportional to (Kubernetes would divide by zero)
  return roundHalfAway((rsReplicas(rs) * maxNow) / maxBefore) - rsReplicas(rs);
}

/** This ReplicaSet's part of `toAdd` (negative: to remove), never beyond what is left of it. */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * New sizes when a Deployment with several active ReplicaSets is scaled (rolling update):
 * the difference to desired + maxSurge is shared in proportion to their sizes, the rounding
 * leftover going to the largest. Returns [ReplicaSet, new size] in the order to apply them.
 */
export function proportionalSizes(d: Deployment, active: readonly ReplicaSet[]): { rs: ReplicaSet; size: number; direction: 'up' | 'down' | '' }[] {
  const desired = desiredReplicas(d);
  const allowedSize = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowedSize - specReplicaCount(active);
  const direction = toAdd > 0 ? 'up' : toAdd < 0 ? 'down' : '';
  const ordered = [...active].sort(toAdd > 0 ? bySizeNewer : bySizeOlder);
  let added = 0;
  const sizes = ordered.map((rs) => {
    const share = proportion(rs, d, toAdd, added);
    added += share;
    return rsReplicas(rs) + share;
  });
  if (ordered.length > 0 && toAdd !== 0) sizes[0] = Math.max(0, sizes[0]! + toAdd - added);
  return ordered.map((rs, i) => ({ rs, size: sizes[i]!, direction }));
}

/** A Deployment whose replica count changed since its active ReplicaSets were annotated. */
export function isScalingEvent(d: Deployment, allSets: readonly MaybeRS[]): boolean {
  return activeReplicaSets(allSets).some((rs) => {
    const desired = intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
    return desired !== undefined && desired !== desiredReplicas(d);
  });
}

/** Old ReplicaSets the history limit lets go: empty ones beyond the newest `limit`, lowest revision first. */
export function replicaSetsToCleanUp(d: Deployment, oldSets: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = revisionHistoryLimit(d);
  if (limit === undefined) return [];
  const alive = oldSets.filter((rs) => rs.metadata?.deletionTimestamp === undefined);
  const excess = alive.length - limit;
  if (excess <= 0) return [];
  return [...alive]
    .sort(byRevision)
    .slice(0, excess)
    .filter((rs) => (rs.status?.replicas ?? 0) === 0 && rsReplicas(rs) === 0 && (rs.metadata?.generation ?? 0) <= (rs.status?.observedGeneration ?? 0));
}

// ---------------------------------------------------------------------------------------------
// Status and conditions
// ---------------------------------------------------------------------------------------------

export function newDeploymentCondition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: Date): DeploymentCondition {
  const time = kubeTimestamp(now);
  return { type, status, reason, message, lastUpdateTime: time, lastTransitionTime: time };
}

/** Counts over the ReplicaSets, the collision count kept, and the Available condition. */
export function calculateStatus(allSets: readonly MaybeRS[], newRS: ReplicaSet | undefined, d: Deployment, now: Date): DeploymentStatus {
  const available = availableReplicaCount(allSets);
  const unavailable = Math.max(0, specReplicaCount(allSets) - available);
  // Zero counts are left out, as Kubernetes' JSON (omitempty) leaves them out.
  const status: DeploymentStatus = omitZeros({
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allSets),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allSets),
    availableReplicas: available,
    unavailableReplicas: unavailable,
  });
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  status.conditions = [...(d.status?.conditions ?? [])];
  const condition =
    available >= desiredReplicas(d) - maxUnavailable(d)
      ? newDeploymentCondition('Available', 'True', REASONS.minimumAvailable, 'Deployment has minimum availability.', now)
      : newDeploymentCondition('Available', 'False', REASONS.minimumUnavailable, 'Deployment does not have minimum availability.', now);
  status.conditions = setCondition(status.conditions, condition);
  return status;
}

/** The counts that are not 0 (the API leaves zero counts out of workload status). */
export function omitZeros<T extends Record<string, number>>(counts: T): Partial<T> {
  return Object.fromEntries(Object.entries(counts).filter(([, value]) => value !== 0)) as Partial<T>;
}

/** Every replica updated and available, and the controller has seen the latest spec. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const desired = desiredReplicas(d);
  return (
    (status.updatedReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/** Something moved since the stored status: more updated, fewer old, more ready or available. */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** The last progress is older than progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(status.conditions, 'Progressing');
  if (condition === undefined || condition.reason === REASONS.newRSAvailable) return false;
  if (condition.reason === REASONS.timedOut) return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return false;
  return from + progressDeadlineSeconds(d) * 1000 < now.getTime();
}

/**
 * The status after a rollout step: counts, Available, and Progressing — NewReplicaSetAvailable
 * when complete, ReplicaSetUpdated while it moves (lastUpdateTime renewed),
 * ProgressDeadlineExceeded when it has not moved for the deadline — plus the ReplicaSets'
 * ReplicaFailure condition.
 */
export function rolloutStatus(allSets: readonly MaybeRS[], newRS: ReplicaSet | undefined, d: Deployment, now: Date): DeploymentStatus {
  const status = calculateStatus(allSets, newRS, d, now);
  if (!hasProgressDeadline(d)) status.conditions = removeCondition(status.conditions, 'Progressing');
  const current = getCondition(d.status?.conditions, 'Progressing');
  const alreadyComplete = status.replicas === status.updatedReplicas && current?.reason === REASONS.newRSAvailable;
  if (hasProgressDeadline(d) && !alreadyComplete) {
    const subject = newRS ? `ReplicaSet "${newRS.metadata?.name ?? ''}"` : `Deployment "${d.metadata?.name ?? ''}"`;
    if (deploymentComplete(d, status)) {
      status.conditions = setCondition(status.conditions, newDeploymentCondition('Progressing', 'True', REASONS.newRSAvailable, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(d, status)) {
      const condition = newDeploymentCondition('Progressing', 'True', REASONS.rsUpdated, `${subject} is progressing.`, now);
      // Progress renews lastUpdateTime even when the reason stays the same.
      if (current?.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
      status.conditions = [...removeCondition(status.conditions, 'Progressing'), condition];
    } else if (deploymentTimedOut(d, status, now)) {
      status.conditions = setCondition(status.conditions, newDeploymentCondition('Progressing', 'False', REASONS.timedOut, `${subject} has timed out progressing.`, now));
    }
  }
  const failure = replicaFailure(allSets, newRS);
  status.conditions = failure ? setCondition(status.conditions, failure) : removeCondition(status.conditions, 'ReplicaFailure');
  return status;
}

/** The new ReplicaSet's ReplicaFailure condition (else an old one's) as a Deployment condition. */
export function replicaFailure(allSets: readonly MaybeRS[], newRS: ReplicaSet | undefined): DeploymentCondition | undefined {
  const from = (rs: MaybeRS) => rs?.status?.conditions?.find((condition) => condition.type === 'ReplicaFailure');
  const found = from(newRS) ?? allSets.map(from).find((condition) => condition !== undefined);
  if (found === undefined) return undefined;
  return {
    type: found.type,
    status: found.status,
    reason: found.reason,
    message: found.message,
    lastUpdateTime: found.lastTransitionTime,
    lastTransitionTime: found.lastTransitionTime,
  };
}

/**
 * When to look at a stalled rollout again to notice its deadline (ms from now), or undefined
 * when there is nothing to watch for (no deadline, complete, or already timed out).
 */
export function progressCheckDelay(d: Deployment, status: DeploymentStatus, now: Date): number | undefined {
  const current = getCondition(d.status?.conditions, 'Progressing');
  if (!hasProgressDeadline(d) || current === undefined) return undefined;
  if (deploymentComplete(d, status) || current.reason === REASONS.timedOut) return undefined;
  const lastUpdate = Date.parse(current.lastUpdateTime ?? '');
  if (Number.isNaN(lastUpdate)) return undefined;
  const after = lastUpdate + progressDeadlineSeconds(d) * 1000 - now.getTime();
  // A second past the deadline: timestamps are whole seconds and timers may fire early.
  return Math.max(0, after) + 1000;
}
