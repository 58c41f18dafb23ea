import { cloneJson, isJsonObject, jsonEqual, type JsonObject } from './json-value.js';
import { listRule } from './merge-keys.js';
import { formatConflicts, recordUpdate, serverSideApply } from './server-side-apply.js';

/**
 * The four PATCH flavours of the Kubernetes API, as pure functions from (current object,
 * patch body) to the new object: JSON patch (RFC 6902), merge patch (RFC 7386), strategic
 * merge patch (lists merged by the keys in merge-keys.ts) and server-side apply.
 */

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** The patch type of a request's Content-Type; parameters like `; charset=utf-8` are ignored. */
export function patchTypeOf(contentType: string): PatchType | undefined {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return PATCH_TYPES[mediaType];
}

export interface PatchErrorCause {
  type: string;
  message: string;
  field: string;
}

/** The API server turns this into a Status: 400 BadRequest, 409 Conflict, 422 Invalid. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: 400 | 409 | 422,
    /** For apply conflicts: one cause per conflicting field (Status details.causes). */
    readonly causes: PatchErrorCause[] = [],
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

export { recordUpdate } from './server-side-apply.js';

export interface PatchOptions {
  fieldManager?: string;
  force?: boolean;
  /** managedFields time, RFC 3339 to the second; defaults to the clock. */
  now?: string;
}

/**
 * kind: 'Pod', 'Deployment', ... ; current undefined only for 'apply' of an absent object.
 * Never mutates its inputs. With a fieldManager, metadata.managedFields records who set what.
 */
export function applyPatch(kind: string, current: object | undefined, patch: unknown, type: PatchType, opts: PatchOptions): object {
  const now = opts.now ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (type === 'apply') {
    if (opts.fieldManager === undefined || opts.fieldManager === '')
      throw new PatchError('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', 400);
    if (!isJsonObject(patch)) throw new PatchError('error decoding YAML: the apply patch must be a JSON or YAML object', 400);
    const currentKind = (current as JsonObject | undefined)?.kind ?? kind;
    if (patch.kind !== undefined && patch.kind !== currentKind)
      throw new PatchError(`the kind in the apply patch (${String(patch.kind)}) does not match the object's kind (${String(currentKind)})`, 400);
    const result = serverSideApply(kind, current as JsonObject | undefined, patch, { manager: opts.fieldManager, force: opts.force ?? false, now });
    if ('conflicts' in result) {
      throw new PatchError(
        formatConflicts(result.conflicts),
        409,
        result.conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with ${JSON.stringify(c.manager)}`, field: c.path })),
      );
    }
    return result.object;
  }
  if (current === undefined) throw new PatchError('the object to patch does not exist', 422);
  let patched: unknown;
  switch (type) {
    case 'json':
      patched = applyJsonPatch(current, patch);
      break;
    case 'merge':
      if (!isJsonObject(patch)) throw new PatchError('a merge patch must be a JSON object', 400);
      patched = mergePatch(current, patch);
      break;
    case 'strategic':
      if (!isJsonObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object', 400);
      patched = strategicMerge(kind, [], current, patch);
      break;
  }
  if (!isJsonObject(patched)) throw new PatchError('the patched object is not a JSON object', 422);
  if (opts.fieldManager === undefined || opts.fieldManager === '') return patched;
  return recordUpdate(kind, current as JsonObject, patched, opts.fieldManager, now);
}

// ---------------------------------------------------------------------------------------
// JSON patch (RFC 6902) with JSON pointers (RFC 6901).

interface JsonPatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer ${JSON.stringify(pointer)} must start with '/'`, 422);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, pointer: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(`invalid array index ${JSON.stringify(token)} in ${pointer}`, 422);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw new PatchError(`array index out of bounds: ${pointer}`, 422);
  return index;
}

/** The container (object or array) holding the pointer's last token. */
function parentOf(doc: unknown, tokens: string[], op: string, pointer: string): { parent: JsonObject | unknown[]; last: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false, pointer)];
    else if (isJsonObject(node) && Object.prototype.hasOwnProperty.call(node, token)) node = node[token];
    else node = undefined;
    if (node === undefined) break;
  }
  if (!Array.isArray(node) && !isJsonObject(node))
    throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}: missing value`, 422);
  return { parent: node, last: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: unknown, pointer: string, op: string): unknown {
  let node = doc;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false, pointer)];
    else if (isJsonObject(node) && Object.prototype.hasOwnProperty.call(node, token)) node = node[token];
    else throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}: missing value`, 422);
  }
  return node;
}

