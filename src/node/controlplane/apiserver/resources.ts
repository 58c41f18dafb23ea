/**
 * The kinds this API server serves: one table, read by discovery, routing, storage and the
 * verbs. Adding a kind is adding a row (plus its defaults, validation and table columns in
 * their own modules).
 */

export type Subresource = 'status' | 'scale' | 'binding' | 'eviction';

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  namespaced: boolean;
  shortNames: string[];
  /** ['all'] for what `kubectl get all` shows. */
  categories: string[];
  subresources: Subresource[];
  /** metadata.generation is kept (1 on create, +1 per spec change), as for kube's workload kinds. */
  hasGeneration: boolean;
  /** PUT of an absent object creates it (kube's AllowCreateOnUpdate). */
  createOnUpdate: boolean;
  /** DELETE answers with the deleted object (kube's ReturnDeletedObject); otherwise a Success Status. */
  returnDeletedObject: boolean;
  /** deletecollection is served (not for namespaces, as in kube). */
  deleteCollection: boolean;
}

function kind(
  group: string,
  version: string,
  kindName: string,
  resource: string,
  namespaced: boolean,
  extra: Partial<Omit<ResourceType, 'group' | 'version' | 'kind' | 'resource' | 'namespaced'>> = {},
): ResourceType {
  return {
    group,
    version,
    kind: kindName,
    resource,
    namespaced,
    shortNames: [],
    categories: [],
    subresources: [],
    hasGeneration: false,
    createOnUpdate: false,
    returnDeletedObject: false,
    deleteCollection: true,
    ...extra,
  };
}

const ALL = ['all'];

export const RESOURCES: readonly ResourceType[] = [
  kind('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status'], returnDeletedObject: true, deleteCollection: false }),
  kind('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: ['status'] }),
  kind('', 'v1', 'Pod', 'pods', true, {
    shortNames: ['po'],
    categories: ALL,
    subresources: ['status', 'binding', 'eviction'],
    returnDeletedObject: true,
  }),
  kind('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], categories: ALL, subresources: ['status'], returnDeletedObject: true }),
  kind('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'], createOnUpdate: true }),
  kind('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  kind('', 'v1', 'Secret', 'secrets', true),
  kind('', 'v1', 'Event', 'events', true, { shortNames: ['ev'], createOnUpdate: true }),
  kind('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
  kind('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'],
    categories: ALL,
    subresources: ['status', 'scale'],
    hasGeneration: true,
  }),
  kind('apps', 'v1', 'ReplicaSet', 'replicasets', true, { shortNames: ['rs'], categories: ALL, subresources: ['status', 'scale'], hasGeneration: true }),
  kind('apps', 'v1', 'DaemonSet', 'daemonsets', true, { shortNames: ['ds'], categories: ALL, subresources: ['status'], hasGeneration: true }),
  kind('batch', 'v1', 'Job', 'jobs', true, { categories: ALL, subresources: ['status'], hasGeneration: true }),
  kind('batch', 'v1', 'CronJob', 'cronjobs', true, { shortNames: ['cj'], categories: ALL, subresources: ['status'], hasGeneration: true }),
  kind('coordination.k8s.io', 'v1', 'Lease', 'leases', true, { createOnUpdate: true }),
  kind('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, { shortNames: ['pdb'], subresources: ['status'], hasGeneration: true }),
];

/** "v1" or "apps/v1". */
export function groupVersionOf(res: Pick<ResourceType, 'group' | 'version'>): string {
  return res.group === '' ? res.version : `${res.group}/${res.version}`;
}

export function findResource(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function resourceForKind(kindName: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.kind === kindName);
}

export function resourceForApiVersionKind(apiVersion: string, kindName: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.kind === kindName && groupVersionOf(r) === apiVersion);
}

/** The group-versions served, core first. */
export function servedGroupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(groupVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

// ---------------------------------------------------------------------------------------------
// Storage keys: /registry/<resource>[.<group>]/<namespace>/<name>, cluster-scoped without namespace
// ---------------------------------------------------------------------------------------------

function storageResource(res: ResourceType): string {
  return res.group === '' ? res.resource : `${res.resource}.${res.group}`;
}

export function objectKey(res: ResourceType, namespace: string | undefined, name: string): string {
  return res.namespaced ? `/registry/${storageResource(res)}/${namespace ?? ''}/${name}` : `/registry/${storageResource(res)}/${name}`;
}

/** Every object of the kind (namespace undefined) or of one namespace; ends with '/'. */
export function collectionPrefix(res: ResourceType, namespace?: string): string {
  return res.namespaced && namespace !== undefined ? `/registry/${storageResource(res)}/${namespace}/` : `/registry/${storageResource(res)}/`;
}
