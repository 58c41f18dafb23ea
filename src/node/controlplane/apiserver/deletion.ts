/**
 * What a DELETE does to an object, decided in pure code: remove it now, or mark it
 * (deletionTimestamp) and keep it until its finalizers are gone or — for a pod on a node —
 * until the node agent confirms with gracePeriodSeconds=0.
 */
import type { ResourceType } from './resources.js';
import { clone, kubeTime, type KubeObject } from './strategy.js';

export type PropagationPolicy = 'Background' | 'Orphan' | 'Foreground';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  /** The older form of propagationPolicy: true = Orphan. */
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type DeletionPlan =
  | { action: 'remove' }
  | { action: 'mark'; object: KubeObject }
  /** Already being deleted, nothing changes. */
  | { action: 'none' };

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** Held while an object deleted with propagationPolicy Orphan releases its dependents. */
export const ORPHAN_FINALIZER = 'orphan';
export const DEFAULT_POD_GRACE_SECONDS = 30;

export function propagationOf(opts: DeleteOptions): PropagationPolicy {
  if (opts.propagationPolicy) return opts.propagationPolicy;
  return opts.orphanDependents === true ? 'Orphan' : 'Background';
}

/** The grace period a pod gets: 0 when no node runs it (unbound or finished). */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? spec.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS;
  return Math.max(0, grace);
}

export function planDeletion(res: ResourceType, obj: KubeObject, opts: DeleteOptions, now: Date): DeletionPlan {
  const meta = obj.metadata;
  const finalizers = meta.finalizers ?? [];
  const policy = propagationOf(opts);

  if (meta.deletionTimestamp !== undefined) {
    // A second delete of a pod may only shorten its grace period (the agent's grace 0 ends it).
    if (res.kind !== 'Pod') return { action: 'none' };
    const current = meta.deletionGracePeriodSeconds ?? 0;
    const grace = opts.gracePeriodSeconds === undefined ? current : Math.max(0, opts.gracePeriodSeconds);
    if (grace >= current) return { action: 'none' };
    if (grace === 0 && finalizers.length === 0) return { action: 'remove' };
    return { action: 'mark', object: marked(res, obj, grace, finalizers, now) };
  }

  if (res.kind === 'Namespace') {
    const object = marked(res, obj, 0, finalizers, now);
    object.status = { ...((object.status as object | undefined) ?? {}), phase: 'Terminating' };
    return { action: 'mark', object };
  }

  const grace = res.kind === 'Pod' ? podGracePeriod(obj, opts.gracePeriodSeconds) : 0;
  const policyFinalizer = policy === 'Foreground' ? FOREGROUND_FINALIZER : policy === 'Orphan' ? ORPHAN_FINALIZER : undefined;
  const wanted = policyFinalizer !== undefined && !finalizers.includes(policyFinalizer) ? [...finalizers, policyFinalizer] : finalizers;
  if (grace === 0 && wanted.length === 0) return { action: 'remove' };
  return { action: 'mark', object: marked(res, obj, grace, wanted, now) };
}

function marked(res: ResourceType, obj: KubeObject, grace: number, finalizers: string[], now: Date): KubeObject {
  const object = clone(obj);
  const meta = object.metadata;
  meta.deletionTimestamp = kubeTime(new Date(now.getTime() + grace * 1000));
  meta.deletionGracePeriodSeconds = grace;
  if (finalizers.length > 0) meta.finalizers = finalizers;
  // kube bumps generation when deletion starts, so controllers see it as a spec change.
  if (res.hasGeneration && obj.metadata.deletionTimestamp === undefined && meta.generation !== undefined) meta.generation += 1;
  return object;
}

/** A 409 reason when preconditions do not hold, or undefined. */
export function preconditionFailure(obj: KubeObject, pre: DeleteOptions['preconditions']): string | undefined {
  if (pre?.uid !== undefined && pre.uid !== obj.metadata.uid) {
    return `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid ?? ''}`;
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== obj.metadata.resourceVersion) {
    return `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion ?? ''}`;
  }
  return undefined;
}
