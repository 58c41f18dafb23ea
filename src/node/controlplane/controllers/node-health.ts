/**
 * The pure half of the node lifecycle controller: which conditions a silent node gets, which
 * taints a node's conditions call for, and when a NoExecute taint evicts a pod (kube's
 * node lifecycle controller and its taint eviction manager).
 */
import type { Node, NodeCondition, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, toleratesTaint } from '../scheduler/predicates.js';
import { kubeTime } from './workload-pods.js';

export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** The taint keys this controller owns; any other taint on a node is left alone. */
const MANAGED_TAINT_KEYS = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE, TAINT_PID_PRESSURE, TAINT_NETWORK_UNAVAILABLE]);

/** The conditions that turn Unknown when the node agent goes silent. */
const AGENT_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export function readyStatus(node: Node): 'True' | 'False' | 'Unknown' {
  const status = node.status?.conditions?.find((condition) => condition.type === 'Ready')?.status;
  return status === 'True' || status === 'False' ? status : 'Unknown';
}

/**
 * The node's conditions once its agent has stopped posting status: each of Ready and the
 * pressures Unknown (heartbeat kept, transition time now when it changes), or undefined
 * when they already are.
 */
export function silentNodeConditions(node: Node, now: Date): NodeCondition[] | undefined {
  const conditions = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of AGENT_CONDITIONS) {
    const index = conditions.findIndex((condition) => condition.type === type);
    const existing = index >= 0 ? conditions[index] : undefined;
    if (existing?.status === 'Unknown') continue;
    changed = true;
    const condition: NodeCondition = existing
      ? { ...existing, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: kubeTime(now) }
      : { type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata?.creationTimestamp ?? kubeTime(now), lastTransitionTime: kubeTime(now) };
    if (index >= 0) conditions[index] = condition;
    else conditions.push(condition);
  }
  return changed ? conditions : undefined;
}

/** The managed taints a node should carry, from its conditions and spec.unschedulable. */
function wantedTaints(node: Node): Taint[] {
  const wanted: Taint[] = [];
  const status = (type: string): string | undefined => node.status?.conditions?.find((condition) => condition.type === type)?.status;
  const ready = readyStatus(node);
  if (ready !== 'True') {
    const key = ready === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
    wanted.push({ key, effect: 'NoSchedule' }, { key, effect: 'NoExecute' });
  }
  if (status('MemoryPressure') === 'True') wanted.push({ key: TAINT_MEMORY_PRESSURE, effect: 'NoSchedule' });
  if (status('DiskPressure') === 'True') wanted.push({ key: TAINT_DISK_PRESSURE, effect: 'NoSchedule' });
  if (status('PIDPressure') === 'True') wanted.push({ key: TAINT_PID_PRESSURE, effect: 'NoSchedule' });
  if (status('NetworkUnavailable') === 'True') wanted.push({ key: TAINT_NETWORK_UNAVAILABLE, effect: 'NoSchedule' });
  if (node.spec?.unschedulable === true) wanted.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return wanted;
}

/**
 * The node's taints with the managed ones made to match its state (existing ones kept as
 * they are, so NoExecute timeAdded stays), or undefined when nothing changes.
 */
export function reconcileTaints(node: Node, now: Date): Taint[] | undefined {
  const current = node.spec?.taints ?? [];
  const wanted = wantedTaints(node);
  const same = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;
  const kept = current.filter((taint) => !MANAGED_TAINT_KEYS.has(taint.key) || wanted.some((w) => same(w, taint)));
  const added = wanted
    .filter((w) => !current.some((taint) => same(taint, w)))
    .map((taint) => (taint.effect === 'NoExecute' ? { ...taint, timeAdded: kubeTime(now) } : taint));
  if (added.length === 0 && kept.length === current.length) return undefined;
  return [...kept, ...added];
}

export type EvictionDecision = { kind: 'never' } | { kind: 'now'; taint?: Taint } | { kind: 'at'; at: Date };

/**
 * When the NoExecute taints of a pod's node evict it: at once for a taint it does not
 * tolerate; otherwise after the shortest tolerationSeconds among the tolerations used (the
 * first matching one per taint), counted from when the taint (or the pod, if later) appeared.
 * A taint without timeAdded (added by hand) counts from `untimedSinceMs`, when the
 * controller first saw it.
 */
export function podEviction(pod: Pod, taints: Taint[], untimedSinceMs: number): EvictionDecision {
  const noExecute = taints.filter((taint) => taint.effect === 'NoExecute');
  if (noExecute.length === 0) return { kind: 'never' };
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  let minSeconds = Infinity;
  for (const taint of noExecute) {
    const used = tolerations.find((toleration) => toleratesTaint(toleration, taint));
    if (!used) return { kind: 'now', taint };
    if (used.tolerationSeconds !== undefined && used.tolerationSeconds !== null) minSeconds = Math.min(minSeconds, Math.max(0, used.tolerationSeconds));
  }
  if (minSeconds === Infinity) return { kind: 'never' };
  const taintedSince = Math.min(...noExecute.map((taint) => (taint.timeAdded ? Date.parse(taint.timeAdded) : NaN) || untimedSinceMs));
  const start = Math.max(taintedSince, Date.parse(pod.metadata?.creationTimestamp ?? '') || 0);
  return { kind: 'at', at: new Date(start + minSeconds * 1000) };
}
