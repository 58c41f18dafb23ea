/**
 * Filters: can this pod go on this node? Each returns the reasons it cannot (empty = fits),
 * worded as Kubernetes' scheduler plugins word them, since they end up in FailedScheduling
 * messages users read. Pure.
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from './node-info.js';
import { podHostPorts } from './node-info.js';
import { podRequests } from './resources.js';

export type Filter = (pod: Pod, info: NodeInfo) => string[];

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_TOO_MANY_PODS = 'Too many pods';

export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';

/** Kubernetes' toleration match: effect and key must match when given; Exists ignores the value. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator || 'Equal';
  if (operator === 'Exists') return true;
  if (operator === 'Equal') return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

function tolerated(pod: Pod, taint: Taint): boolean {
  return (pod.spec?.tolerations ?? []).some((toleration) => toleratesTaint(toleration, taint));
}

/** NodeUnschedulable: a cordoned node takes only pods tolerating the unschedulable taint. */
export const filterUnschedulable: Filter = (pod, info) =>
  info.node.spec?.unschedulable === true && !tolerated(pod, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }) ? [REASON_UNSCHEDULABLE] : [];

/**
 * The node's taints, plus the one the node lifecycle controller puts on a node that is not
 * Ready (not-ready, or unreachable when its status is Unknown), so such nodes are filtered
 * even before that taint is written, and pods that tolerate it still fit.
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready')?.status;
  if (ready !== 'True') {
    const key = ready === 'Unknown' ? TAINT_UNREACHABLE : TAINT_NOT_READY;
    if (!taints.some((taint) => taint.key === key && taint.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

/** TaintToleration: every NoSchedule/NoExecute taint must be tolerated; the first that is not is reported. */
export const filterTaints: Filter = (pod, info) => {
  for (const taint of effectiveTaints(info.node)) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerated(pod, taint)) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
  }
  return [];
};

function matchesRequirement(requirement: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const actual = Number(value);
      const bound = Number(values[0]);
      if (!Number.isInteger(actual) || !Number.isInteger(bound)) return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** One nodeSelectorTerm: all expressions and fields must match; an empty term matches nothing. */
export function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  const fieldValues: Record<string, string | undefined> = { 'metadata.name': node.metadata?.name };
  return (
    expressions.every((requirement) => matchesRequirement(requirement, labels[requirement.key])) &&
    fields.every((requirement) => requirement.key in fieldValues && matchesRequirement(requirement, fieldValues[requirement.key]))
  );
}

/** NodeAffinity: nodeSelector labels, and at least one required nodeSelectorTerm. */
export const filterNodeAffinity: Filter = (pod, info) => {
  const labels = info.node.metadata?.labels ?? {};
  const selectorOk = Object.entries(pod.spec?.nodeSelector ?? {}).every(([key, value]) => labels[key] === value);
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const affinityOk = terms === undefined || terms.some((term) => matchesTerm(term, info.node));
  return selectorOk && affinityOk ? [] : [REASON_AFFINITY];
};

/** NodePorts: a host port (same protocol, overlapping host IP) can be taken once per node. */
export const filterHostPorts: Filter = (pod, info) => {
  const conflict = podHostPorts(pod).some((wanted) =>
    info.usedPorts.some(
      (used) =>
        used.port === wanted.port &&
        used.protocol === wanted.protocol &&
        (used.hostIP === wanted.hostIP || used.hostIP === '0.0.0.0' || wanted.hostIP === '0.0.0.0'),
    ),
  );
  return conflict ? [REASON_PORTS] : [];
};

/** NodeResourcesFit: pod count, then each requested resource against what is left of allocatable. */
export const filterResources: Filter = (pod, info) => {
  const reasons: string[] = [];
  if (info.podCount + 1 > (info.allocatable.get('pods') ?? 0)) reasons.push(REASON_TOO_MANY_PODS);
  const requests = podRequests(pod);
  // Kubernetes' order: cpu, memory, ephemeral-storage, then the rest by name.
  const fixed = ['cpu', 'memory', 'ephemeral-storage'];
  const names = [...fixed, ...[...requests.keys()].filter((name) => !fixed.includes(name) && name !== 'pods').sort()];
  for (const name of names) {
    const wanted = requests.get(name) ?? 0;
    if (wanted <= 0) continue;
    const free = (info.allocatable.get(name) ?? 0) - (info.requested.get(name) ?? 0);
    if (wanted > free) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
};

/** In Kubernetes' plugin order; a node is reported with the reasons of the first filter it fails. */
export const FILTERS: readonly Filter[] = [filterUnschedulable, filterTaints, filterNodeAffinity, filterHostPorts, filterResources];

/** Why the pod cannot go on this node (empty = it can). */
export function unfitReasons(pod: Pod, info: NodeInfo): string[] {
  for (const filter of FILTERS) {
    const reasons = filter(pod, info);
    if (reasons.length > 0) return reasons;
  }
  return [];
}
