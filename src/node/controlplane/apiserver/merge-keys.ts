/**
 * How lists of the built-in kinds merge, in one table: the strategic-merge-patch merge keys
 * (Go struct tags `patchStrategy:"merge" patchMergeKey:"..."`) and the server-side-apply list
 * keys (`+listType=map +listMapKey=...`). Lists absent from the table are atomic: a patch or
 * an apply replaces them whole (tolerations and node taints are atomic in Kubernetes too —
 * merging those by key would make `kubectl taint node n key-` unable to remove a taint).
 *
 * Field paths are written with `[]` for "each item of the list": `spec.containers[].env`.
 */

export interface ListRule {
  /** Strategic merge patch: merge items by this field, or as a set of primitives. */
  strategic: { mergeKey: string } | 'set';
  /** Server-side apply: the item's identity (all keys), with defaults for keys left out. */
  apply: { keys: string[]; defaults?: Record<string, string | number> } | 'set';
}

function byKey(mergeKey: string): ListRule {
  return { strategic: { mergeKey }, apply: { keys: [mergeKey] } };
}

const SET: ListRule = { strategic: 'set', apply: 'set' };

/** Container ports are one list entry per containerPort in patches, per (containerPort, protocol) in apply. */
const CONTAINER_RULES: Record<string, ListRule> = {
  env: byKey('name'),
  ports: { strategic: { mergeKey: 'containerPort' }, apply: { keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } } },
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
};

const POD_SPEC_RULES: Record<string, ListRule> = {
  containers: byKey('name'),
  initContainers: byKey('name'),
  ephemeralContainers: byKey('name'),
  volumes: byKey('name'),
  imagePullSecrets: byKey('name'),
  hostAliases: byKey('ip'),
  ...Object.fromEntries(
    ['containers', 'initContainers', 'ephemeralContainers'].flatMap((list) =>
      Object.entries(CONTAINER_RULES).map(([field, rule]) => [`${list}[].${field}`, rule]),
    ),
  ),
};

/** Lists every kind has. */
const COMMON_RULES: Record<string, ListRule> = {
  'metadata.ownerReferences': byKey('uid'),
  'metadata.finalizers': SET,
  'status.conditions': byKey('type'),
};

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string> = {
  Pod: 'spec',
  PodTemplate: 'template.spec',
  ReplicationController: 'spec.template.spec',
  Deployment: 'spec.template.spec',
  ReplicaSet: 'spec.template.spec',
  DaemonSet: 'spec.template.spec',
  StatefulSet: 'spec.template.spec',
  Job: 'spec.template.spec',
  CronJob: 'spec.jobTemplate.spec.template.spec',
};

const KIND_RULES: Record<string, Record<string, ListRule>> = {
  Pod: { 'status.podIPs': byKey('ip'), 'status.hostIPs': byKey('ip') },
  Node: { 'spec.podCIDRs': SET, 'status.addresses': byKey('type') },
  Service: {
    'spec.ports': { strategic: { mergeKey: 'port' }, apply: { keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } } },
  },
};

/** Struct fields that apply owns and replaces as a whole (`+structType=atomic`). */
const ATOMIC_FIELDS: Record<string, string[]> = {
  Deployment: ['spec.selector'],
  ReplicaSet: ['spec.selector'],
  DaemonSet: ['spec.selector'],
  StatefulSet: ['spec.selector'],
  Job: ['spec.selector'],
};

function buildRules(kind: string): Map<string, ListRule> {
  const rules = new Map<string, ListRule>(Object.entries(COMMON_RULES));
  const podSpecPath = POD_SPEC_PATHS[kind];
  if (podSpecPath !== undefined) {
    for (const [field, rule] of Object.entries(POD_SPEC_RULES)) rules.set(`${podSpecPath}.${field}`, rule);
  }
  for (const [field, rule] of Object.entries(KIND_RULES[kind] ?? {})) rules.set(field, rule);
  return rules;
}

const rulesByKind = new Map<string, Map<string, ListRule>>();

/** The rule for the list at `path` (field names, `[]` for list items) of an object of `kind`. */
export function listRule(kind: string, path: readonly string[]): ListRule | undefined {
  let rules = rulesByKind.get(kind);
  if (rules === undefined) {
    rules = buildRules(kind);
    rulesByKind.set(kind, rules);
  }
  return rules.get(fieldPathString(path));
}

export function isAtomicStruct(kind: string, path: readonly string[]): boolean {
  return ATOMIC_FIELDS[kind]?.includes(fieldPathString(path)) ?? false;
}

/** ['spec', 'containers', '[]', 'env'] -> 'spec.containers[].env' */
export function fieldPathString(path: readonly string[]): string {
  return path.reduce((acc, part) => (part === '[]' ? `${acc}[]` : acc === '' ? part : `${acc}.${part}`), '');
}
