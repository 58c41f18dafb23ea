import { cloneJson, isJsonObject, jsonEqual, type JsonObject } from './json-value.js';
import { isAtomicStruct, listRule } from './merge-keys.js';

/**
 * Server-side apply and metadata.managedFields, after Kubernetes' structured-merge-diff
 * (SMD) and the API server's field manager, simplified where no client can tell:
 *
 * - A manager owns a set of field paths, written as FieldsV1: `f:name` for a field,
 *   `k:{"name":"web"}` for a list-map item (keys from merge-keys.ts), `v:"x"` for a set item,
 *   `.` for the item itself when its children are listed too.
 * - Apply: the applied config is the manager's whole intent. It is merged into the live
 *   object; what the manager applied last time and left out now is removed unless someone
 *   else owns it; changing a field another manager owns is a conflict unless forced.
 * - Update (every other write): the writer takes the fields it changed away from the others.
 *
 * Left out: per-version conversion of managed sets, the cap of ten Update entries
 * ("ancient-changes"), the managedFields of a parent seen through its /scale, and the
 * schema: without it, every map or list a write creates is marked `.`, where kube leaves out
 * struct fields that a Go zero value already has (`f:spec`).
 */

export interface ApplyConflict {
  manager: string;
  /** Kubernetes' field path: `.spec.replicas`, `.spec.template.spec.containers[name="web"].image`. */
  path: string;
  /** The other manager's entry, for the message: Update managers print "using <apiVersion>". */
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  subresource?: string;
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  /** managedFields time, RFC 3339 to the second. */
  now: string;
}

const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** kubectl's field manager for `apply --server-side`, the one allowed to take over from client-side apply. */
const KUBECTL_APPLY_MANAGER = 'kubectl';
/** Owns every field of an object that had no managedFields when it was first applied to. */
const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';

// ---------------------------------------------------------------------------------------
// Field sets.

/** One step of a field path in FieldsV1 form: `f:spec`, `k:{"name":"web"}`, `v:"x"`, `i:0`. */
type PathElement = string;
type FieldPath = readonly PathElement[];

const ELEMENT_RANK: Record<string, number> = { 'f:': 0, 'k:': 1, 'v:': 2, 'i:': 3 };

