/**
 * The PodDisruptionBudget check of pods/eviction (kube's eviction REST storage): an eviction
 * that would take a budget below its desired healthy pods is refused with 429 TooManyRequests
 * (kubectl drain waits and retries); an allowed one decrements disruptionsAllowed and records
 * the pod in status.disruptedPods, so the disruption controller does not count it as healthy
 * while it goes.
 */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { ObjectRegistry } from './objects.js';
import { findResource, type ResourceType } from './resources.js';
import { labelSelectorFromObject, matchesLabels } from './selectors.js';
import { ApiStatusError, forbidden } from './status.js';
import { kubeTime, type KubeObject } from './strategy.js';

const PDB_RESOURCE = findResource('policy', 'v1', 'poddisruptionbudgets')!;
const CONFLICT_RETRIES = 5;
/** Kubernetes' MaxDisruptedPodSize: evictions the controller has not yet seen through. */
const MAX_DISRUPTED_PODS = 2000;
export const EVICTION_REFUSED_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

interface PodFacts {
  metadata: KubeObject['metadata'];
  status?: { phase?: string; conditions?: Array<{ type?: string; status?: string }> };
}

function tooManyRequests(message: string, cause: string): ApiStatusError {
  return new ApiStatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'TooManyRequests',
    code: 429,
    details: { causes: [{ reason: 'DisruptionBudget', message: cause }] },
  });
}

function budgetMatches(pdb: PodDisruptionBudget, labels: Record<string, string> | undefined): boolean {
  // policy/v1: a missing selector selects nothing, an empty one every pod of the namespace.
  if (pdb.spec?.selector === undefined) return false;
  try {
    return matchesLabels(labelSelectorFromObject(pdb.spec.selector), labels);
  } catch {
    return false;
  }
}

const isReady = (pod: PodFacts): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * Throws the Status an eviction of this pod gets when its budget does not allow it, and
 * otherwise takes one disruption from the budget (unless dryRun). Call before deleting.
 */
export async function enforceDisruptionBudgets(registry: ObjectRegistry, pods: ResourceType, namespace: string, name: string, dryRun: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const pod = (await registry.get(pods, namespace, name)) as PodFacts;
    // Pods that are going anyway, finished, or never started disrupt nothing.
    const phase = pod.status?.phase;
    if (pod.metadata.deletionTimestamp !== undefined || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending') return;
    const budgets = ((await registry.list(PDB_RESOURCE, namespace)).items as PodDisruptionBudget[]).filter((pdb) => budgetMatches(pdb, pod.metadata.labels));
    if (budgets.length === 0) return;
    if (budgets.length > 1) {
      throw new ApiStatusError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
        reason: 'InternalError',
        code: 500,
      });
    }
    const pdb = budgets[0]!;
    const status = pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
    if (!isReady(pod)) {
      // An unready pod is not counted healthy: evicting it costs the budget nothing.
      if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return;
      if (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return;
    }
    const pdbName = pdb.metadata?.name ?? '';
    if ((status.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) {
      throw tooManyRequests(EVICTION_REFUSED_MESSAGE, `The disruption budget ${pdbName} is still being processed by the server.`);
    }
    if (status.disruptionsAllowed < 0) throw forbidden(PDB_RESOURCE, pdbName, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
      throw forbidden(PDB_RESOURCE, pdbName, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (status.disruptionsAllowed === 0) {
      throw tooManyRequests(
        EVICTION_REFUSED_MESSAGE,
        `The disruption budget ${pdbName} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
      );
    }
    if (dryRun) return;
    const now = kubeTime(new Date());
    const next = structuredClone(pdb) as PodDisruptionBudget & KubeObject;
    const nextStatus = { ...status, disruptionsAllowed: status.disruptionsAllowed - 1, disruptedPods: { ...status.disruptedPods, [name]: now } };
    if (nextStatus.disruptionsAllowed === 0) {
      nextStatus.conditions = [
        ...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed'),
        { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: status.observedGeneration ?? 0, lastTransitionTime: now },
      ];
    }
    next.status = nextStatus;
    try {
      // The resourceVersion read makes this a compare-and-swap: two evictions cannot both take the last disruption.
      await registry.update(PDB_RESOURCE, namespace, pdbName, next, { subresource: 'status' });
      return;
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.status.reason === 'Conflict' && attempt < CONFLICT_RETRIES)) throw err;
    }
  }
}
