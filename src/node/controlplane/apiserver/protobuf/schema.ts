/**
 * Message descriptions for the Kubernetes protobuf encoding: for each message, its fields by
 * number with JSON name, type and how Go's encoding/json would print them. Field numbers come
 * from the generated.proto files of k8s.io/api and k8s.io/apimachinery; presence follows the
 * Go types (pointer or value, `omitempty` or not), because protobuf alone can't tell "unset"
 * from "zero" and the JSON kubectl would have sent depends on it.
 *
 * Tables are written one field a line (see messages-*.ts):
 *
 *   <number> <jsonName> <type>[?|!]     a field
 *   <number> ...<Message>               an embedded struct, inlined into its parent (`json:",inline"`)
 *
 * type: a scalar (string, bytes, int32, int64, bool, double), a special type (IntOrString,
 * Quantity, Time, MicroTime, RawExtension, FieldsV1) or a message name; `[T]` repeated;
 * `{T}` a map with string keys.
 * no suffix: a Go value with omitempty — printed unless zero (messages: whenever present);
 * `?`: a Go pointer — printed whenever present, zero included;
 * `!`: a Go value without omitempty — printed always, zero when absent.
 */
import { CORE_MESSAGES } from './messages-core.js';
import { META_MESSAGES } from './messages-meta.js';
import { WORKLOAD_MESSAGES } from './messages-workloads.js';

export type ScalarType = 'string' | 'bytes' | 'int32' | 'int64' | 'bool' | 'double';
export type SpecialType = 'IntOrString' | 'Quantity' | 'Time' | 'MicroTime' | 'RawExtension' | 'FieldsV1';

const SCALARS = new Set<string>(['string', 'bytes', 'int32', 'int64', 'bool', 'double']);
const SPECIALS = new Set<string>(['IntOrString', 'Quantity', 'Time', 'MicroTime', 'RawExtension', 'FieldsV1']);

export type ValueType = { kind: 'scalar'; scalar: ScalarType } | { kind: 'special'; special: SpecialType } | { kind: 'message'; message: string };

export type Presence = 'omitempty' | 'pointer' | 'always';

export interface FieldSchema {
  number: number;
  /** Undefined for an inlined (embedded) message. */
  jsonName?: string;
  type: ValueType;
  cardinality: 'single' | 'repeated' | 'map';
  presence: Presence;
}

export interface MessageSchema {
  name: string;
  /** In Go struct order: the order JSON keys are written in. */
  fields: FieldSchema[];
  byNumber: Map<number, FieldSchema>;
}

/** Message tables: message name → one field a line. */
export type MessageTable = Record<string, string>;

const LINE = /^(\d+)\s+(?:\.\.\.([A-Za-z0-9]+)|([A-Za-z0-9$]+)\s+(\[|\{)?([A-Za-z0-9]+)[\]}]?([?!])?)$/;

function parseValueType(name: string, where: string): ValueType {
  if (SCALARS.has(name)) return { kind: 'scalar', scalar: name as ScalarType };
  if (SPECIALS.has(name)) return { kind: 'special', special: name as SpecialType };
  if (!/^[A-Z]/.test(name)) throw new Error(`${where}: unknown type ${name}`);
  return { kind: 'message', message: name };
}

export function parseMessage(name: string, text: string): MessageSchema {
  const fields: FieldSchema[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`${name}: cannot read field line "${line}"`);
    const number = Number(m[1]);
    if (m[2] !== undefined) {
      fields.push({ number, type: { kind: 'message', message: m[2] }, cardinality: 'single', presence: 'omitempty' });
      continue;
    }
    const [, , , jsonName, open, typeName, suffix] = m;
    const cardinality = open === '[' ? 'repeated' : open === '{' ? 'map' : 'single';
    const presence: Presence = suffix === '?' ? 'pointer' : suffix === '!' ? 'always' : 'omitempty';
    fields.push({ number, jsonName: jsonName!, type: parseValueType(typeName!, `${name}.${jsonName}`), cardinality, presence });
  }
  const byNumber = new Map<number, FieldSchema>();
  for (const f of fields) {
    if (byNumber.has(f.number)) throw new Error(`${name}: field number ${f.number} used twice`);
    byNumber.set(f.number, f);
  }
  return { name, fields, byNumber };
}

