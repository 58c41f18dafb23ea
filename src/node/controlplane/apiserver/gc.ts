/**
 * Garbage collection by ownerReferences (kube's garbage collector controller, run in the API
 * server here): when an owner goes, its dependents go too (Background / Foreground) or lose
 * their reference to it (Orphan).
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { ObjectRegistry } from './objects.js';
import { RESOURCES, type ResourceType } from './resources.js';
import { ApiStatusError } from './status.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from './deletion.js';
import type { KubeObject } from './strategy.js';

const FOREGROUND_POLL_MS = 250;
const FOREGROUND_GIVE_UP_MS = 10 * 60 * 1000;

export interface Dependent {
  res: ResourceType;
  obj: KubeObject;
}

export function isDependentOf(obj: KubeObject, ownerUid: string): boolean {
  return (obj.metadata.ownerReferences ?? []).some((ref) => ref.uid === ownerUid);
}

/** The owner references that stay once the owner with `ownerUid` is gone. */
export function referencesWithout(refs: OwnerReference[] | undefined, ownerUid: string): OwnerReference[] {
  return (refs ?? []).filter((ref) => ref.uid !== ownerUid);
}

/** Dependents live in the owner's namespace; a cluster-scoped owner's may be anywhere. */
export async function findDependents(registry: ObjectRegistry, owner: KubeObject): Promise<Dependent[]> {
  const uid = owner.metadata.uid;
  if (!uid) return [];
  const namespace = owner.metadata.namespace || undefined;
  const found: Dependent[] = [];
  for (const res of RESOURCES) {
    if (namespace !== undefined && !res.namespaced) continue;
    const { items } = await registry.list(res, namespace);
    for (const obj of items) if (isDependentOf(obj, uid)) found.push({ res, obj });
  }
  return found;
}

/**
 * Deletes the owner's dependents. An owner deleted in the foreground deletes them in the
 * foreground too (as kube's garbage collector does), so a Deployment waits for its pods,
 * not only for its ReplicaSets.
 */
export async function deleteDependents(registry: ObjectRegistry, owner: KubeObject, propagationPolicy: 'Background' | 'Foreground' = 'Background'): Promise<void> {
  for (const { res, obj } of await findDependents(registry, owner)) {
    if (obj.metadata.deletionTimestamp !== undefined) continue;
    await ignoreNotFound(registry.delete(res, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy }));
  }
}

export async function orphanDependents(registry: ObjectRegistry, owner: KubeObject): Promise<void> {
  const uid = owner.metadata.uid!;
  for (const { res, obj } of await findDependents(registry, owner)) {
    await ignoreNotFound(
      registry.guaranteedUpdate(res, obj.metadata.namespace, obj.metadata.name!, (current) => {
        if (!isDependentOf(current, uid)) return undefined;
        const refs = referencesWithout(current.metadata.ownerReferences, uid);
        if (refs.length > 0) current.metadata.ownerReferences = refs;
        else delete current.metadata.ownerReferences;
        return current;
      }),
    );
  }
}

/**
 * Foreground: the owner (already marked with the foregroundDeletion finalizer) waits until its
 * dependents are gone, then loses the finalizer and leaves the store.
 */
export async function runForegroundDeletion(registry: ObjectRegistry, res: ResourceType, owner: KubeObject): Promise<void> {
  const deadline = Date.now() + FOREGROUND_GIVE_UP_MS;
  await deleteDependents(registry, owner, 'Foreground');
  while ((await findDependents(registry, owner)).length > 0) {
    if (Date.now() > deadline) throw new Error('dependents still present after 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, FOREGROUND_POLL_MS));
    await deleteDependents(registry, owner, 'Foreground');
  }
  await removeFinalizer(registry, res, owner, FOREGROUND_FINALIZER);
}

/**
 * Orphan: the owner (marked with the orphan finalizer) releases its dependents, including any
 * a controller adopted meanwhile, then loses the finalizer and leaves the store.
 */
export async function runOrphanDeletion(registry: ObjectRegistry, res: ResourceType, owner: KubeObject): Promise<void> {
  const deadline = Date.now() + FOREGROUND_GIVE_UP_MS;
  await orphanDependents(registry, owner);
  while ((await findDependents(registry, owner)).length > 0) {
    if (Date.now() > deadline) throw new Error('dependents still referencing the owner after 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, FOREGROUND_POLL_MS));
    await orphanDependents(registry, owner);
  }
  await removeFinalizer(registry, res, owner, ORPHAN_FINALIZER);
}

async function removeFinalizer(registry: ObjectRegistry, res: ResourceType, owner: KubeObject, finalizer: string): Promise<void> {
  await ignoreNotFound(
    registry.guaranteedUpdate(res, owner.metadata.namespace, owner.metadata.name!, (current) => {
      if (current.metadata.uid !== owner.metadata.uid || !(current.metadata.finalizers ?? []).includes(finalizer)) return undefined;
      current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      if (current.metadata.finalizers.length === 0) delete current.metadata.finalizers;
      return current;
    }),
  );
}

async function ignoreNotFound(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
  }
}
