/**
 * Status conditions of workload objects (ReplicaSet, Deployment), kept as Kubernetes keeps
 * them: one per type; an unchanged status+reason leaves the condition as it was;
 * lastTransitionTime moves only when the status changes.
 */

export interface StatusCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

/** RFC 3339 with whole seconds, as Kubernetes writes metav1.Time. */
export function kubeTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function getCondition<C extends StatusCondition>(conditions: readonly C[] | undefined, type: string): C | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** The conditions with `condition` set (see the module comment); the input is not changed. */
export function setCondition<C extends StatusCondition>(conditions: readonly C[] | undefined, condition: C): C[] {
  const current = getCondition(conditions, condition.type);
  if (current !== undefined && current.status === condition.status && current.reason === condition.reason) return [...(conditions ?? [])];
  const next = current !== undefined && current.status === condition.status ? { ...condition, lastTransitionTime: current.lastTransitionTime } : condition;
  return [...removeCondition(conditions, condition.type), next];
}

export function removeCondition<C extends StatusCondition>(conditions: readonly C[] | undefined, type: string): C[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}
