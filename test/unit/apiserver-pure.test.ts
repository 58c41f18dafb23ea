import { describe, expect, it } from 'vitest';
import { decodeContinue, encodeContinue } from '../../src/node/controlplane/apiserver/continue-token.js';
import { planDeletion, podGracePeriod } from '../../src/node/controlplane/apiserver/deletion.js';
import { apiResourceList, versionInfo } from '../../src/node/controlplane/apiserver/discovery.js';
import { responseForm } from '../../src/node/controlplane/apiserver/negotiation.js';
import { parseResourcePath } from '../../src/node/controlplane/apiserver/request-info.js';
import { findResource, objectKey, collectionPrefix } from '../../src/node/controlplane/apiserver/resources.js';
import { formatIpv4, inAllocatableRange, parseCidr, pickFree } from '../../src/node/controlplane/apiserver/service-allocator.js';
import { prepareForUpdate, podQosClass, readyToRemove, type KubeObject } from '../../src/node/controlplane/apiserver/strategy.js';
import { classifyWatchEvent } from '../../src/node/controlplane/apiserver/watch.js';

const pods = findResource('', 'v1', 'pods')!;
const deployments = findResource('apps', 'v1', 'deployments')!;
const namespaces = findResource('', 'v1', 'namespaces')!;

describe('parseResourcePath', () => {
  it.each([
    ['/api/v1/pods', { resource: 'pods', namespace: undefined, name: undefined }],
    ['/api/v1/namespaces/default/pods', { resource: 'pods', namespace: 'default', name: undefined }],
    ['/api/v1/namespaces/default/pods/web/status', { resource: 'pods', namespace: 'default', name: 'web', subresource: 'status' }],
    ['/api/v1/namespaces/kube-system', { resource: 'namespaces', namespace: undefined, name: 'kube-system' }],
    ['/api/v1/namespaces/foo/status', { resource: 'namespaces', namespace: undefined, name: 'foo', subresource: 'status' }],
    ['/apis/apps/v1/namespaces/x/deployments/d/scale', { resource: 'deployments', namespace: 'x', name: 'd', subresource: 'scale' }],
    ['/api/v1/nodes/n1', { resource: 'nodes', namespace: undefined, name: 'n1' }],
  ])('%s', (path, want) => {
    const info = parseResourcePath(path);
    expect(info.type).toBe('resource');
    if (info.type !== 'resource') return;
    expect(info.res.resource).toBe(want.resource);
    expect(info.namespace).toBe(want.namespace);
    expect(info.name).toBe(want.name);
    expect(info.subresource).toBe((want as { subresource?: string }).subresource);
  });

  it('knows group-version roots and unknown paths', () => {
    expect(parseResourcePath('/apis/apps/v1')).toEqual({ type: 'groupVersion', group: 'apps', version: 'v1' });
    expect(parseResourcePath('/api/v1/foos').type).toBe('unknown');
    expect(parseResourcePath('/apis/apps/v1/pods').type).toBe('unknown');
    expect(parseResourcePath('/api/v1/namespaces/a/pods/b/c/d').type).toBe('unknown');
  });
});

describe('responseForm', () => {
  it('takes the first Table the client accepts', () => {
    expect(responseForm('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json')).toEqual({
      as: 'Table',
      apiVersion: 'meta.k8s.io/v1',
    });
    expect(responseForm('application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json')).toEqual({ as: 'Table', apiVersion: 'meta.k8s.io/v1beta1' });
  });
  it('answers JSON to protobuf and plain requests', () => {
    expect(responseForm('application/vnd.kubernetes.protobuf,application/json')).toEqual({ as: 'object' });
    expect(responseForm(undefined)).toEqual({ as: 'object' });
    expect(responseForm('application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io,application/json')).toEqual({ as: 'object' });
  });
});