function compareScalars(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = JSON.stringify(a);
  const right = JSON.stringify(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** SMD's order: fields, then keys, then values, then indexes; each by its content. */
function comparePathElements(a: PathElement, b: PathElement): number {
  const rank = (ELEMENT_RANK[a.slice(0, 2)] ?? 4) - (ELEMENT_RANK[b.slice(0, 2)] ?? 4);
  if (rank !== 0) return rank;
  const [left, right] = [a.slice(2), b.slice(2)];
  switch (a.slice(0, 2)) {
    case 'k:': {
      const [leftKey, rightKey] = [Object.entries(JSON.parse(left) as JsonObject), Object.entries(JSON.parse(right) as JsonObject)];
      for (let i = 0; i < Math.min(leftKey.length, rightKey.length); i++) {
        const [[leftName, leftValue], [rightName, rightValue]] = [leftKey[i]!, rightKey[i]!];
        if (leftName !== rightName) return leftName < rightName ? -1 : 1;
        const byValue = compareScalars(leftValue, rightValue);
        if (byValue !== 0) return byValue;
      }
      return leftKey.length - rightKey.length;
    }
    case 'v:':
      return compareScalars(JSON.parse(left), JSON.parse(right));
    case 'i:':
      return Number(left) - Number(right);
    default:
      return left < right ? -1 : left > right ? 1 : 0;
  }
}

/** A key's fields sorted by name, so that equal keys are equal strings. */
function keyElement(key: JsonObject): PathElement {
  const sorted = Object.fromEntries(Object.keys(key).sort().map((name) => [name, key[name]]));
  return `k:${JSON.stringify(sorted)}`;
}

/** `.spec`, `[name="web"]`, `[="x"]`, `[0]`: how Kubernetes prints a path element. */
function displayElement(pe: PathElement): string {
  const body = pe.slice(2);
  switch (pe.slice(0, 2)) {
    case 'k:':
      return `[${Object.entries(JSON.parse(body) as JsonObject).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(',')}]`;
    case 'v:':
      return `[=${body}]`;
    case 'i:':
      return `[${body}]`;
    default:
      return `.${body}`;
  }
}

function displayPath(path: FieldPath): string {
  return path.map(displayElement).join('');
}

/** A set of field paths as a tree; a node is a member when its own path is in the set. */
class FieldSet {
  member = false;
  readonly children = new Map<PathElement, FieldSet>();

  static of(paths: readonly FieldPath[]): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  /** Parses a FieldsV1 object; throws on anything that is not one. */
  static fromFieldsV1(value: unknown): FieldSet {
    if (!isJsonObject(value)) throw new Error('FieldsV1 must be an object');
    const set = new FieldSet();
    for (const [key, child] of Object.entries(value)) {
      if (key === '.') {
        set.member = true;
        continue;
      }
      const body = key.slice(2);
      let pe: PathElement;
      switch (key.slice(0, 2)) {
        case 'f:':
          pe = key;
          break;
        case 'k:': {
          const parsed: unknown = JSON.parse(body);
          if (!isJsonObject(parsed)) throw new Error(`invalid key in FieldsV1: ${key}`);
          pe = keyElement(parsed);
          break;
        }
        case 'v:':
          pe = `v:${JSON.stringify(JSON.parse(body))}`;
          break;
        case 'i:':
          if (!/^\d+$/.test(body)) throw new Error(`invalid index in FieldsV1: ${key}`);
          pe = key;
          break;
        default:
          throw new Error(`invalid path element in FieldsV1: ${key}`);
      }
      const childSet = FieldSet.fromFieldsV1(child);
      if (isJsonObject(child) && Object.keys(child).length === 0) childSet.member = true;
      set.children.set(pe, childSet);
    }
    return set;
  }

  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    for (const pe of this.sortedElements()) out[pe] = this.children.get(pe)!.toFieldsV1();
    return out;
  }

  insert(path: FieldPath): void {
    let node: FieldSet = this;
    for (const pe of path) {
      let child = node.children.get(pe);
      if (child === undefined) {
        child = new FieldSet();
        node.children.set(pe, child);
      }
      node = child;
    }
    node.member = true;
  }

  has(path: FieldPath): boolean {
    return this.at(path)?.member ?? false;
  }

  at(path: FieldPath): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const pe of path) node = node?.children.get(pe);
    return node;
  }

  isEmpty(): boolean {
    if (this.member) return false;
    for (const child of this.children.values()) if (!child.isEmpty()) return false;
    return true;
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.combine(this, other, (a, b) => a || b);
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.combine(this, other, (a, b) => a && b);
  }

  /** The members of this set that are not members of `other`. */
  difference(other: FieldSet): FieldSet {
    return FieldSet.combine(this, other, (a, b) => a && !b);
  }

  /** This set without every path at or below a member of `other`. */
  recursiveDifference(other: FieldSet): FieldSet {
    const result = new FieldSet();
    if (other.member) return result;
    result.member = this.member;
    for (const [pe, child] of this.children) {
      const otherChild = other.children.get(pe);
      const kept = otherChild === undefined ? child.union(new FieldSet()) : child.recursiveDifference(otherChild);
      if (!kept.isEmpty()) result.children.set(pe, kept);
    }
    return result;
  }

  /** Every member path in SMD's order: a node's member children first, then their subtrees. */
  paths(prefix: FieldPath = []): FieldPath[] {
    const elements = this.sortedElements();
    const members = elements.filter((pe) => this.children.get(pe)!.member).map((pe) => [...prefix, pe]);
    return [...members, ...elements.flatMap((pe) => this.children.get(pe)!.paths([...prefix, pe]))];
  }

  private sortedElements(): PathElement[] {
    return [...this.children.keys()].sort(comparePathElements);
  }

  private static combine(a: FieldSet | undefined, b: FieldSet | undefined, keep: (inA: boolean, inB: boolean) => boolean): FieldSet {
    const result = new FieldSet();
    result.member = keep(a?.member ?? false, b?.member ?? false);
    const elements = new Set([...(a?.children.keys() ?? []), ...(b?.children.keys() ?? [])]);
    for (const pe of elements) {
      const child = FieldSet.combine(a?.children.get(pe), b?.children.get(pe), keep);
      if (!child.isEmpty()) result.children.set(pe, child);
    }
    return result;
  }
}

