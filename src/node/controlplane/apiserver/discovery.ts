/**
 * Discovery documents in the legacy JSON formats (APIVersions, APIGroupList, APIResourceList),
 * which every kubectl version reads (see the notes: aggregated discovery is not needed when
 * the answer's content type is plain application/json), and /version.
 */
import type { APIGroupList, APIResource, APIResourceList, APIVersions } from 'kubernetes-types/meta/v1.js';
import { groupVersionOf, RESOURCES, servedGroupVersions, type ResourceType, type Subresource } from './resources.js';

const MAIN_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

/** What the subresource list entry says (kind, and the group-version when it is not the parent's). */
const SUBRESOURCE_ENTRIES: Record<Subresource, { kind: string; group?: string; version?: string; verbs: string[] }> = {
  status: { kind: '', verbs: STATUS_VERBS },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: STATUS_VERBS },
  binding: { kind: 'Binding', verbs: ['create'] },
  // drain checks this entry: without policy/v1 Eviction it deletes pods instead of evicting them.
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
};

export function versionInfo(version: string, now: Date = new Date()): Record<string, string> {
  const [major = '1', minor = '0'] = version.split('.');
  return {
    major,
    minor,
    gitVersion: `v${version}`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    goVersion: 'go1.22.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): APIVersions {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(): APIGroupList {
  const groups = servedGroupVersions()
    .filter((gv) => gv.group !== '')
    .map(({ group, version }) => {
      const gv = { groupVersion: `${group}/${version}`, version };
      return { name: group, versions: [gv], preferredVersion: gv };
    });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** The APIResourceList of one group-version, or undefined when it is not served. */
export function apiResourceList(group: string, version: string): APIResourceList | undefined {
  const served = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const resources: APIResource[] = [];
  for (const res of served) {
    resources.push(mainEntry(res));
    // A resource is listed before its subresources (drain and client libraries expect it).
    for (const sub of res.subresources) resources.push(subresourceEntry(res, sub));
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionOf({ group, version }), resources };
}

function mainEntry(res: ResourceType): APIResource {
  const entry: APIResource = {
    name: res.resource,
    singularName: res.kind.toLowerCase(),
    namespaced: res.namespaced,
    kind: res.kind,
    verbs: res.deleteCollection ? MAIN_VERBS : MAIN_VERBS.filter((v) => v !== 'deletecollection'),
  };
  if (res.shortNames.length > 0) entry.shortNames = res.shortNames;
  if (res.categories.length > 0) entry.categories = res.categories;
  return entry;
}

function subresourceEntry(res: ResourceType, sub: Subresource): APIResource {
  const spec = SUBRESOURCE_ENTRIES[sub];
  const entry: APIResource = {
    name: `${res.resource}/${sub}`,
    singularName: '',
    namespaced: res.namespaced,
    kind: spec.kind === '' ? res.kind : spec.kind,
    verbs: spec.verbs,
  };
  if (spec.group !== undefined) entry.group = spec.group;
  if (spec.version !== undefined) entry.version = spec.version;
  return entry;
}
