/**
 * What controllers read from a pod's status, as kube's podutil does: active (counts toward a
 * controller's replicas), ready (the Ready condition), available (ready for minReadySeconds).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** Not finished and not being deleted: the pods a ReplicaSet counts as its replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata?.deletionTimestamp === undefined;
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/** When the pod last turned Ready (undefined when not ready or never recorded). */
export function podReadySince(pod: Pod): number | undefined {
  const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready' && condition.status === 'True');
  if (ready?.lastTransitionTime === undefined) return undefined;
  const time = Date.parse(ready.lastTransitionTime);
  return Number.isNaN(time) ? undefined : time;
}

/** Ready, and — with minReadySeconds — ready for longer than that. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/**
 * How long until a ready pod becomes available (0 when it already is, or when waiting will
 * not make it so): controllers look again then, since no pod event marks that moment.
 */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number {
  if (minReadySeconds <= 0 || isPodAvailable(pod, minReadySeconds, nowMs)) return 0;
  const since = podReadySince(pod);
  if (since === undefined || !isPodReady(pod)) return 0;
  return Math.max(1, since + minReadySeconds * 1000 - nowMs + 1);
}

export function maxContainerRestarts(pod: Pod): number {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return statuses.reduce((max, status) => Math.max(max, status.restartCount ?? 0), 0);
}
