/**
 * The verbs on stored objects, independent of HTTP: get, list, create, update (main resource
 * and /status), patch, delete, deletecollection. The HTTP handlers, the subresources, garbage
 * collection and namespace finalization all go through this one place, so every write gets
 * the same defaulting, validation, optimistic concurrency and side effects.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Service } from 'kubernetes-types/core/v1.js';
import {
  StoreCompactedError,
  StoreConflictError,
  StoreKeyExistsError,
  StoreKeyNotFoundError,
  StoreUnavailableError,
  type Store,
  type StoredValue,
} from '../store/store.js';
import { decodeContinue, encodeContinue } from './continue-token.js';
import { applyDefaults, type DefaultsOptions } from './defaults.js';
import { planDeletion, preconditionFailure, propagationOf, type DeleteOptions, type PropagationPolicy } from './deletion.js';
import { deleteDependents, runForegroundDeletion, runOrphanDeletion } from './gc.js';
import { applyPatch, PatchError, type PatchType } from './patch.js';
import { collectionPrefix, findResource, groupVersionOf, objectKey, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorParseError } from './selectors.js';
import { AllocationError, type ServiceAllocator } from './service-allocator.js';
import {
  ApiStatusError,
  alreadyExists,
  applyConflict,
  badRequest,
  conflict,
  expired,
  forbidden,
  internalError,
  invalid,
  notFound,
  serviceUnavailable,
  type FieldCause,
} from './status.js';
import { clone, deepEqual, prepareForCreate, prepareForStatusUpdate, prepareForUpdate, readyToRemove, type KubeObject } from './strategy.js';
import { validateObject } from './validation.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ObjectList {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  force?: boolean;
}

export interface RegistryDeps {
  store: Store;
  allocator: ServiceAllocator;
  log: (line: string) => void;
  now?: () => Date;
  /** The not-ready/unreachable toleration pods get (kube: 300 s). */
  defaultTolerationSeconds?: number;
}

/** An object as read, with the store revision it was read at. */
export interface Versioned {
  obj: KubeObject;
  modRevision: number;
}

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const NAMESPACE_RESOURCE = findResource('', 'v1', 'namespaces')!;
const SERVICE_ACCOUNT_RESOURCE = findResource('', 'v1', 'serviceaccounts')!;
const CONFLICT_RETRIES = 5;

export class ObjectRegistry {
  readonly store: Store;
  private readonly allocator: ServiceAllocator;
  readonly log: (line: string) => void;
  private readonly now: () => Date;
  private readonly defaultsOptions: DefaultsOptions;
  /** Called when a namespace is marked for deletion (the namespace finalizer starts). */
  onNamespaceTerminating: (name: string) => void = () => undefined;