function buildRegistry(tables: MessageTable[]): Map<string, MessageSchema> {
  const registry = new Map<string, MessageSchema>();
  for (const table of tables) {
    for (const [name, text] of Object.entries(table)) {
      if (registry.has(name)) throw new Error(`message ${name} described twice`);
      registry.set(name, parseMessage(name, text));
    }
  }
  // Every referenced message must be described: a typo would otherwise drop a field silently.
  for (const schema of registry.values()) {
    for (const f of schema.fields) {
      if (f.type.kind === 'message' && !registry.has(f.type.message)) {
        throw new Error(`${schema.name}: field ${f.number} refers to undescribed message ${f.type.message}`);
      }
    }
  }
  return registry;
}

const REGISTRY = buildRegistry([META_MESSAGES, CORE_MESSAGES, WORKLOAD_MESSAGES]);

export function messageSchema(name: string): MessageSchema | undefined {
  return REGISTRY.get(name);
}

/** Every described message (for tests). */
export function allMessageSchemas(): MessageSchema[] {
  return [...REGISTRY.values()];
}

// ---------------------------------------------------------------------------------------------
// Top-level kinds: which message a body of apiVersion/kind holds
// ---------------------------------------------------------------------------------------------

interface KindEntry {
  message: string;
  /** The group-versions whose layout the message describes; undefined: any (meta.k8s.io option kinds). */
  apiVersions?: readonly string[];
}

const KINDS: Record<string, KindEntry> = {
  Namespace: { message: 'Namespace', apiVersions: ['v1'] },
  Node: { message: 'Node', apiVersions: ['v1'] },
  Pod: { message: 'Pod', apiVersions: ['v1'] },
  Service: { message: 'Service', apiVersions: ['v1'] },
  Endpoints: { message: 'Endpoints', apiVersions: ['v1'] },
  ConfigMap: { message: 'ConfigMap', apiVersions: ['v1'] },
  Secret: { message: 'Secret', apiVersions: ['v1'] },
  Event: { message: 'Event', apiVersions: ['v1'] },
  ServiceAccount: { message: 'ServiceAccount', apiVersions: ['v1'] },
  Binding: { message: 'Binding', apiVersions: ['v1'] },
  Deployment: { message: 'Deployment', apiVersions: ['apps/v1'] },
  ReplicaSet: { message: 'ReplicaSet', apiVersions: ['apps/v1'] },
  DaemonSet: { message: 'DaemonSet', apiVersions: ['apps/v1'] },
  Job: { message: 'Job', apiVersions: ['batch/v1'] },
  CronJob: { message: 'CronJob', apiVersions: ['batch/v1'] },
  Lease: { message: 'Lease', apiVersions: ['coordination.k8s.io/v1'] },
  PodDisruptionBudget: { message: 'PodDisruptionBudget', apiVersions: ['policy/v1'] },
  Eviction: { message: 'Eviction', apiVersions: ['policy/v1', 'policy/v1beta1'] },
  Scale: { message: 'Scale', apiVersions: ['autoscaling/v1'] },
  DeleteOptions: { message: 'DeleteOptions' },
};

/** The message a protobuf body of this apiVersion and kind holds, if it is one this server reads. */
export function rootMessageFor(apiVersion: string, kind: string): MessageSchema | undefined {
  const entry = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (!entry) return undefined;
  if (entry.apiVersions && !entry.apiVersions.includes(apiVersion)) return undefined;
  return REGISTRY.get(entry.message);
}

/** "Pod (v1), Deployment (apps/v1), …" for error messages. */
export function supportedKinds(): string[] {
  return Object.entries(KINDS).map(([kind, e]) => (e.apiVersions ? `${e.apiVersions.join('|')} ${kind}` : kind));
}