describe('discovery', () => {
  it('lists pods before their subresources, eviction as policy/v1', () => {
    const list = apiResourceList('', 'v1')!;
    const names = list.resources.map((r) => r.name);
    expect(names.indexOf('pods')).toBeLessThan(names.indexOf('pods/eviction'));
    const eviction = list.resources.find((r) => r.name === 'pods/eviction')!;
    expect(eviction).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    expect(list.resources.find((r) => r.name === 'pods')).toMatchObject({ shortNames: ['po'], categories: ['all'], singularName: 'pod' });
    expect(list.resources.find((r) => r.name === 'namespaces')!.verbs).not.toContain('deletecollection');
  });
  it('serves deployments/scale as autoscaling/v1 Scale', () => {
    const apps = apiResourceList('apps', 'v1')!;
    expect(apps.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(apiResourceList('nope', 'v1')).toBeUndefined();
  });
  it('reports the version', () => {
    expect(versionInfo('1.29.4')).toMatchObject({ major: '1', minor: '29', gitVersion: 'v1.29.4' });
  });
});

describe('storage keys', () => {
  it('qualifies non-core resources with their group', () => {
    expect(objectKey(pods, 'default', 'web')).toBe('/registry/pods/default/web');
    expect(objectKey(deployments, 'ns', 'd')).toBe('/registry/deployments.apps/ns/d');
    expect(objectKey(namespaces, undefined, 'x')).toBe('/registry/namespaces/x');
    expect(collectionPrefix(pods)).toBe('/registry/pods/');
    expect(collectionPrefix(pods, 'a')).toBe('/registry/pods/a/');
  });
});

describe('continue tokens', () => {
  it('round-trip and reject garbage', () => {
    const token = encodeContinue({ revision: 42, lastKey: '/registry/pods/default/a' });
    expect(decodeContinue(token)).toEqual({ revision: 42, lastKey: '/registry/pods/default/a' });
    expect(decodeContinue('not-a-token')).toBeUndefined();
  });
});

describe('service ranges', () => {
  it('parses a CIDR and keeps network/broadcast out', () => {
    const range = parseCidr('10.96.0.0/16');
    expect(formatIpv4(range.base)).toBe('10.96.0.0');
    expect(range.size).toBe(65536);
    expect(inAllocatableRange(range, '10.96.0.10')).toBe(true);
    expect(inAllocatableRange(range, '10.96.0.0')).toBe(false);
    expect(inAllocatableRange(range, '10.96.255.255')).toBe(false);
    expect(inAllocatableRange(range, '10.97.0.1')).toBe(false);
  });
  it('picks a free value, probing past used ones', () => {
    expect(pickFree(5, (i) => i, new Set([2, 3]), () => 0.4)).toBe(4);
    expect(pickFree(3, (i) => i, new Set([2, 0]), () => 0.99)).toBe(1);
    expect(pickFree(2, (i) => i, new Set([0, 1]))).toBeUndefined();
  });
});

function obj(kind: string, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'default', uid: 'u1', resourceVersion: '5' }, ...extra };
}

describe('deletion plan', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('removes an unbound pod at once, marks a bound one with its grace period', () => {
    expect(planDeletion(pods, obj('Pod', { spec: {} }), {}, now)).toEqual({ action: 'remove' });
    const plan = planDeletion(pods, obj('Pod', { spec: { nodeName: 'n1', terminationGracePeriodSeconds: 10 } }), {}, now);
    expect(plan.action).toBe('mark');
    if (plan.action !== 'mark') return;
    expect(plan.object.metadata.deletionGracePeriodSeconds).toBe(10);
    expect(plan.object.metadata.deletionTimestamp).toBe('2026-01-01T00:00:10Z');
  });
  it('gracePeriodSeconds=0 finishes a terminating pod', () => {
    const terminating = obj('Pod', { spec: { nodeName: 'n1' } });
    terminating.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    terminating.metadata.deletionGracePeriodSeconds = 30;
    expect(planDeletion(pods, terminating, {}, now)).toEqual({ action: 'none' });
    expect(planDeletion(pods, terminating, { gracePeriodSeconds: 0 }, now)).toEqual({ action: 'remove' });
  });
  it('finalizers and Foreground keep the object', () => {
    const withFinalizer = obj('ConfigMap');
    withFinalizer.metadata.finalizers = ['example.com/keep'];
    expect(planDeletion(findResource('', 'v1', 'configmaps')!, withFinalizer, {}, now).action).toBe('mark');
    const plan = planDeletion(deployments, obj('Deployment', { spec: {} }), { propagationPolicy: 'Foreground' }, now);
    expect(plan.action === 'mark' && plan.object.metadata.finalizers).toEqual(['foregroundDeletion']);
  });
  it('grace period is 0 for finished pods', () => {
    expect(podGracePeriod(obj('Pod', { spec: { nodeName: 'n' }, status: { phase: 'Succeeded' } }), undefined)).toBe(0);
    expect(podGracePeriod(obj('Pod', { spec: { nodeName: 'n' } }), undefined)).toBe(30);
  });
});

