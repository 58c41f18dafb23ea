/**
 * Resource arithmetic for scheduling, in integers: cpu in millicores, everything else
 * (memory, ephemeral-storage, extended resources, pods) in whole units, as Kubernetes'
 * scheduler counts them, so sums of requests never suffer float rounding.
 */
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../apiserver/quantity.js';

/** Resource name -> amount (cpu in millicores). */
export type Resources = Map<string, number>;

/** kubelet's default max pods, used when a node does not say. */
export const DEFAULT_MAX_PODS = 110;
/** What a container without requests counts as when scoring (Kubernetes' non-zero defaults). */
export const NON_ZERO_CPU_MILLI = 100;
export const NON_ZERO_MEMORY = 200 * 1024 * 1024;

/** One quantity in scheduler units; an unparsable one counts as 0 (the API server validates them). */
export function toUnits(resource: string, quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  let value: number;
  try {
    value = typeof quantity === 'number' ? quantity : parseQuantity(quantity);
  } catch {
    return 0;
  }
  if (!Number.isFinite(value)) return 0;
  // Round up, as Kubernetes' MilliValue/Value do; the epsilon absorbs float noise like 0.1*1000.
  return resource === 'cpu' ? Math.ceil(value * 1000 - 1e-9) : Math.ceil(value - 1e-9);
}

/** A container's requests (falling back to limits, which is what API defaulting would fill in). */
function containerRequests(container: Container): Resources {
  const result: Resources = new Map();
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  for (const name of new Set([...Object.keys(limits), ...Object.keys(requests)])) {
    result.set(name, toUnits(name, requests[name] ?? limits[name]));
  }
  return result;
}

function addInto(target: Resources, add: Resources): void {
  for (const [name, amount] of add) target.set(name, (target.get(name) ?? 0) + amount);
}

function maxInto(target: Resources, other: Resources): void {
  for (const [name, amount] of other) target.set(name, Math.max(target.get(name) ?? 0, amount));
}

/**
 * What a pod asks of a node: the sum over its containers (sidecar init containers, i.e.
 * restartPolicy Always, included), at least each plain init container's ask, plus overhead.
 */
export function podRequests(pod: Pod): Resources {
  const total: Resources = new Map();
  for (const container of pod.spec?.containers ?? []) addInto(total, containerRequests(container));
  const sidecars: Resources = new Map();
  for (const init of pod.spec?.initContainers ?? []) {
    const ask = containerRequests(init);
    if (init.restartPolicy === 'Always') {
      addInto(sidecars, ask);
      continue;
    }
    // A plain init container runs alone apart from the sidecars started before it.
    const whileRunning = new Map(ask);
    addInto(whileRunning, sidecars);
    maxInto(total, whileRunning);
  }
  addInto(total, sidecars);
  for (const [name, quantity] of Object.entries(pod.spec?.overhead ?? {})) {
    total.set(name, (total.get(name) ?? 0) + toUnits(name, quantity));
  }
  return total;
}

/** cpu and memory with Kubernetes' non-zero defaults for containers that ask nothing (for scoring). */
export function podNonZeroRequests(pod: Pod): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const container of pod.spec?.containers ?? []) {
    const ask = containerRequests(container);
    cpu += ask.has('cpu') ? ask.get('cpu')! : NON_ZERO_CPU_MILLI;
    memory += ask.has('memory') ? ask.get('memory')! : NON_ZERO_MEMORY;
  }
  return { cpu, memory };
}

/** The node's allocatable (falling back to capacity), in scheduler units. */
export function nodeAllocatable(node: Node): Resources {
  const source = node.status?.allocatable ?? node.status?.capacity ?? {};
  const result: Resources = new Map();
  for (const [name, quantity] of Object.entries(source)) result.set(name, toUnits(name, quantity));
  if (!result.has('pods')) result.set('pods', DEFAULT_MAX_PODS);
  return result;
}

/** Pods that no longer hold resources on their node. */
export function isFinished(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