/**
 * Fields nobody owns: identity and system metadata (kube's strip set) and status, which a
 * write to the main resource cannot change (this server's status writes keep metadata as stored).
 */
const UNTRACKED_FIELDS = FieldSet.of([
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'resourceVersion'].map((field) => ['f:metadata', `f:${field}`]),
]);
const UNTRACKED_TREES = FieldSet.of([['f:status'], ['f:metadata', 'f:managedFields']]);

function tracked(set: FieldSet): FieldSet {
  return set.difference(UNTRACKED_FIELDS).recursiveDifference(UNTRACKED_TREES);
}

// ---------------------------------------------------------------------------------------
// Walking objects: which values are maps, list maps, sets, or atomic leaves.

/** A list's shape for apply: items identified by keys, a set of scalars, or one atomic value. */
type ListShape = { keys: string[]; defaults: Record<string, string | number> } | 'set' | 'atomic';

function listShape(kind: string, schemaPath: readonly string[]): ListShape {
  const rule = listRule(kind, schemaPath)?.apply;
  if (rule === undefined) return 'atomic';
  if (rule === 'set') return 'set';
  return { keys: rule.keys, defaults: rule.defaults ?? {} };
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

interface IndexedList {
  order: PathElement[];
  items: Map<PathElement, unknown>;
}

/** Items by identity, or why the list has none (an item without its key, a duplicate). */
function indexList(shape: Exclude<ListShape, 'atomic'>, list: readonly unknown[]): IndexedList | string {
  const indexed: IndexedList = { order: [], items: new Map() };
  for (const [i, item] of list.entries()) {
    let pe: PathElement;
    if (shape === 'set') {
      if (!isScalar(item)) return `element ${i}: a set may only hold scalars`;
      pe = `v:${JSON.stringify(item)}`;
    } else {
      if (!isJsonObject(item)) return `element ${i}: expected an object in an associative list`;
      const key: JsonObject = {};
      for (const name of shape.keys) {
        const value = item[name] ?? shape.defaults[name];
        if (value === undefined || value === null) {
          return `element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`;
        }
        if (!isScalar(value)) return `element ${i}: key field ${JSON.stringify(name)} must be a scalar`;
        key[name] = value;
      }
      pe = keyElement(key);
    }
    if (indexed.items.has(pe)) return `duplicate entries for key ${displayElement(pe)}`;
    indexed.items.set(pe, item);
    indexed.order.push(pe);
  }
  return indexed;
}

/** The applied config must have identifiable list items; live objects may not (their lists are then atomic). */
function indexConfigList(shape: Exclude<ListShape, 'atomic'>, list: readonly unknown[], path: FieldPath): IndexedList {
  const indexed = indexList(shape, list);
  if (typeof indexed === 'string') throw new Error(`failed to create typed patch object: ${displayPath(path)}: ${indexed}`);
  return indexed;
}

function isEmptyObject(value: unknown): boolean {
  return isJsonObject(value) && Object.keys(value).length === 0;
}

/** A copy without null map fields: null in an applied config means "absent, and mine". */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isJsonObject(value)) return cloneJson(value);
  return Object.fromEntries(Object.entries(value).filter(([, child]) => child !== null).map(([name, child]) => [name, withoutNulls(child)]));
}