describe('strategy', () => {
  it('bumps generation only on spec changes and keeps status', () => {
    const old = obj('Deployment', { spec: { replicas: 1 }, status: { replicas: 1 } });
    old.metadata.generation = 3;
    const sameSpec = prepareForUpdate(deployments, { ...old, metadata: { ...old.metadata, labels: { a: 'b' } }, status: { replicas: 9 } }, old);
    expect(sameSpec.metadata.generation).toBe(3);
    expect(sameSpec.status).toEqual({ replicas: 1 });
    const newSpec = prepareForUpdate(deployments, { ...old, spec: { replicas: 2 } }, old);
    expect(newSpec.metadata.generation).toBe(4);
  });
  it('computes QoS classes', () => {
    expect(podQosClass(obj('Pod', { spec: { containers: [{}] } }))).toBe('BestEffort');
    expect(podQosClass(obj('Pod', { spec: { containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] } }))).toBe('Guaranteed');
    expect(podQosClass(obj('Pod', { spec: { containers: [{ resources: { requests: { cpu: '1' } } }] } }))).toBe('Burstable');
  });
  it('a pod with a grace period is not removed until it is 0', () => {
    const p = obj('Pod');
    p.metadata.deletionTimestamp = 'x';
    p.metadata.deletionGracePeriodSeconds = 30;
    expect(readyToRemove(pods, p)).toBe(false);
    p.metadata.deletionGracePeriodSeconds = 0;
    expect(readyToRemove(pods, p)).toBe(true);
  });
});

describe('classifyWatchEvent', () => {
  const matchesApp = (o: KubeObject) => o.metadata.labels?.app === 'web';
  const value = (labels: Record<string, string>) => JSON.stringify({ metadata: { name: 'p', labels } });
  it('turns selector transitions into ADDED / DELETED', () => {
    expect(classifyWatchEvent({ type: 'put', key: 'k', value: value({ app: 'web' }), prevValue: value({ app: 'db' }), modRevision: 7, created: false }, matchesApp)?.type).toBe('ADDED');
    const gone = classifyWatchEvent({ type: 'put', key: 'k', value: value({ app: 'db' }), prevValue: value({ app: 'web' }), modRevision: 8, created: false }, matchesApp);
    expect(gone?.type).toBe('DELETED');
    expect(gone?.object.metadata.resourceVersion).toBe('8');
    expect(classifyWatchEvent({ type: 'put', key: 'k', value: value({ app: 'web' }), prevValue: value({ app: 'web' }), modRevision: 9, created: false }, matchesApp)?.type).toBe('MODIFIED');
    expect(classifyWatchEvent({ type: 'put', key: 'k', value: value({ app: 'db' }), modRevision: 9, created: true }, matchesApp)).toBeUndefined();
    expect(classifyWatchEvent({ type: 'delete', key: 'k', value: value({ app: 'web' }), modRevision: 10, created: false }, matchesApp)?.type).toBe('DELETED');
  });
});
