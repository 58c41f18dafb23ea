/**
 * The disruption controller: keeps each PodDisruptionBudget's status — expected pods,
 * desired and current healthy pods, disruptions allowed, the DisruptionAllowed condition —
 * from its pods and their controllers' scale, and forgets evictions (status.disruptedPods)
 * once their pods are gone or after two minutes. The eviction subresource
 * (apiserver/disruption-budget.ts) spends what this computes.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { objectKey } from '../../shared/api-client.js';
import type { ControllerContext } from './context.js';
import { canonicalJson } from './hash.js';
import { controllerRefOf } from './owner.js';
import { isPodReady } from './pod-state.js';
import { WorkQueue } from './work-queue.js';
import { kubeTime, scaledValue, selectorMatches } from './workload-pods.js';

/** Kubernetes' DeletionTimeout: an eviction not followed by the pod's deletion within this is forgotten. */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

export interface DisruptionOptions {
  now?: () => Date;
}

/** The scale of the controller of a pod: its uid (to count each controller once) and replicas. */
export type ScaleLookup = (pod: Pod) => { uid: string; replicas: number } | undefined;

export class NoScaleError extends Error {}

/** expectedPods and desiredHealthy (kube's getExpectedPodCount). Throws NoScaleError when a controller has no scale. */
export function expectedAndDesired(pdb: PodDisruptionBudget, pods: Pod[], scaleOf: ScaleLookup): { expected: number; desired: number } {
  const expectedScale = (): number => {
    const scales = new Map<string, number>();
    for (const pod of pods) {
      const ref = controllerRefOf(pod);
      if (!ref) continue; // unmanaged pods do not add to the expected scale
      const scale = scaleOf(pod);
      if (!scale) throw new NoScaleError(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
      scales.set(scale.uid, scale.replicas);
    }
    return [...scales.values()].reduce((sum, replicas) => sum + replicas, 0);
  };
  const { maxUnavailable, minAvailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined) {
    const expected = expectedScale();
    return { expected, desired: Math.max(0, expected - scaledValue(maxUnavailable, expected, true)) };
  }
  if (typeof minAvailable === 'number') return { expected: pods.length, desired: minAvailable };
  if (typeof minAvailable === 'string') {
    const expected = expectedScale();
    return { expected, desired: scaledValue(minAvailable, expected, true) };
  }
  return { expected: pods.length, desired: 0 };
}

/** The status for a budget, given its pods (already selected) and the time. */
export function budgetStatus(
  pdb: PodDisruptionBudget,
  pods: Pod[],
  scaleOf: ScaleLookup,
  now: Date,
): { status: PodDisruptionBudgetStatus; recheckAfterMs?: number } {
  const previous = pdb.status;
  const generation = pdb.metadata?.generation ?? 0;
  const byName = new Map(pods.map((pod) => [pod.metadata?.name ?? '', pod]));
  // Evictions still in flight: the pod exists, is not yet being deleted, and the record is recent.
  const disruptedPods: Record<string, string> = {};
  let recheckAfterMs: number | undefined;
  for (const [name, time] of Object.entries(previous?.disruptedPods ?? {})) {
    const pod = byName.get(name);
    const expiresMs = Date.parse(time) + DISRUPTED_POD_TIMEOUT_MS;
    if (!pod || pod.metadata?.deletionTimestamp || expiresMs <= now.getTime()) continue;
    disruptedPods[name] = time;
    recheckAfterMs = Math.min(recheckAfterMs ?? Infinity, expiresMs - now.getTime());
  }
  const conditionFor = (status: 'True' | 'False', reason: string, message: string): Condition => {
    const old = previous?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const lastTransitionTime = old && old.status === status ? old.lastTransitionTime : kubeTime(now);
    return { type: 'DisruptionAllowed', status, reason, message, observedGeneration: generation, lastTransitionTime };
  };
  let counts: { expected: number; desired: number };
  try {
    counts = expectedAndDesired(pdb, pods, scaleOf);
  } catch (err) {
    if (!(err instanceof NoScaleError)) throw err;
    return {
      status: {
        currentHealthy: previous?.currentHealthy ?? 0,
        desiredHealthy: previous?.desiredHealthy ?? 0,
        expectedPods: previous?.expectedPods ?? 0,
        disruptionsAllowed: 0,
        observedGeneration: generation,
        conditions: [conditionFor('False', 'SyncFailed', err.message)],
      },
    };
  }
  const currentHealthy = pods.filter((pod) => !pod.metadata?.deletionTimestamp && !((pod.metadata?.name ?? "") in disruptedPods) && isPodReady(pod)).length;
  const allowed = counts.expected <= 0 ? 0 : Math.max(0, currentHealthy - counts.desired);
  const status: PodDisruptionBudgetStatus = {
    currentHealthy,
    desiredHealthy: counts.desired,
    expectedPods: counts.expected,
    disruptionsAllowed: allowed,
    observedGeneration: generation,
    conditions: [allowed > 0 ? conditionFor('True', 'SufficientPods', '') : conditionFor('False', 'InsufficientPods', '')],
  };
  if (Object.keys(disruptedPods).length > 0) status.disruptedPods = disruptedPods;
  return { status, ...(recheckAfterMs !== undefined ? { recheckAfterMs } : {}) };
}

export function setupDisruptionController(ctx: ControllerContext, opts: DisruptionOptions = {}): () => Promise<void> {
  const budgets = ctx.informer<PodDisruptionBudget>('/apis/policy/v1/poddisruptionbudgets');
  const pods = ctx.informer<Pod>('/api/v1/pods');
  const replicaSets = ctx.informer<ReplicaSet>('/apis/apps/v1/replicasets');
  const deployments = ctx.informer<Deployment>('/apis/apps/v1/deployments');
  const queue = new WorkQueue('disruption', { log: ctx.log });
  const now = opts.now ?? (() => new Date());

  const enqueueFor = (pod: Pod): void => {
    for (const pdb of budgets.list()) {
      if (pdb.metadata?.namespace === pod.metadata?.namespace && selectorMatches(pdb.spec?.selector, pod.metadata?.labels)) queue.add(objectKey(pdb));
    }
  };
  const enqueueNamespace = (obj: { metadata?: { namespace?: string } }): void => {
    for (const pdb of budgets.list()) if (pdb.metadata?.namespace === obj.metadata?.namespace) queue.add(objectKey(pdb));
  };
  budgets.onAdd((pdb) => queue.add(objectKey(pdb))).onUpdate((pdb) => queue.add(objectKey(pdb)));
  pods
    .onAdd(enqueueFor)
    .onUpdate((pod, old) => {
      enqueueFor(pod);
      enqueueFor(old);
    })
    .onDelete(enqueueFor);
  for (const informer of [replicaSets, deployments] as const) informer.onAdd(enqueueNamespace).onUpdate(enqueueNamespace).onDelete(enqueueNamespace);

  /** ReplicaSets count with their Deployment's replicas when they have one (kube's finders). */
  const scaleOf: ScaleLookup = (pod) => {
    const ref = controllerRefOf(pod);
    const namespace = pod.metadata?.namespace ?? '';
    if (ref?.kind !== 'ReplicaSet') return undefined;
    const rs = replicaSets.get(`${namespace}/${ref.name}`);
    if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
    const owner = controllerRefOf(rs);
    if (owner?.kind === 'Deployment') {
      const deployment = deployments.get(`${namespace}/${owner.name}`);
      if (deployment && deployment.metadata?.uid === owner.uid) return { uid: owner.uid, replicas: deployment.spec?.replicas ?? 1 };
      return undefined;
    }
    return { uid: ref.uid, replicas: rs.spec?.replicas ?? 1 };
  };

  const sync = async (key: string): Promise<void> => {
    const pdb = budgets.get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const selected = pods.list().filter((pod) => pod.metadata?.namespace === pdb.metadata?.namespace && selectorMatches(pdb.spec?.selector, pod.metadata?.labels));
    const { status, recheckAfterMs } = budgetStatus(pdb, selected, scaleOf, now());
    if (canonicalJson(status) !== canonicalJson(pdb.status ?? {})) {
      // PUT with the resourceVersion read: an eviction that spent a disruption meanwhile makes this retry.
      await ctx.client.update(`/apis/policy/v1/namespaces/${pdb.metadata?.namespace}/poddisruptionbudgets/${pdb.metadata?.name}/status`, { ...pdb, status });
    }
    if (recheckAfterMs !== undefined) queue.addAfter(key, recheckAfterMs + 50);
  };

  return () => queue.run(sync, ctx.signal, 2);
}