// ---------------------------------------------------------------------------------------
// The four operations on objects: field set of a config, merge, compare, prune.

/** The paths an applied config sets: its scalars, atomic values, list items, nulls and empty maps. */
function configFieldSet(kind: string, config: JsonObject): FieldSet {
  const set = new FieldSet();
  const visit = (value: unknown, path: PathElement[], schema: string[]): void => {
    if (isJsonObject(value) && !isAtomicStruct(kind, schema)) {
      for (const [name, child] of Object.entries(value)) {
        const childPath = [...path, `f:${name}`];
        if (child === null || isEmptyObject(child)) set.insert(childPath);
        else visit(child, childPath, [...schema, name]);
      }
      return;
    }
    const shape = Array.isArray(value) ? listShape(kind, schema) : 'atomic';
    if (Array.isArray(value) && shape !== 'atomic') {
      const indexed = indexConfigList(shape, value, path);
      for (const pe of indexed.order) {
        set.insert([...path, pe]);
        if (shape !== 'set') visit(indexed.items.get(pe), [...path, pe], [...schema, '[]']);
      }
      return;
    }
    set.insert(path);
  };
  visit(config, [], []);
  return set;
}

/** The applied config merged into the live object: maps and list maps by key, everything else replaced. */
function mergeValues(kind: string, live: unknown, config: unknown, path: PathElement[], schema: string[]): unknown {
  if (isJsonObject(live) && isJsonObject(config) && !isAtomicStruct(kind, schema)) {
    const result: JsonObject = { ...live };
    for (const [name, value] of Object.entries(config)) {
      if (value === null) delete result[name];
      else result[name] = mergeValues(kind, live[name], value, [...path, `f:${name}`], [...schema, name]);
    }
    return cloneJson(result);
  }
  const shape = Array.isArray(config) ? listShape(kind, schema) : 'atomic';
  if (Array.isArray(config) && shape !== 'atomic') {
    const configItems = indexConfigList(shape, config, path);
    const liveItems = Array.isArray(live) ? indexList(shape, live) : undefined;
    if (liveItems !== undefined && typeof liveItems !== 'string') {
      return mergeLists(liveItems, configItems, (pe, liveItem, configItem) =>
        shape === 'set' ? configItem : mergeValues(kind, liveItem, configItem, [...path, pe], [...schema, '[]']),
      );
    }
  }
  return withoutNulls(config);
}

/**
 * Items only in the live list keep their place; the config's items follow the config's order
 * (merged with their live counterparts).
 */
function mergeLists(live: IndexedList, config: IndexedList, mergeItem: (pe: PathElement, liveItem: unknown, configItem: unknown) => unknown): unknown[] {
  const out: unknown[] = [];
  const done = new Set<PathElement>();
  let l = 0;
  let c = 0;
  while (l < live.order.length || c < config.order.length) {
    const livePe = live.order[l];
    if (livePe !== undefined) {
      if (done.has(livePe)) {
        l++;
        continue;
      }
      if (!config.items.has(livePe)) {
        out.push(cloneJson(live.items.get(livePe)));
        done.add(livePe);
        l++;
        continue;
      }
    }
    const configPe = config.order[c++];
    if (configPe === undefined) break;
    out.push(mergeItem(configPe, live.items.get(configPe), config.items.get(configPe)));
    done.add(configPe);
  }
  return out;
}

interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** What changed from `before` to `after`: changed leaves, and every path that appeared or went away. */
function compareObjects(kind: string, before: JsonObject, after: JsonObject): Comparison {
  const result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const presence = (a: unknown, b: unknown, path: FieldPath): void => {
    if (path.length === 0) return;
    if (a === undefined) result.added.insert(path);
    else if (b === undefined) result.removed.insert(path);
  };
  const visit = (a: unknown, b: unknown, path: PathElement[], schema: string[]): void => {
    const mapLike = (v: unknown): boolean => v === undefined || isJsonObject(v);
    if (!isAtomicStruct(kind, schema) && mapLike(a) && mapLike(b) && !(isEmptyMap(a) && isEmptyMap(b))) {
      const [aMap, bMap] = [(a ?? {}) as JsonObject, (b ?? {}) as JsonObject];
      for (const name of new Set([...Object.keys(aMap), ...Object.keys(bMap)])) {
        visit(aMap[name], bMap[name], [...path, `f:${name}`], [...schema, name]);
      }
      presence(a, b, path);
      return;
    }
    const shape = listShape(kind, schema);
    const listLike = (v: unknown): v is unknown[] | undefined => v === undefined || Array.isArray(v);
    if (shape !== 'atomic' && listLike(a) && listLike(b) && (a?.length ?? 0) + (b?.length ?? 0) > 0) {
      const aItems = indexList(shape, a ?? []);
      const bItems = indexList(shape, b ?? []);
      if (typeof aItems !== 'string' && typeof bItems !== 'string') {
        for (const pe of new Set([...aItems.order, ...bItems.order])) {
          visit(aItems.items.get(pe), bItems.items.get(pe), [...path, pe], [...schema, '[]']);
        }
        presence(a, b, path);
        return;
      }
    }
    if (a === undefined && b === undefined) return;
    if (a === undefined) result.added.insert(path);
    else if (b === undefined) result.removed.insert(path);
    else if (!jsonEqual(a, b)) result.modified.insert(path);
  };
  visit(before, after, [], []);
  return result;
}

function isEmptyMap(value: unknown): boolean {
  return value === undefined || isEmptyObject(value);
}

function compareTracked(kind: string, before: JsonObject, after: JsonObject): Comparison {
  const { added, modified, removed } = compareObjects(kind, before, after);
  return { added: tracked(added), modified: tracked(modified), removed: tracked(removed) };
}

/**
 * Removes from `merged` what the applier owned last time (`lastSet`) unless a manager owns
 * it now (`kept`: every manager's set, the applier's new one included). A map or list the
 * removal empties goes too; a list item's key fields stay while the item stays.
 */
function prune(kind: string, merged: JsonObject, lastSet: FieldSet, kept: FieldSet): JsonObject {
  const visit = (value: unknown, last: FieldSet, keep: FieldSet | undefined, schema: string[], keyFields: readonly string[]): { value: unknown } | undefined => {
    if (last.member && (keep === undefined || keep.isEmpty())) return undefined;
    if (last.children.size === 0) return { value };
    if (isJsonObject(value) && !isAtomicStruct(kind, schema)) {
      const result: JsonObject = {};
      for (const [name, child] of Object.entries(value)) {
        const lastChild = last.children.get(`f:${name}`);
        const pruned = lastChild === undefined || keyFields.includes(name) ? { value: child } : visit(child, lastChild, keep?.children.get(`f:${name}`), [...schema, name], []);
        if (pruned !== undefined) result[name] = pruned.value;
      }
      return Object.keys(result).length === 0 && Object.keys(value).length > 0 && !keep?.member ? undefined : { value: result };
    }
    const shape = Array.isArray(value) ? listShape(kind, schema) : 'atomic';
    if (Array.isArray(value) && shape !== 'atomic') {
      const indexed = indexList(shape, value);
      if (typeof indexed === 'string') return { value };
      const result: unknown[] = [];
      for (const pe of indexed.order) {
        const item = indexed.items.get(pe);
        const lastItem = last.children.get(pe);
        const pruned = lastItem === undefined ? { value: item } : visit(item, lastItem, keep?.children.get(pe), [...schema, '[]'], shape === 'set' ? [] : shape.keys);
        if (pruned !== undefined) result.push(pruned.value);
      }
      return result.length === 0 && value.length > 0 && !keep?.member ? undefined : { value: result };
    }
    return { value };
  };
  return (visit(merged, lastSet, kept, [], [])?.value ?? {}) as JsonObject;
}

