/**
 * What the server itself sets or keeps on a write, per kind (kube's "strategies"): system
 * metadata on create, status reset, metadata.generation, and which half of an object a
 * write to the main resource or to /status may change. Pure functions over plain objects.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { ResourceType } from './resources.js';

/** ObjectMeta as the server writes it (kubernetes-types marks the system fields read-only). */
export type Meta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  [field: string]: unknown;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bArr = b as unknown[];
    return a.length === bArr.length && a.every((v, i) => deepEqual(v, bArr[i]));
  }
  const aRec = a as Record<string, unknown>;
  const bRec = b as Record<string, unknown>;
  const aKeys = Object.keys(aRec).filter((k) => aRec[k] !== undefined);
  const bKeys = Object.keys(bRec).filter((k) => bRec[k] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((k) => deepEqual(aRec[k], bRec[k]));
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** RFC 3339 with seconds, as kube writes metav1.Time. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function hasStatusSubresource(res: ResourceType): boolean {
  return res.subresources.includes('status');
}

/**
 * Sets what the server owns on a new object: uid, creationTimestamp, generation, initial status.
 * Mutates `obj`.
 */
export function prepareForCreate(res: ResourceType, obj: KubeObject, ctx: { uid: string; now: Date }): void {
  const meta = obj.metadata;
  meta.uid = ctx.uid;
  meta.creationTimestamp = kubeTime(ctx.now);
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (res.hasGeneration) meta.generation = 1;
  else delete meta.generation;

  switch (res.kind) {
    case 'Namespace': {
      const spec = (obj.spec ??= {}) as { finalizers?: string[] };
      spec.finalizers = ['kubernetes'];
      obj.status = { phase: 'Active' };
      return;
    }
    case 'Pod':
      obj.status = { phase: 'Pending', qosClass: podQosClass(obj) };
      return;
    case 'Service':
      obj.status = { loadBalancer: {} };
      return;
    case 'Node':
      // The agent registers a node with its status in one create.
      return;
    default:
      if (hasStatusSubresource(res)) obj.status = {};
  }
}

/**
 * A write to the main resource: keeps status (it has its own subresource) and the
 * system-owned metadata; generation +1 only when spec changes. Returns the object to store.
 */
export function prepareForUpdate(res: ResourceType, next: KubeObject, old: KubeObject): KubeObject {
  const result = clone(next);
  if (hasStatusSubresource(res)) {
    if (old.status === undefined) delete result.status;
    else result.status = clone(old.status);
  }
  keepSystemMetadata(result.metadata, old.metadata);
  if (res.hasGeneration) {
    const changed = !deepEqual(specOf(result), specOf(old));
    result.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
  }
  if (res.kind === 'Namespace') {
    // Namespace spec.finalizers change only through the finalize subresource (and the server).
    result.spec = clone(old.spec);
  }
  return result;
}

/** A write to /status: only status changes; spec and metadata stay as stored. */
export function prepareForStatusUpdate(next: KubeObject, old: KubeObject): KubeObject {
  const result = clone(old);
  if (next.status === undefined) delete result.status;
  else result.status = clone(next.status);
  return result;
}

function keepSystemMetadata(meta: Meta, old: Meta): void {
  meta.uid ??= old.uid;
  meta.creationTimestamp = old.creationTimestamp;
  if (old.deletionTimestamp !== undefined) meta.deletionTimestamp = old.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (old.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
  else delete meta.deletionGracePeriodSeconds;
  if (old.generation !== undefined) meta.generation = old.generation;
  else delete meta.generation;
}

/** What counts as "spec" for metadata.generation: everything but metadata and status. */
function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  return rest;
}

interface ContainerResources {
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

/** Kubernetes' QoS class from the containers' requests and limits (kubectl describe shows it). */
export function podQosClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const spec = (pod.spec ?? {}) as { containers?: ContainerResources[]; initContainers?: ContainerResources[] };
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...(c.resources?.requests ?? {}) };
    const relevant = (r: Record<string, string>) => Object.keys(r).filter((k) => k === 'cpu' || k === 'memory');
    if (relevant(requests).length > 0 || relevant(limits).length > 0) any = true;
    for (const resource of ['cpu', 'memory']) {
      if (limits[resource] === undefined || requests[resource] !== limits[resource]) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Whether an object whose deletion was requested can now leave the store. */
export function readyToRemove(res: ResourceType, obj: KubeObject): boolean {
  const meta = obj.metadata;
  if (meta.deletionTimestamp === undefined) return false;
  if ((meta.finalizers ?? []).length > 0) return false;
  if (res.kind === 'Pod' && (meta.deletionGracePeriodSeconds ?? 0) > 0) return false;
  if (res.kind === 'Namespace' && (((obj.spec as { finalizers?: string[] } | undefined)?.finalizers) ?? []).length > 0) return false;
  return true;
}