function addAt(doc: unknown, pointer: string, value: unknown, op: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, op, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, pointer), 0, value);
  else parent[last] = value;
  return doc;
}

function removeAt(doc: unknown, pointer: string, op: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return undefined;
  const { parent, last } = parentOf(doc, tokens, op, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length, false, pointer), 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, last))
      throw new PatchError(`${op} operation does not apply: doc is missing key: ${JSON.stringify(pointer)}: missing value`, 422);
    delete parent[last];
  }
  return doc;
}

function applyJsonPatch(current: object, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch', 400);
  let doc: unknown = cloneJson(current);
  for (const raw of patch) {
    if (!isJsonObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw new PatchError(`invalid JSON patch operation: ${JSON.stringify(raw)}`, 400);
    const operation = raw as unknown as JsonPatchOperation;
    const needsValue = operation.op === 'add' || operation.op === 'replace' || operation.op === 'test';
    if (needsValue && !Object.prototype.hasOwnProperty.call(raw, 'value'))
      throw new PatchError(`${operation.op} operation has no value`, 422);
    switch (operation.op) {
      case 'add':
        doc = addAt(doc, operation.path, cloneJson(operation.value), 'add');
        break;
      case 'remove':
        getAt(doc, operation.path, 'remove');
        doc = removeAt(doc, operation.path, 'remove');
        break;
      case 'replace':
        getAt(doc, operation.path, 'replace');
        doc = parsePointer(operation.path).length === 0 ? cloneJson(operation.value) : addAt(removeAt(doc, operation.path, 'replace'), operation.path, cloneJson(operation.value), 'replace');
        break;
      case 'move':
      case 'copy': {
        if (typeof operation.from !== 'string') throw new PatchError(`${operation.op} operation has no from`, 422);
        if (operation.op === 'move' && (operation.path + '/').startsWith(operation.from + '/') && operation.path !== operation.from)
          throw new PatchError(`move operation cannot move ${operation.from} into its own child ${operation.path}`, 422);
        const value = cloneJson(getAt(doc, operation.from, operation.op));
        if (operation.op === 'move') doc = removeAt(doc, operation.from, 'move');
        doc = addAt(doc, operation.path, value, operation.op);
        break;
      }
      case 'test': {
        let actual: unknown;
        try {
          actual = getAt(doc, operation.path, 'test');
        } catch {
          actual = undefined;
        }
        const expected = operation.value;
        if (!(actual === undefined ? expected === null : jsonEqual(actual, expected)))
          throw new PatchError(`testing value ${operation.path} failed: test failed`, 422);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${operation.op}`, 422);
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------------------
// Merge patch (RFC 7386): objects merge, null deletes, everything else replaces.

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return cloneJson(result);
}

// ---------------------------------------------------------------------------------------
// Strategic merge patch: like a merge patch, but lists with a merge key merge item by item,
// and `$patch`, `$setElementOrder/`, `$retainKeys`, `$deleteFromPrimitiveList/` steer it.

const PATCH_DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

/** Merges `patch` into `original` (which may be undefined); returns undefined when the map is deleted. */
function strategicMerge(kind: string, path: string[], original: unknown, patch: JsonObject): JsonObject | undefined {
  const directive = patch[PATCH_DIRECTIVE];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(kind, path, patch);
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`Unknown patch type: ${String(directive)}`, 400);

  const result: JsonObject = isJsonObject(original) ? { ...original } : {};
  const retainKeys = patch[RETAIN_KEYS];
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys)) throw new PatchError(`invalid ${RETAIN_KEYS}: must be a list`, 400);
    for (const key of Object.keys(patch)) {
      // kubectl sends `"rollingUpdate": null` beside `$retainKeys: ["type"]`: nulls are exempt, as in kube.
      if (!key.startsWith('$') && patch[key] !== null && !retainKeys.includes(key))
        throw new PatchError(`doesn't match retainKeys: ${JSON.stringify(retainKeys)} does not contain ${key}`, 422);
    }
    for (const key of Object.keys(result)) if (!retainKeys.includes(key)) delete result[key];
  }

  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    const childPath = [...path, key];
    if (value === null) {
      delete result[key];
    } else if (isJsonObject(value)) {
      const merged = strategicMerge(kind, childPath, result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(kind, childPath, result[key], value);
    } else {
      result[key] = value;
    }
  }

  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      if (!Array.isArray(value)) throw new PatchError(`invalid ${key}: must be a list`, 400);
      const list = result[field];
      if (Array.isArray(list)) result[field] = list.filter((item) => !value.some((gone) => jsonEqual(gone, item)));
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(SET_ELEMENT_ORDER)) {
      const field = key.slice(SET_ELEMENT_ORDER.length);
      if (!Array.isArray(value)) throw new PatchError(`invalid ${key}: must be a list`, 400);
      const list = result[field];
      if (Array.isArray(list)) result[field] = orderList(kind, [...path, field], list, value);
    }
  }
  return result;
}

