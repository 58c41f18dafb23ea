/**
 * Which pods a ReplicaSet deletes first when it has too many, in Kubernetes' order
 * (controller.ActivePodsWithRanks): pods that cost least to lose go first — unscheduled,
 * then pending, not ready, cheap by `controller.kubernetes.io/pod-deletion-cost`, sharing a
 * node with more of their siblings, ready for the shortest time, restarting most, newest.
 * Ages are compared on a log2 scale (LogarithmicScaleDown): pods of about the same age are
 * ordered by uid, so repeated scale-downs do not always pick the same spot.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive, isPodReady, maxContainerRestarts, podReadySince } from './pod-state.js';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** The deletion-cost annotation as an int32; anything unreadable counts as 0, as in Kubernetes. */
export function podDeletionCost(pod: Pod): number {
  const text = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (text === undefined || !/^[+-]?\d+$/.test(text.trim())) return 0;
  const cost = Number(text.trim());
  return cost >= -(2 ** 31) && cost <= 2 ** 31 - 1 ? cost : 0;
}

/** floor(log2(age in ns)) of each time, subtracted: 0 when the two are about equally old. */
export function logarithmicRankDiff(timeA: number, timeB: number, nowMs: number): number {
  const bucket = (time: number): number => {
    const ageNs = (nowMs - time) * 1e6;
    return ageNs > 0 ? Math.floor(Math.log2(ageNs)) : -1;
  };
  return bucket(timeA) - bucket(timeB);
}

/** Compares two times where the later (or a missing) one sorts first; undefined when equal. */
function laterFirst(a: number | undefined, b: number | undefined, uidA: string, uidB: string, nowMs: number): number | undefined {
  if (a === b) return undefined;
  if (a === undefined || b === undefined) return a === undefined ? -1 : 1;
  const rankDiff = logarithmicRankDiff(a, b, nowMs);
  if (rankDiff === 0) return uidA < uidB ? -1 : uidA > uidB ? 1 : 0;
  return rankDiff;
}

function creationTime(pod: Pod): number | undefined {
  const text = pod.metadata?.creationTimestamp;
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

export interface RankedPod {
  pod: Pod;
  /** Active sibling pods on the same node (more = deleted sooner). */
  rank: number;
}

/** Negative when `a` should be deleted before `b`. */
export function compareForDeletion(a: RankedPod, b: RankedPod, nowMs: number): number {
  const nodeA = a.pod.spec?.nodeName ?? '';
  const nodeB = b.pod.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '' ? -1 : 1;

  const phaseA = PHASE_ORDER[a.pod.status?.phase ?? ''] ?? 0;
  const phaseB = PHASE_ORDER[b.pod.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;

  const readyA = isPodReady(a.pod);
  const readyB = isPodReady(b.pod);
  if (readyA !== readyB) return readyA ? 1 : -1;

  const costA = podDeletionCost(a.pod);
  const costB = podDeletionCost(b.pod);
  if (costA !== costB) return costA - costB;

  if (a.rank !== b.rank) return b.rank - a.rank;

  const uidA = a.pod.metadata?.uid ?? '';
  const uidB = b.pod.metadata?.uid ?? '';
  if (readyA && readyB) {
    const byReadyTime = laterFirst(podReadySince(a.pod), podReadySince(b.pod), uidA, uidB, nowMs);
    if (byReadyTime !== undefined && byReadyTime !== 0) return byReadyTime;
  }

  const restartsA = maxContainerRestarts(a.pod);
  const restartsB = maxContainerRestarts(b.pod);
  if (restartsA !== restartsB) return restartsB - restartsA;

  return laterFirst(creationTime(a.pod), creationTime(b.pod), uidA, uidB, nowMs) ?? 0;
}

/**
 * The `count` pods of `candidates` to delete. `related` are the active pods of the owner's
 * whole family (e.g. every ReplicaSet of one Deployment), to spread what stays across nodes.
 */
export function podsToDelete(candidates: Pod[], related: Pod[], count: number, nowMs: number = Date.now()): Pod[] {
  if (count >= candidates.length) return [...candidates];
  const perNode = new Map<string, number>();
  for (const pod of related) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked: RankedPod[] = candidates.map((pod) => ({ pod, rank: perNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => compareForDeletion(a, b, nowMs));
  return ranked.slice(0, count).map((entry) => entry.pod);
}
