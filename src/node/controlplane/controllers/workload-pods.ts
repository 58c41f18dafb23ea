/**
 * Small helpers the DaemonSet, Job, CronJob, node lifecycle and disruption controllers share
 * (pod readiness and controller references are in pod-state.ts and owner.ts). Pure.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { LabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { labelSelectorFromObject, matchesLabels } from '../apiserver/selectors.js';

export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * Whether labels match a workload's selector. A missing selector matches nothing (as
 * metav1.LabelSelectorAsSelector(nil)); an empty one everything; an invalid one nothing.
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined) return false;
  try {
    return matchesLabels(labelSelectorFromObject(selector), labels);
  } catch {
    return false;
  }
}

/**
 * An int-or-percent field against a total (intstr.GetScaledValueFromIntOrPercent): "25%" of 10
 * is 3 rounding up, 2 rounding down. Undefined or unparsable counts as `fallback`.
 */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean, fallback = 0): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return /^\d+$/.test(value) ? Number(value) : fallback;
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled - 1e-9) : Math.floor(scaled + 1e-9);
}

/** RFC 3339 to the second, as metav1.Time is written. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Older first, then by name: the order controllers keep or replace pods in. */
export function byCreation(a: { metadata?: ObjectMeta }, b: { metadata?: ObjectMeta }): number {
  const created = (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '');
  return created !== 0 ? created : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

export function podPath(pod: Pod): string {
  return `/api/v1/namespaces/${pod.metadata?.namespace ?? 'default'}/pods/${pod.metadata?.name ?? ''}`;
}