/** A patch value with its directives processed as if merged into nothing. */
function stripDirectives(kind: string, path: string[], patch: JsonObject): JsonObject {
  const { [PATCH_DIRECTIVE]: _ignored, ...rest } = patch;
  return strategicMerge(kind, path, undefined, rest) ?? {};
}

function mergeKeyOf(kind: string, path: string[]): string | 'set' | undefined {
  const rule = listRule(kind, path)?.strategic;
  return rule === undefined ? undefined : rule === 'set' ? 'set' : rule.mergeKey;
}

function mergeList(kind: string, path: string[], original: unknown, patch: unknown[]): unknown[] {
  const itemPath = [...path, '[]'];
  // {"$patch": "replace"} as an item: the list is exactly the other items.
  const replaceMarker = patch.findIndex((item) => isJsonObject(item) && item[PATCH_DIRECTIVE] === 'replace' && Object.keys(item).length === 1);
  const mergeKey = mergeKeyOf(kind, path);
  if (replaceMarker >= 0 || mergeKey === undefined || !Array.isArray(original)) {
    return patch
      .filter((_, i) => i !== replaceMarker)
      .filter((item) => !(isJsonObject(item) && item[PATCH_DIRECTIVE] === 'delete'))
      .map((item) => (isJsonObject(item) ? stripDirectives(kind, itemPath, item) : cloneJson(item)));
  }
  if (mergeKey === 'set') {
    const result = [...original];
    for (const item of patch) if (!result.some((existing) => jsonEqual(existing, item))) result.push(cloneJson(item));
    return result;
  }
  const result = [...original];
  for (const item of patch) {
    if (!isJsonObject(item)) throw new PatchError(`unable to find merge key ${JSON.stringify(mergeKey)} in a non-object list item`, 400);
    if (!Object.prototype.hasOwnProperty.call(item, mergeKey))
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`, 400);
    const index = result.findIndex((existing) => isJsonObject(existing) && jsonEqual(existing[mergeKey], item[mergeKey]));
    if (item[PATCH_DIRECTIVE] === 'delete') {
      if (index >= 0) {
        const keyValue = item[mergeKey];
        for (let i = result.length - 1; i >= 0; i--) {
          const existing = result[i];
          if (isJsonObject(existing) && jsonEqual(existing[mergeKey], keyValue)) result.splice(i, 1);
        }
      }
      continue;
    }
    if (index >= 0) result[index] = strategicMerge(kind, itemPath, result[index], item) ?? {};
    else result.push(stripDirectives(kind, itemPath, item));
  }
  return result;
}

/**
 * `$setElementOrder/<list>`: the listed items come first, in that order; items the patch did
 * not mention (present only on the server) follow in their existing order.
 */
function orderList(kind: string, path: string[], list: unknown[], order: unknown[]): unknown[] {
  const mergeKey = mergeKeyOf(kind, path);
  const identity = (item: unknown): unknown => (mergeKey !== undefined && mergeKey !== 'set' && isJsonObject(item) ? item[mergeKey] : item);
  const remaining = [...list];
  const ordered: unknown[] = [];
  for (const wanted of order) {
    const index = remaining.findIndex((item) => jsonEqual(identity(item), identity(wanted)));
    if (index >= 0) ordered.push(...remaining.splice(index, 1));
  }
  return [...ordered, ...remaining];
}

export { formatConflicts };