// ---------------------------------------------------------------------------------------
// metadata.managedFields

interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  fields: FieldSet;
}

type ManagerIdentity = Pick<ManagedEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>;

/** Kube's manager identifier: an applier is the same manager whatever apiVersion it applied with. */
function sameManager(a: ManagerIdentity, b: ManagerIdentity): boolean {
  return (
    a.manager === b.manager &&
    a.operation === b.operation &&
    (a.subresource ?? '') === (b.subresource ?? '') &&
    (a.operation === 'Apply' || a.apiVersion === b.apiVersion)
  );
}

function metadataOf(obj: JsonObject): JsonObject | undefined {
  return isJsonObject(obj.metadata) ? obj.metadata : undefined;
}

function stringField(obj: JsonObject | undefined, field: string): string | undefined {
  const value = obj?.[field];
  return typeof value === 'string' ? value : undefined;
}

/** The entries of metadata.managedFields; none when they cannot be decoded (kube starts over then). */
function decodeManagedFields(obj: JsonObject): ManagedEntry[] {
  const raw = metadataOf(obj)?.managedFields;
  if (!Array.isArray(raw)) return [];
  const entries: ManagedEntry[] = [];
  try {
    for (const item of raw) {
      if (!isJsonObject(item)) return [];
      const manager = stringField(item, 'manager') ?? '';
      const operation = item.operation;
      if (operation !== 'Apply' && operation !== 'Update') return [];
      if (item.fieldsType !== undefined && item.fieldsType !== 'FieldsV1') return [];
      const entry: ManagedEntry = {
        manager,
        operation,
        apiVersion: stringField(item, 'apiVersion') ?? '',
        time: stringField(item, 'time'),
        subresource: stringField(item, 'subresource'),
        fields: FieldSet.fromFieldsV1(item.fieldsV1 ?? {}),
      };
      const same = entries.find((existing) => sameManager(existing, entry));
      if (same !== undefined) same.fields = same.fields.union(entry.fields);
      else entries.push(entry);
    }
  } catch {
    return [];
  }
  return entries;
}

/** Kube's order: Apply entries before Update entries, then by time, manager, apiVersion, subresource. */
function compareEntries(a: ManagedEntry, b: ManagedEntry): number {
  const order: Array<[string, string]> = [
    [a.operation, b.operation],
    [a.time ?? '', b.time ?? ''],
    [a.manager, b.manager],
    [a.apiVersion, b.apiVersion],
    [a.subresource ?? '', b.subresource ?? ''],
  ];
  for (const [left, right] of order) if (left !== right) return left < right ? -1 : 1;
  return 0;
}

/** Writes the entries into `obj` (in place); no entries removes the field. */
function setManagedFields(obj: JsonObject, entries: ManagedEntry[]): void {
  const live = entries.filter((entry) => !entry.fields.isEmpty()).sort(compareEntries);
  if (live.length === 0) {
    const meta = metadataOf(obj);
    if (meta !== undefined) delete meta.managedFields;
    return;
  }
  if (!isJsonObject(obj.metadata)) obj.metadata = {};
  (obj.metadata as JsonObject).managedFields = live.map((entry) => ({
    manager: entry.manager,
    operation: entry.operation,
    apiVersion: entry.apiVersion,
    ...(entry.time === undefined ? {} : { time: entry.time }),
    fieldsType: 'FieldsV1',
    fieldsV1: entry.fields.toFieldsV1(),
    ...(entry.subresource === undefined ? {} : { subresource: entry.subresource }),
  }));
}

function withoutManagedFields(obj: JsonObject): JsonObject {
  const meta = metadataOf(obj);
  if (meta === undefined || !('managedFields' in meta)) return obj;
  const { managedFields: _managedFields, ...rest } = meta;
  return { ...obj, metadata: rest };
}