  constructor(deps: RegistryDeps) {
    this.store = deps.store;
    this.allocator = deps.allocator;
    this.log = deps.log;
    this.now = deps.now ?? (() => new Date());
    this.defaultsOptions = deps.defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds: deps.defaultTolerationSeconds } : {};
  }

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  async read(res: ResourceType, namespace: string | undefined, name: string): Promise<Versioned | undefined> {
    const stored = await this.store.get(objectKey(res, namespace, name)).catch((err: unknown) => {
      throw toStatusError(err, res, name);
    });
    return stored && { obj: decodeObject(stored), modRevision: stored.modRevision };
  }

  async get(res: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
    const found = await this.read(res, namespace, name);
    if (!found) throw notFound(res, name);
    return found.obj;
  }

  async list(res: ResourceType, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList> {
    const matches = objectFilter(res, opts);
    const prefix = collectionPrefix(res, namespace);
    let position: { revision: number; lastKey: string } | undefined;
    if (opts.continue) {
      position = decodeContinue(opts.continue);
      if (!position) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const items: KubeObject[] = [];
    let revision = position?.revision;
    let continueAfter = position?.lastKey;
    let more = false;
    try {
      for (;;) {
        const page = await this.store.list(prefix, {
          ...(limit !== undefined ? { limit: limit - items.length } : {}),
          ...(continueAfter !== undefined ? { continueAfter } : {}),
          ...(revision !== undefined ? { revision } : {}),
        });
        revision ??= page.revision;
        for (const stored of page.items) {
          const obj = decodeObject(stored);
          if (matches(obj)) items.push(obj);
          continueAfter = stored.key;
        }
        more = page.more;
        if (!page.more || (limit !== undefined && items.length >= limit) || page.items.length === 0) break;
      }
    } catch (err) {
      if (err instanceof StoreCompactedError && position) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      throw toStatusError(err, res, '');
    }
    const result: ObjectList = { items, resourceVersion: String(revision) };
    if (more && continueAfter !== undefined && revision !== undefined) result.continue = encodeContinue({ revision, lastKey: continueAfter });
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // Create
  // -------------------------------------------------------------------------------------------

  async create(res: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    const input = checkBody(res, body, namespace);
    const generateName = input.metadata.generateName;
    const attempts = !input.metadata.name && generateName ? CONFLICT_RETRIES : 1;
    for (let attempt = 1; ; attempt++) {
      const obj = clone(input);
      if (!obj.metadata.name && generateName) obj.metadata.name = generateName + randomSuffix();
      try {
        return await this.createOnce(res, obj, opts);
      } catch (err) {
        if (attempt < attempts && err instanceof ApiStatusError && err.status.reason === 'AlreadyExists') continue;
        throw err;
      }
    }
  }

  private async createOnce(res: ResourceType, obj: KubeObject, opts: WriteOptions): Promise<KubeObject> {
    const name = obj.metadata.name ?? '';
    if (name === '') {
      throw invalid(res, '', [{ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    applyDefaults(res.kind, obj, this.defaultsOptions);
    prepareForCreate(res, obj, { uid: randomUUID(), now: this.now() });
    this.validate(res, obj);
    if (res.namespaced) await this.requireActiveNamespace(res, obj.metadata.namespace!, name);
    if (opts.dryRun) return obj;

    if (res.kind === 'Service') {
      // An existing Service must answer AlreadyExists, not "address already allocated".
      if (await this.read(res, obj.metadata.namespace, name)) throw alreadyExists(res, name);
      await this.allocate(res, name, () => this.allocator.allocateForCreate(obj as Service, ownerOf(obj)));
    }
    let modRevision: number;
    try {
      modRevision = await this.store.create(objectKey(res, obj.metadata.namespace, name), encodeObject(obj));
    } catch (err) {
      if (res.kind === 'Service') await this.allocator.releaseAll(obj as Service).catch(() => undefined);
      throw toStatusError(err, res, name);
    }
    obj.metadata.resourceVersion = String(modRevision);
    if (res.kind === 'Namespace') await this.ensureDefaultServiceAccount(name);
    return obj;
  }

  /** Every namespace has a `default` ServiceAccount (kube's service account controller makes it). */
  async ensureDefaultServiceAccount(namespace: string): Promise<void> {
    try {
      await this.create(SERVICE_ACCOUNT_RESOURCE, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } });
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.status.reason === 'AlreadyExists')) this.log(`creating the default ServiceAccount in ${namespace}: ${String(err)}`);
    }
  }

  private async requireActiveNamespace(res: ResourceType, namespace: string, name: string): Promise<void> {
    const ns = await this.read(NAMESPACE_RESOURCE, undefined, namespace);
    if (!ns) throw notFound(NAMESPACE_RESOURCE, namespace);
    if (ns.obj.metadata.deletionTimestamp !== undefined) {
      throw forbidden(res, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
      ]);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Update and patch
  // -------------------------------------------------------------------------------------------

  /**
   * PUT of the main resource or of /status. A body with metadata.resourceVersion must match
   * the stored one (409 otherwise); without it the update is unconditional.
   */
  async update(
    res: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions & { subresource?: 'status' } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const next = checkBody(res, body, namespace);
    if (next.metadata.name !== undefined && next.metadata.name !== name) {
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    next.metadata.name = name;
    const expected = next.metadata.resourceVersion;
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(res, namespace, name);
      if (!current) {
        if (res.createOnUpdate && !opts.subresource) return { object: await this.create(res, namespace, next, opts), created: true };
        throw notFound(res, name);
      }
      if (expected !== undefined && expected !== '' && expected !== current.obj.metadata.resourceVersion) throw conflict(res, name);
      try {
        return { object: await this.writeUpdate(res, next, current, opts), created: false };
      } catch (err) {
        // An unconditional update retries on a concurrent write, as kube's GuaranteedUpdate does.
        const retry = err instanceof ApiStatusError && err.status.reason === 'Conflict' && !expected && attempt < CONFLICT_RETRIES;
        if (!retry) throw err;
      }
    }
  }

  private async writeUpdate(res: ResourceType, next: KubeObject, current: Versioned, opts: WriteOptions & { subresource?: 'status' }): Promise<KubeObject> {
    const old = current.obj;
    const name = old.metadata.name!;
    let updated: KubeObject;
    if (opts.subresource === 'status') {
      updated = prepareForStatusUpdate(next, old);
    } else {
      updated = prepareForUpdate(res, next, old);
      applyDefaults(res.kind, updated, this.defaultsOptions);
    }
    updated.metadata.resourceVersion = old.metadata.resourceVersion;
    this.validate(res, updated, old);
    if (deepEqual(updated, old)) return old; // no-op: no write, the resourceVersion stays
    if (opts.dryRun) return updated;
    if (res.kind === 'Service' && opts.subresource !== 'status') {
      await this.allocate(res, name, () => this.allocator.reallocateForUpdate(updated as Service, old as Service, ownerOf(old)));
    }
    return this.commit(res, updated, current);
  }

  /**
   * Writes an object that passed the strategy (or a server-side change such as a binding or a
   * finalizer removal); removes it instead when its deletion is complete.
   */
  async commit(res: ResourceType, updated: KubeObject, current: Versioned): Promise<KubeObject> {
    const name = updated.metadata.name!;
    const key = objectKey(res, updated.metadata.namespace, name);
    if (readyToRemove(res, updated)) {
      try {
        const deleted = await this.store.delete(key, current.modRevision);
        const object = { ...updated, metadata: { ...updated.metadata, resourceVersion: String(deleted.modRevision) } };
        this.afterRemoval(res, object, 'Background');
        return object;
      } catch (err) {
        throw toStatusError(err, res, name);
      }
    }
    try {
      const modRevision = await this.store.update(key, encodeObject(updated), current.modRevision);
      return { ...updated, metadata: { ...updated.metadata, resourceVersion: String(modRevision) } };
    } catch (err) {
      throw toStatusError(err, res, name);
    }
  }

  /**
   * Reads, changes and writes one object outside the strategy (server-owned changes:
   * bindings, finalizers, owner references), retrying on concurrent writes. `change` returns
   * undefined to leave the object as it is.
   */
  async guaranteedUpdate(
    res: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (obj: KubeObject) => KubeObject | undefined,
  ): Promise<KubeObject> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(res, namespace, name);
      if (!current) throw notFound(res, name);
      const next = change(clone(current.obj));
      if (next === undefined) return current.obj;
      try {
        return await this.commit(res, next, current);
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.status.reason === 'Conflict' && attempt < CONFLICT_RETRIES)) throw err;
      }
    }
  }

  async patch(
    res: ResourceType,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { subresource?: 'status' } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(res, namespace, name);
      const patchOpts = { fieldManager: opts.fieldManager, force: opts.force, now: this.now().toISOString() };
      if (!current) {
        if (type === 'apply' && !opts.subresource) {
          const created = patchWith(res, name, () => applyPatch(res.kind, undefined, patch, 'apply', patchOpts));
          const obj = created as KubeObject;
          obj.metadata ??= {};
          obj.metadata.name ??= name;
          if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
          return { object: await this.create(res, namespace, obj, opts), created: true };
        }
        throw notFound(res, name);
      }
      const currentVersion = current.obj.metadata.resourceVersion;
      const patched = patchWith(res, name, () => applyPatch(res.kind, current.obj, patch, type, patchOpts)) as KubeObject;
      if (typeof patched !== 'object' || patched === null || typeof patched.metadata !== 'object' || patched.metadata === null) {
        throw badRequest('the patch removed the object metadata');
      }
      // A resourceVersion written by the patch itself is a precondition (no retry then).
      const pinned = patched.metadata.resourceVersion !== undefined && patched.metadata.resourceVersion !== currentVersion;
      if (!pinned) patched.metadata.resourceVersion = currentVersion;
      try {
        return await this.update(res, namespace, name, patched, opts);
      } catch (err) {
        const retry = err instanceof ApiStatusError && err.status.reason === 'Conflict' && !pinned && attempt < CONFLICT_RETRIES;
        if (!retry) throw err;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Delete
  // -------------------------------------------------------------------------------------------

  /** `removed`: the object left the store; otherwise it is marked and waits (grace, finalizers). */
  async delete(res: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ object: KubeObject; removed: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(res, namespace, name);
      if (!current) throw notFound(res, name);
      const obj = current.obj;
      const failed = preconditionFailure(obj, opts.preconditions);
      if (failed) throw conflict(res, name, failed);
      if (res.kind === 'Namespace' && PROTECTED_NAMESPACES.has(name)) throw forbidden(res, name, 'this namespace may not be deleted');
      if (opts.dryRun) return { object: obj, removed: true };

      const policy = propagationOf(opts);
      const plan = planDeletion(res, obj, opts, this.now());
      if (plan.action === 'none') return { object: obj, removed: false };
      try {
        if (plan.action === 'remove') {
          const deleted = await this.store.delete(objectKey(res, namespace, name), current.modRevision);
          const object = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(deleted.modRevision) } };
          this.afterRemoval(res, object, policy);
          return { object, removed: true };
        }
        const modRevision = await this.store.update(objectKey(res, namespace, name), encodeObject(plan.object), current.modRevision);
        const object = { ...plan.object, metadata: { ...plan.object.metadata, resourceVersion: String(modRevision) } };
        if (res.kind === 'Namespace') this.onNamespaceTerminating(name);
        if (policy === 'Foreground') this.background(`foreground deletion of ${res.resource} ${name}`, () => runForegroundDeletion(this, res, object));
        // As kube: the object stays (deletionTimestamp, `orphan` finalizer) until its dependents
        // are released, so a controller rechecking it before adopting sees it is going.
        if (policy === 'Orphan') this.background(`orphaning dependents of ${res.resource} ${name}`, () => runOrphanDeletion(this, res, object));
        return { object, removed: false };
      } catch (err) {
        const mapped = toStatusError(err, res, name);
        if (!(mapped.status.reason === 'Conflict' && attempt < CONFLICT_RETRIES)) throw mapped;
      }
    }
  }

  async deleteCollection(res: ResourceType, namespace: string | undefined, listOpts: ListOptions, opts: DeleteOptions): Promise<ObjectList> {
    const { continue: _continue, limit: _limit, ...selectors } = listOpts;
    const list = await this.list(res, namespace, selectors);
    const deleted: KubeObject[] = [];
    for (const item of list.items) {
      try {
        deleted.push((await this.delete(res, item.metadata.namespace, item.metadata.name!, opts)).object);
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      }
    }
    return { items: deleted, resourceVersion: list.resourceVersion };
  }

  /** Side effects of an object leaving the store. */
  private afterRemoval(res: ResourceType, obj: KubeObject, policy: PropagationPolicy): void {
    if (res.kind === 'Service') this.background(`releasing addresses of service ${obj.metadata.name}`, () => this.allocator.releaseAll(obj as Service));
    if (policy !== 'Orphan') this.background(`deleting dependents of ${res.resource} ${obj.metadata.name}`, () => deleteDependents(this, obj));
  }

  /** Runs work after the answer; errors are logged, never thrown at the client. */
  background(what: string, work: () => Promise<unknown>): void {
    work().catch((err: unknown) => this.log(`${what} failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  // -------------------------------------------------------------------------------------------

  private validate(res: ResourceType, obj: KubeObject, old?: KubeObject): void {
    const causes: FieldCause[] = validateObject(res.kind, obj, old);
    if (causes.length > 0) throw invalid(res, obj.metadata.name ?? '', causes);
  }

  private async allocate(res: ResourceType, name: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (err instanceof AllocationError) {
        throw invalid(res, name, [{ type: 'FieldValueInvalid', field: err.field, message: err.detail }]);
      }
      throw toStatusError(err, res, name);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** The stored JSON carries no resourceVersion: it is the key's modRevision, set on every read. */
export function decodeObject(stored: StoredValue): KubeObject {
  const obj = JSON.parse(stored.value) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(stored.modRevision) };
  return obj;
}

export function encodeObject(obj: KubeObject): string {
  const { resourceVersion: _resourceVersion, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

/** A request body as an object of this kind in this namespace (400 otherwise). */
export function checkBody(res: ResourceType, body: unknown, namespace: string | undefined): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body of the request must be a JSON object');
  const obj = clone(body) as KubeObject;
  const apiVersion = groupVersionOf(res);
  if ((obj.kind !== undefined && obj.kind !== res.kind) || (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion)) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  obj.apiVersion = apiVersion;
  obj.kind = res.kind;
  if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) obj.metadata = {};
  if (res.namespaced) {
    if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== '' && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (namespace === undefined) throw badRequest('a namespace is required for namespaced resources');
    obj.metadata.namespace = namespace;
  } else {
    delete obj.metadata.namespace;
  }
  return obj;
}

/** The label and field selectors of a list or watch as one predicate (400 on a bad selector). */
export function objectFilter(res: ResourceType, opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): (obj: KubeObject) => boolean {
  try {
    const labels = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
    const fields = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector, res.resource) : undefined;
    return (obj) => (!labels || matchesLabels(labels, obj.metadata.labels)) && (!fields || matchesFields(fields, obj));
  } catch (err) {
    if (err instanceof SelectorParseError) throw badRequest(err.message);
    throw err;
  }
}

/** Store and patch errors as the Status the client gets. */
export function toStatusError(err: unknown, res: ResourceType, name: string): ApiStatusError {
  if (err instanceof ApiStatusError) return err;
  if (err instanceof StoreKeyExistsError) return alreadyExists(res, name);
  if (err instanceof StoreKeyNotFoundError) return notFound(res, name);
  if (err instanceof StoreConflictError) return conflict(res, name);
  if (err instanceof StoreCompactedError) return expired(`too old resource version: ${err.requested} (${err.compactRevision})`);
  if (err instanceof StoreUnavailableError) return serviceUnavailable(`the storage is unavailable: ${err.message}`);
  return internalError(err instanceof Error ? err.message : String(err));
}

function patchWith(res: ResourceType, name: string, work: () => object): object {
  try {
    return work();
  } catch (err) {
    if (err instanceof PatchError) {
      if (err.code === 409) throw applyConflict(err.message);
      if (err.code === 422) throw invalid(res, name, [{ type: 'FieldValueInvalid', field: '', message: err.message }]);
      throw badRequest(err.message);
    }
    throw err;
  }
}

function ownerOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** Five characters as kube's generateName uses (no vowels, no look-alikes). */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}
