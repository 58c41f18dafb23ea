/**
 * The subresources that are not plain status: scale (deployments, replicasets: an
 * autoscaling/v1 Scale view of spec.replicas), pods/binding (the scheduler's one-time
 * assignment to a node) and pods/eviction (a graceful delete within PodDisruptionBudgets).
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { DeleteOptions } from './deletion.js';
import { enforceDisruptionBudgets } from './disruption-budget.js';
import type { ObjectRegistry, WriteOptions } from './objects.js';
import { applyPatch, PatchError, type PatchType } from './patch.js';
import type { ResourceType } from './resources.js';
import { formatLabelSelector } from './selectors.js';
import { ApiStatusError, applyConflict, badRequest, conflict, invalid, success } from './status.js';
import { clone, type KubeObject } from './strategy.js';

export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: KubeObject['metadata'];
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

/** The Scale view of a Deployment or ReplicaSet. */
export function toScale(obj: KubeObject): Scale {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: LabelSelector };
  const status = (obj.status ?? {}) as { replicas?: number };
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  const scale: Scale = {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0 },
  };
  if (spec.selector) scale.status.selector = formatLabelSelector(spec.selector);
  return scale;
}

export async function getScale(registry: ObjectRegistry, res: ResourceType, namespace: string | undefined, name: string): Promise<Scale> {
  return toScale(await registry.get(res, namespace, name));
}

/** PUT /scale: a Scale body; its resourceVersion, if any, is a precondition on the parent. */
export async function updateScale(
  registry: ObjectRegistry,
  res: ResourceType,
  namespace: string | undefined,
  name: string,
  body: unknown,
  opts: WriteOptions,
): Promise<Scale> {
  if (typeof body !== 'object' || body === null) throw badRequest('the body of the request must be a JSON object');
  const scale = body as Partial<Scale>;
  if (scale.metadata?.name !== undefined && scale.metadata.name !== name) {
    throw badRequest(`the name of the object (${scale.metadata.name}) does not match the name on the URL (${name})`);
  }
  const replicas = scale.spec?.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
    throw invalid({ ...res, kind: 'Scale', group: 'autoscaling' }, name, [
      { type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
    ]);
  }
  const current = await registry.get(res, namespace, name);
  const expected = scale.metadata?.resourceVersion;
  if (expected && expected !== current.metadata.resourceVersion) throw conflict(res, name);
  const next = clone(current);
  (next.spec as { replicas?: number } | undefined) ??= {};
  (next.spec as { replicas?: number }).replicas = replicas ?? 0;
  const { object } = await registry.update(res, namespace, name, next, opts);
  return toScale(object);
}

export async function patchScale(
  registry: ObjectRegistry,
  res: ResourceType,
  namespace: string | undefined,
  name: string,
  type: PatchType,
  patch: unknown,
  opts: WriteOptions,
): Promise<Scale> {
  for (let attempt = 1; ; attempt++) {
    const current = toScale(await registry.get(res, namespace, name));
    let patched: Partial<Scale>;
    try {
      patched = applyPatch('Scale', current, patch, type, { fieldManager: opts.fieldManager, force: opts.force }) as Partial<Scale>;
    } catch (err) {
      if (err instanceof PatchError) throw err.code === 409 ? applyConflict(err.message) : badRequest(err.message);
      throw err;
    }
    try {
      return await updateScale(registry, res, namespace, name, patched, opts);
    } catch (err) {
      const pinned = patched.metadata?.resourceVersion !== current.metadata.resourceVersion;
      if (!(err instanceof ApiStatusError && err.status.reason === 'Conflict' && !pinned && attempt < 5)) throw err;
    }
  }
}

interface Binding {
  metadata?: { name?: string; annotations?: Record<string, string> };
  target?: { kind?: string; name?: string };
}

/** POST pods/NAME/binding: sets spec.nodeName once (409 when already bound or being deleted). */
export async function bindPod(registry: ObjectRegistry, pods: ResourceType, namespace: string, name: string, body: unknown, now: Date): Promise<object> {
  const binding = (typeof body === 'object' && body !== null ? body : {}) as Binding;
  const nodeName = binding.target?.name;
  if (binding.metadata?.name !== undefined && binding.metadata.name !== name) {
    throw badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`);
  }
  if (!nodeName || (binding.target?.kind !== undefined && binding.target.kind !== 'Node' && binding.target.kind !== '')) {
    throw invalid({ ...pods, kind: 'Binding' }, name, [{ type: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  }
  const label = 'pods/binding';
  await registry.guaranteedUpdate(pods, namespace, name, (pod) => {
    const spec = (pod.spec ??= {}) as { nodeName?: string };
    if (pod.metadata.deletionTimestamp !== undefined) throw conflict(pods, name, `pod ${name} is being deleted, cannot be assigned to a host`, label);
    if (spec.nodeName) throw conflict(pods, name, `pod ${name} is already assigned to node "${spec.nodeName}"`, label);
    spec.nodeName = nodeName;
    if (binding.metadata?.annotations) pod.metadata.annotations = { ...pod.metadata.annotations, ...binding.metadata.annotations };
    setPodScheduled(pod, now);
    return pod;
  });
  return success(201);
}

function setPodScheduled(pod: KubeObject, now: Date): void {
  const status = (pod.status ??= {}) as { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string | null; lastProbeTime?: null }> };
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((c) => c.type === 'PodScheduled');
  const lastTransitionTime = now.toISOString().replace(/\.\d+Z$/, 'Z');
  if (existing) {
    if (existing.status !== 'True') existing.lastTransitionTime = lastTransitionTime;
    existing.status = 'True';
  } else {
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime });
  }
}

interface Eviction {
  metadata?: { name?: string };
  deleteOptions?: DeleteOptions;
}

/** POST pods/NAME/eviction: deletes the pod gracefully, if its PodDisruptionBudget allows (429 otherwise). */
export async function evictPod(registry: ObjectRegistry, pods: ResourceType, namespace: string, name: string, body: unknown): Promise<object> {
  const eviction = (typeof body === 'object' && body !== null ? body : {}) as Eviction;
  if (eviction.metadata?.name !== undefined && eviction.metadata.name !== name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  await enforceDisruptionBudgets(registry, pods, namespace, name, eviction.deleteOptions?.dryRun === true);
  await registry.delete(pods, namespace, name, eviction.deleteOptions ?? {});
  return success(201);
}
