/**
 * Controller references (the one ownerReference with `controller: true`) and how a controller
 * claims objects, as Kubernetes' ControllerRefManager: it keeps what it controls and still
 * selects, adopts orphans its selector matches, and releases what it controls but no longer
 * selects. Adoption and release are strategic-merge patches of ownerReferences (merged by
 * uid) that carry the object's uid, so they never touch a re-created namesake.
 */
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { type ApiClient, isNotFound } from '../../shared/api-client.js';

type Owned = { metadata?: ObjectMeta };

export function controllerRefOf(obj: Owned): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** Whether `obj` is controlled by the object with `ownerUid`. */
export function isControlledBy(obj: Owned, ownerUid: string | undefined): boolean {
  return ownerUid !== undefined && controllerRefOf(obj)?.uid === ownerUid;
}

export function newControllerRef(owner: Owned, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export type ClaimDecision = 'keep' | 'adopt' | 'release' | 'ignore';

/** What the owner does with one candidate object (pure: the rules of ClaimObject). */
export function claimDecision(obj: Owned, owner: Owned, selectorMatches: boolean): ClaimDecision {
  const ownerDeleting = owner.metadata?.deletionTimestamp !== undefined;
  const ref = controllerRefOf(obj);
  if (ref !== undefined) {
    if (ref.uid !== owner.metadata?.uid) return 'ignore';
    if (selectorMatches) return 'keep';
    return ownerDeleting ? 'ignore' : 'release';
  }
  if (ownerDeleting || !selectorMatches) return 'ignore';
  if (obj.metadata?.deletionTimestamp !== undefined) return 'ignore';
  const ownerNamespace = owner.metadata?.namespace;
  if (ownerNamespace && ownerNamespace !== obj.metadata?.namespace) return 'ignore';
  return 'adopt';
}

export function adoptionPatch(obj: Owned, ref: OwnerReference): object {
  return { metadata: { ownerReferences: [ref], uid: obj.metadata?.uid } };
}

export function releasePatch(obj: Owned, ownerUid: string): object {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: obj.metadata?.uid } };
}

export interface ClaimOptions<T extends Owned> {
  client: ApiClient;
  owner: Owned;
  ownerRef: OwnerReference;
  /** The API path of one candidate (for the patches). */
  pathOf: (obj: T) => string;
  matches: (obj: T) => boolean;
  /**
   * Checked (once, lazily) before the first adoption: throws when the owner is gone or
   * being deleted — the cache may not know yet, and adopting then would leak objects.
   */
  recheckOwner: () => Promise<void>;
}

/**
 * The candidates the owner controls after claiming: kept ones as they are, adopted ones as
 * the server returned them. Released and ignored ones are left out. Throws after trying every
 * candidate when an adoption or release failed (the sync is retried).
 */
export async function claimObjects<T extends Owned>(candidates: T[], opts: ClaimOptions<T>): Promise<T[]> {
  const claimed: T[] = [];
  const errors: Error[] = [];
  let ownerChecked: Promise<void> | undefined;
  const ownerUid = opts.owner.metadata?.uid ?? '';
  for (const obj of candidates) {
    const decision = claimDecision(obj, opts.owner, opts.matches(obj));
    try {
      if (decision === 'keep') claimed.push(obj);
      else if (decision === 'adopt') {
        ownerChecked ??= opts.recheckOwner();
        await ownerChecked;
        claimed.push(await opts.client.patch<T>(opts.pathOf(obj), adoptionPatch(obj, opts.ownerRef), 'strategic'));
      } else if (decision === 'release') {
        await opts.client.patch(opts.pathOf(obj), releasePatch(obj, ownerUid), 'strategic');
      }
    } catch (err) {
      if (isNotFound(err)) continue; // the object is gone: nothing to claim or release
      errors.push(err as Error);
    }
  }
  if (errors.length > 0) {
    throw new Error(`claiming objects for ${opts.owner.metadata?.name ?? ''}: ${errors.map((err) => err.message).join('; ')}`, { cause: errors[0] });
  }
  return claimed;
}