/** `[{}]` is how a client asks for managedFields to be cleared (an empty list is ignored on purpose). */
function asksForReset(obj: JsonObject): boolean {
  const raw = metadataOf(obj)?.managedFields;
  return Array.isArray(raw) && raw.length === 1 && isEmptyObject(raw[0]);
}

// ---------------------------------------------------------------------------------------
// kubectl's client-side apply annotation

function lastAppliedConfig(obj: JsonObject): JsonObject | undefined {
  const annotations = metadataOf(obj)?.annotations;
  const text = isJsonObject(annotations) ? annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** JSON with object keys sorted, as Go encodes a map (and as kubectl wrote the annotation). */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (isJsonObject(value)) {
    const fields = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedJson(value[key])}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The annotation kube writes after `apply --server-side` by kubectl: the config without the annotation. */
function lastAppliedAnnotation(config: JsonObject): string {
  const copy = cloneJson(config);
  const annotations = metadataOf(copy)?.annotations;
  if (isJsonObject(annotations)) delete annotations[LAST_APPLIED_ANNOTATION];
  return `${sortedJson(copy)}\n`;
}

// ---------------------------------------------------------------------------------------
// Apply and update

function toConflict(entry: ManagedEntry, path: FieldPath): ApplyConflict {
  return {
    manager: entry.manager,
    path: displayPath(path),
    operation: entry.operation,
    apiVersion: entry.apiVersion,
    ...(entry.subresource === undefined ? {} : { subresource: entry.subresource }),
  };
}

/**
 * Applies `applied` as `opts.manager`'s full intent to `current` (undefined: creation).
 * metadata.managedFields in `applied` is ignored; its metadata.resourceVersion, if any, stays
 * in the result as a precondition.
 */
export function serverSideApply(
  kind: string,
  current: JsonObject | undefined,
  applied: JsonObject,
  opts: ApplyOptions,
): { object: JsonObject } | { conflicts: ApplyConflict[] } {
  const config = withoutManagedFields(cloneJson(applied));
  const live = current === undefined ? {} : withoutManagedFields(current);
  const apiVersion = stringField(config, 'apiVersion') ?? stringField(live, 'apiVersion') ?? '';
  const applier: ManagerIdentity = { manager: opts.manager, operation: 'Apply', apiVersion };

  let managers = current === undefined ? [] : decodeManagedFields(current);
  // An object nobody tracked is owned as a whole by "before-first-apply" (kube does the same).
  // A Scale never carries its parent's managedFields here, so it would always conflict.
  if (current !== undefined && managers.length === 0 && kind !== 'Scale') {
    const liveApiVersion = stringField(live, 'apiVersion') ?? apiVersion;
    managers = [{ manager: BEFORE_FIRST_APPLY_MANAGER, operation: 'Update', apiVersion: liveApiVersion, time: opts.now, fields: compareTracked(kind, {}, live).added }];
  }
  const previous = managers.find((entry) => sameManager(entry, applier));
  const others = managers.filter((entry) => entry !== previous);
  const applierFields = tracked(configFieldSet(kind, config));

  let merged = mergeValues(kind, live, config, [], []) as JsonObject;
  if (previous !== undefined) {
    const owned = others.reduce((all, entry) => all.union(entry.fields), applierFields);
    merged = prune(kind, merged, previous.fields, owned);
  }

  const change = compareTracked(kind, live, merged);
  const touched = change.added.union(change.modified);
  const conflicts = others.flatMap((entry) => entry.fields.intersection(touched).paths().map((path) => ({ entry, path })));
  if (conflicts.length > 0 && !opts.force) {
    // kubectl taking over from client-side apply may change what its annotation says it set.
    const lastApplied = opts.manager === KUBECTL_APPLY_MANAGER && current !== undefined ? lastAppliedConfig(current) : undefined;
    const allowed = lastApplied === undefined ? new FieldSet() : tracked(configFieldSetOrEmpty(kind, lastApplied));
    const refused = conflicts.filter((conflict) => !allowed.has(conflict.path));
    if (refused.length > 0) {
      refused.sort((a, b) => (a.entry.manager < b.entry.manager ? -1 : a.entry.manager > b.entry.manager ? 1 : 0));
      return { conflicts: refused.map((conflict) => toConflict(conflict.entry, conflict.path)) };
    }
  }

  const taken = touched.union(change.removed);
  const next = others.map((entry) => ({ ...entry, fields: entry.fields.difference(taken) }));
  const changed = !jsonEqual(live, merged);
  next.push({ ...applier, time: changed || previous?.time === undefined ? opts.now : previous.time, fields: applierFields });

  const object = merged;
  setManagedFields(object, next);
  if (opts.manager === KUBECTL_APPLY_MANAGER && lastAppliedConfig(object) !== undefined) {
    const annotations = metadataOf(object)!.annotations as JsonObject;
    annotations[LAST_APPLIED_ANNOTATION] = lastAppliedAnnotation(config);
  }
  return { object };
}

function configFieldSetOrEmpty(kind: string, config: JsonObject): FieldSet {
  try {
    return configFieldSet(kind, config);
  } catch {
    return new FieldSet();
  }
}

/**
 * metadata.managedFields after a write by `manager` that is not an apply (create, update,
 * JSON/merge/strategic patch): the manager's Update entry gains the fields it changed, which
 * other managers lose; removed fields leave every set. Pass `{}` as `current` for a create.
 * Like kube, an existing object that has no managedFields stays untracked until an apply.
 */
export function recordUpdate(kind: string, current: JsonObject, updated: JsonObject, manager: string, now: string): JsonObject {
  const result = cloneJson(updated);
  if (asksForReset(updated)) {
    setManagedFields(result, []);
    return result;
  }
  // managedFields the write itself sets win (kubectl rewrites them when it migrates to apply).
  let managers = decodeManagedFields(updated);
  if (managers.length === 0) managers = decodeManagedFields(current);
  if (managers.length === 0 && stringField(metadataOf(current), 'uid')) {
    setManagedFields(result, []);
    return result;
  }

  const apiVersion = stringField(updated, 'apiVersion') ?? stringField(current, 'apiVersion') ?? '';
  const updater: ManagerIdentity = { manager, operation: 'Update', apiVersion };
  const change = compareTracked(kind, current, updated);
  const touched = change.added.union(change.modified);
  const taken = touched.union(change.removed);

  const next: ManagedEntry[] = [];
  let own: ManagedEntry | undefined;
  for (const entry of managers) {
    const remaining = { ...entry, fields: entry.fields.difference(taken) };
    if (sameManager(entry, updater)) own = remaining;
    else next.push(remaining);
  }
  if (!touched.isEmpty()) own = { ...updater, time: now, fields: own === undefined ? touched : own.fields.union(touched) };
  if (own !== undefined) next.push(own);
  setManagedFields(result, next);
  return result;
}

/** Identifies a manager as kube prints it: `"x"`, or `"x" using apps/v1` for an Update entry. */
function describeManager(conflict: ApplyConflict): string {
  let text = JSON.stringify(conflict.manager);
  if (conflict.subresource) text += ` with subresource ${JSON.stringify(conflict.subresource)}`;
  if (conflict.operation === 'Update') text += ` using ${conflict.apiVersion ?? ''}`;
  return text;
}

/** Kubernetes' message for a refused apply (one line for one conflict, grouped by manager otherwise). */
export function formatConflicts(conflicts: ApplyConflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only !== undefined) return `Apply failed with 1 conflict: conflict with ${describeManager(only)}: ${only.path}`;
  const byManager = new Map<string, string[]>();
  for (const conflict of conflicts) {
    const manager = describeManager(conflict);
    byManager.set(manager, [...(byManager.get(manager) ?? []), conflict.path]);
  }
  const lines = [...byManager.keys()].sort().flatMap((manager) => [`conflicts with ${manager}:`, ...byManager.get(manager)!.map((path) => `- ${path}`)]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
