import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWatch, pod, request, startTestServer, waitFor, type TestServer } from './apiserver-helpers.js';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

let server: TestServer;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(server.url, method, path, body, headers);

beforeAll(async () => {
  server = await startTestServer({ bookmarkIntervalMs: 100 });
});
afterAll(async () => {
  await server.close();
});

describe('health, version, discovery', () => {
  it('answers health and version', async () => {
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const r = await api('GET', path);
      expect(r.status).toBe(200);
      expect(r.text).toBe('ok');
    }
    const v = await api('GET', '/version');
    expect(v.json).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' });
  });

  it('serves legacy discovery as application/json even when aggregated is asked for', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const core = await api('GET', '/api', undefined, { Accept: accept });
    expect(core.headers['content-type']).toBe('application/json');
    expect(core.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = await api('GET', '/apis', undefined, { Accept: accept });
    expect(groups.json.kind).toBe('APIGroupList');
    expect(groups.json.groups.map((g: { name: string }) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'coordination.k8s.io', 'policy']));
    const apps = await api('GET', '/apis/apps/v1');
    expect(apps.json.groupVersion).toBe('apps/v1');
    expect(apps.json.resources.map((r: { name: string }) => r.name)).toContain('deployments/scale');
  });

  it('answers OpenAPI v2 empty and v3 404', async () => {
    const v2 = await api('GET', '/openapi/v2');
    expect(v2.status).toBe(200);
    expect(v2.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect(v2.text).toBe('');
    expect((await api('GET', '/openapi/v3')).status).toBe(404);
  });

  it('404s unknown resources with a Status', async () => {
    const r = await api('GET', '/api/v1/foos');
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' });
    expect((await api('GET', '/apis/nope.example.com/v1')).status).toBe(404);
  });

  it('keeps idle connections longer than Go clients do (a retried POST must not meet a closed one)', async () => {
    const http = await import('node:http');
    const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
      const agent = new http.Agent({ keepAlive: true });
      http
        .get(`${server.url}/version`, { agent }, (res) => {
          res.resume();
          res.on('end', () => {
            agent.destroy();
            resolve(String(res.headers['keep-alive']));
          });
        })
        .on('error', reject);
    });
    expect(keepAlive).toBe('timeout=120');
  });

  it('says plainly that HorizontalPodAutoscalers are out of scope (kubectl autoscale)', async () => {
    const r = await api('POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' } });
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ reason: 'NotFound', details: { group: 'autoscaling', kind: 'horizontalpodautoscalers' } });
    expect((r.json as { message: string }).message).toMatch(/horizontalpodautoscalers\.autoscaling.*not part of clusterlab's control plane; scale by hand with kubectl scale/);
  });

  it('starts with the initial namespaces, their default ServiceAccounts and the kubernetes Service', async () => {
    const list = await api('GET', '/api/v1/namespaces');
    expect(list.json.kind).toBe('NamespaceList');
    expect(list.json.items.map((n: { metadata: { name: string } }) => n.metadata.name).sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(list.json.items[0].status.phase).toBe('Active');
    expect((await api('GET', '/api/v1/namespaces/kube-system/serviceaccounts/default')).status).toBe(200);
    const svc = await api('GET', '/api/v1/namespaces/default/services/kubernetes');
    expect(svc.json.spec.clusterIP).toBe('10.96.0.1');
  });
});

describe('CRUD', () => {
  it('creates, gets, lists, updates and deletes a ConfigMap', async () => {
    const created = await api('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1' }, data: { a: '1' } });
    expect(created.status).toBe(201);
    expect(created.json.metadata).toMatchObject({ name: 'cm1', namespace: 'default' });
    expect(created.json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof created.json.metadata.resourceVersion).toBe('string');
    expect(created.json.metadata.creationTimestamp).toMatch(/Z$/);

    const got = await api('GET', '/api/v1/namespaces/default/configmaps/cm1');
    expect(got.json.data).toEqual({ a: '1' });
    expect(got.json.metadata.resourceVersion).toBe(created.json.metadata.resourceVersion);

    const list = await api('GET', '/api/v1/namespaces/default/configmaps');
    expect(list.json.kind).toBe('ConfigMapList');
    expect(Number(list.json.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.json.metadata.resourceVersion));
    expect(list.json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toContain('cm1');

    const updated = await api('PUT', '/api/v1/namespaces/default/configmaps/cm1', { ...got.json, data: { a: '2' } });
    expect(updated.status).toBe(200);
    expect(updated.json.data).toEqual({ a: '2' });
    expect(Number(updated.json.metadata.resourceVersion)).toBeGreaterThan(Number(got.json.metadata.resourceVersion));

    // stale resourceVersion -> 409 Conflict with kube's message
    const stale = await api('PUT', '/api/v1/namespaces/default/configmaps/cm1', { ...got.json, data: { a: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "cm1": the object has been modified; please apply your changes to the latest version and try again',
    });

    const patched = await api('PATCH', '/api/v1/namespaces/default/configmaps/cm1', { metadata: { labels: { x: 'y' } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status).toBe(200);
    expect(patched.json.metadata.labels).toEqual({ x: 'y' });
    expect(patched.json.data).toEqual({ a: '2' });

    const deleted = await api('DELETE', '/api/v1/namespaces/default/configmaps/cm1');
    expect(deleted.status).toBe(200);
    expect(deleted.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'cm1', kind: 'configmaps' } });
    const gone = await api('GET', '/api/v1/namespaces/default/configmaps/cm1');
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ reason: 'NotFound', message: 'configmaps "cm1" not found', details: { name: 'cm1', kind: 'configmaps' } });
  });

  it('409 AlreadyExists, 404 in a missing namespace, 400 on malformed JSON, 415 on a bad patch type', async () => {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dup' } };
    expect((await api('POST', '/api/v1/namespaces/default/configmaps', body)).status).toBe(201);
    const again = await api('POST', '/api/v1/namespaces/default/configmaps', body);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "dup" already exists' });

    const noNs = await api('POST', '/api/v1/namespaces/nowhere/configmaps', body);
    expect(noNs.status).toBe(404);
    expect(noNs.json.message).toBe('namespaces "nowhere" not found');

    const bad = await api('POST', '/api/v1/namespaces/default/configmaps', '{"kind": ');
    expect(bad.status).toBe(400);
    expect(bad.json.reason).toBe('BadRequest');

    const wrongType = await api('PATCH', '/api/v1/namespaces/default/configmaps/dup', '{}', { 'Content-Type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.json.reason).toBe('UnsupportedMediaType');

    expect((await api('POST', '/api/v1/namespaces/default/configmaps/dup', body)).status).toBe(405);
  });

  it('422 Invalid with causes from validation', async () => {
    const r = await api('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad' }, spec: { containers: [] } });
    expect(r.status).toBe(422);
    expect(r.json.reason).toBe('Invalid');
    expect(r.json.message).toMatch(/^Pod "bad" is invalid: /);
    expect(r.json.details.kind).toBe('Pod');
    expect(r.json.details.causes.length).toBeGreaterThan(0);
    expect(r.json.details.causes[0].field).toMatch(/^spec\.containers/);
  });

  it('generateName, generation only on spec changes, status ignored on the main resource', async () => {
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { generateName: 'web-' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      status: { replicas: 99 },
    };
    const created = await api('POST', '/apis/apps/v1/namespaces/default/deployments', deploy);
    expect(created.status).toBe(201);
    const name: string = created.json.metadata.name;
    expect(name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(created.json.metadata.generation).toBe(1);
    expect(created.json.status.replicas).toBeUndefined();
    const path = `/apis/apps/v1/namespaces/default/deployments/${name}`;

    const labelled = await api('PATCH', path, { metadata: { labels: { a: 'b' } }, status: { replicas: 5 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(labelled.json.metadata.generation).toBe(1);
    expect(labelled.json.status.replicas).toBeUndefined();

    const scaledSpec = await api('PATCH', path, { spec: { replicas: 3 } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
    expect(scaledSpec.json.metadata.generation).toBe(2);

    // /status changes status only
    const status = await api('PUT', `${path}/status`, { ...scaledSpec.json, spec: { ...scaledSpec.json.spec, replicas: 7 }, status: { replicas: 3, observedGeneration: 2 } });
    expect(status.status).toBe(200);
    expect(status.json.status).toEqual({ replicas: 3, observedGeneration: 2 });
    expect(status.json.spec.replicas).toBe(3);
    expect(status.json.metadata.generation).toBe(2);

    // scale subresource
    const scale = await api('GET', `${path}/scale`);
    expect(scale.json).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=web' } });
    const rescaled = await api('PATCH', `${path}/scale`, { spec: { replicas: 5 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(rescaled.status).toBe(200);
    expect(rescaled.json.spec.replicas).toBe(5);
    const after = await api('GET', path);
    expect(after.json.spec.replicas).toBe(5);
    expect(after.json.metadata.generation).toBe(3);
    const put = await api('PUT', `${path}/scale`, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name }, spec: { replicas: 1 } });
    expect(put.json.spec.replicas).toBe(1);
  });

  it('server-side apply creates when absent', async () => {
    const r = await api(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/applied?fieldManager=kubectl',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { k: 'v' } },
      { 'Content-Type': 'application/apply-patch+yaml' },
    );
    expect(r.status).toBe(201);
    expect(r.json.data).toEqual({ k: 'v' });
  });
});

describe('lists', () => {
  it('pages with limit and continue, applies label and field selectors', async () => {
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paging' } });
    for (let i = 0; i < 5; i++) {
      const r = await api('POST', '/api/v1/namespaces/paging/pods', pod(`p${i}`, { labels: { tier: i % 2 === 0 ? 'even' : 'odd' } }));
      expect(r.status).toBe(201);
    }
    const first = await api('GET', '/api/v1/namespaces/paging/pods?limit=2');
    expect(first.json.items).toHaveLength(2);
    expect(first.json.metadata.continue).toBeTruthy();
    const second = await api('GET', `/api/v1/namespaces/paging/pods?limit=2&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    const third = await api('GET', `/api/v1/namespaces/paging/pods?limit=2&continue=${encodeURIComponent(second.json.metadata.continue)}`);
    expect(third.json.metadata.continue).toBeUndefined();
    const names = [...first.json.items, ...second.json.items, ...third.json.items].map((p: { metadata: { name: string } }) => p.metadata.name);
    expect(names).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(second.json.metadata.resourceVersion).toBe(first.json.metadata.resourceVersion);

    const even = await api('GET', '/api/v1/namespaces/paging/pods?labelSelector=tier%3Deven');
    expect(even.json.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['p0', 'p2', 'p4']);
    const byName = await api('GET', '/api/v1/pods?fieldSelector=metadata.name%3Dp3');
    expect(byName.json.items).toHaveLength(1);
    expect(byName.json.items[0].metadata.namespace).toBe('paging');
    const badSel = await api('GET', '/api/v1/pods?labelSelector=a%20in%20(');
    expect(badSel.status).toBe(400);
  });

  it('answers a Table when kubectl asks for one', async () => {
    const table = await api('GET', '/api/v1/namespaces/paging/pods?limit=500', undefined, { Accept: TABLE_ACCEPT });
    expect(table.json.kind).toBe('Table');
    expect(table.json.apiVersion).toBe('meta.k8s.io/v1');
    expect(table.json.rows).toHaveLength(5);
    expect(table.json.rows[0].object.metadata.name).toBe('p0');
    const single = await api('GET', '/api/v1/namespaces/paging/pods/p1', undefined, { Accept: TABLE_ACCEPT });
    expect(single.json.kind).toBe('Table');
    expect(single.json.rows).toHaveLength(1);
  });
});

describe('watch', () => {
  it('streams ADDED / MODIFIED / DELETED from a resourceVersion, with selector transitions and bookmarks', async () => {
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watching' } });
    const list = await api('GET', '/api/v1/namespaces/watching/configmaps');
    const rv: string = list.json.metadata.resourceVersion;
    const w = await openWatch(server.url, `/api/v1/namespaces/watching/configmaps?watch=true&resourceVersion=${rv}&labelSelector=app%3Dweb&allowWatchBookmarks=true`);
    expect(w.status).toBe(200);
    await api('POST', '/api/v1/namespaces/watching/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { app: 'web' } } });
    await api('POST', '/api/v1/namespaces/watching/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', labels: { app: 'db' } } });
    await api('PATCH', '/api/v1/namespaces/watching/configmaps/a', { data: { x: '1' } }, { 'Content-Type': 'application/merge-patch+json' });
    await api('PATCH', '/api/v1/namespaces/watching/configmaps/a', { metadata: { labels: { app: 'db' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await waitFor('three object events', async () => (w.events.filter((e) => e.type !== 'BOOKMARK').length >= 3 ? true : undefined));
    const objectEvents = w.events.filter((e) => e.type !== 'BOOKMARK');
    expect(objectEvents.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED a', 'MODIFIED a', 'DELETED a']);
    expect(objectEvents[0]!.object.kind).toBe('ConfigMap');
    await waitFor('a bookmark', async () => w.events.find((e) => e.type === 'BOOKMARK'));
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(bookmark.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
    w.close();

    // resume from the MODIFIED event's resourceVersion: only what came after
    const resumed = await openWatch(server.url, `/api/v1/namespaces/watching/configmaps?watch=1&resourceVersion=${objectEvents[1]!.object.metadata.resourceVersion}`);
    const [event] = await resumed.next(1);
    expect(event!.type).toBe('MODIFIED');
    expect(event!.object.metadata.labels).toEqual({ app: 'db' });
    resumed.close();
  });

  it('without a resourceVersion starts with the current objects, and ends after timeoutSeconds', async () => {
    const w = await openWatch(server.url, '/api/v1/namespaces/watching/configmaps?watch=true&timeoutSeconds=1');
    const events = await w.next(2);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED']);
    await w.ended;
  });

  it('sends an ERROR event with 410 Expired for a compacted resourceVersion', async () => {
    await api('POST', '/api/v1/namespaces/watching/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' } });
    const now = await server.store.revision();
    await server.store.compact(now);
    const w = await openWatch(server.url, '/api/v1/namespaces/watching/configmaps?watch=true&resourceVersion=2');
    const [event] = await w.next(1);
    expect(event!.type).toBe('ERROR');
    expect(event!.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    await w.ended;
  });

  it('sends one-row Tables when asked', async () => {
    const w = await openWatch(server.url, '/api/v1/namespaces/watching/configmaps?watch=true', { Accept: TABLE_ACCEPT });
    const [event] = await w.next(1);
    expect(event!.object.kind).toBe('Table');
    expect(event!.object.rows).toHaveLength(1);
    w.close();
  });
});

describe('pods', () => {
  it('binds once, deletes gracefully when bound, for good with gracePeriodSeconds=0', async () => {
    const created = await api('POST', '/api/v1/namespaces/default/pods', pod('graceful'));
    expect(created.json.status.phase).toBe('Pending');
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'graceful' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node1' } };
    const bound = await api('POST', '/api/v1/namespaces/default/pods/graceful/binding', binding);
    expect(bound.status).toBe(201);
    expect(bound.json).toMatchObject({ kind: 'Status', status: 'Success' });
    const again = await api('POST', '/api/v1/namespaces/default/pods/graceful/binding', { ...binding, target: { kind: 'Node', name: 'node2' } });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('is already assigned to node "node1"');
    const got = await api('GET', '/api/v1/namespaces/default/pods/graceful');
    expect(got.json.spec.nodeName).toBe('node1');
    expect(got.json.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled').status).toBe('True');

    const deleting = await api('DELETE', '/api/v1/namespaces/default/pods/graceful', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    expect(deleting.status).toBe(200);
    expect(deleting.json.metadata.deletionTimestamp).toBeTruthy();
    expect(deleting.json.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await api('GET', '/api/v1/namespaces/default/pods/graceful')).status).toBe(200);

    const final = await api('DELETE', '/api/v1/namespaces/default/pods/graceful?gracePeriodSeconds=0');
    expect(final.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/pods/graceful')).status).toBe(404);
  });

  it('deletes an unbound pod at once and evicts a bound one gracefully', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', pod('unbound'));
    await api('DELETE', '/api/v1/namespaces/default/pods/unbound');
    expect((await api('GET', '/api/v1/namespaces/default/pods/unbound')).status).toBe(404);

    await api('POST', '/api/v1/namespaces/default/pods', pod('evictme', { nodeName: 'node1' }));
    const evicted = await api('POST', '/api/v1/namespaces/default/pods/evictme/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evictme', namespace: 'default' } });
    expect(evicted.status).toBe(201);
    const after = await api('GET', '/api/v1/namespaces/default/pods/evictme');
    expect(after.json.metadata.deletionTimestamp).toBeTruthy();
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await api('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    const marked = await api('DELETE', '/api/v1/namespaces/default/configmaps/held');
    expect(marked.json.metadata.deletionTimestamp).toBeTruthy();
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/held')).status).toBe(200);
    const released = await api('PATCH', '/api/v1/namespaces/default/configmaps/held', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(released.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/held')).status).toBe(404);
  });
});

describe('garbage collection', () => {
  const rs = (name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  const ownedPod = (name: string, owner: { metadata: { name: string; uid: string } }) => ({
    ...pod(name),
    metadata: { name, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }] },
  });

  it('Background deletes dependents, Orphan keeps them without the reference', async () => {
    const owner = (await api('POST', '/apis/apps/v1/namespaces/default/replicasets', rs('bg'))).json;
    await api('POST', '/api/v1/namespaces/default/pods', ownedPod('bg-1', owner));
    await api('DELETE', '/apis/apps/v1/namespaces/default/replicasets/bg', { propagationPolicy: 'Background' });
    await waitFor('the dependent pod to go', async () => ((await api('GET', '/api/v1/namespaces/default/pods/bg-1')).status === 404 ? true : undefined));

    const owner2 = (await api('POST', '/apis/apps/v1/namespaces/default/replicasets', rs('orph'))).json;
    await api('POST', '/api/v1/namespaces/default/pods', ownedPod('orph-1', owner2));
    const marked = await api('DELETE', '/apis/apps/v1/namespaces/default/replicasets/orph', { propagationPolicy: 'Orphan' });
    // As kube: the owner stays, marked, with the orphan finalizer until its dependents are released.
    expect(marked.json.metadata.finalizers).toContain('orphan');
    await waitFor('the orphaning owner to go', async () => ((await api('GET', '/apis/apps/v1/namespaces/default/replicasets/orph')).status === 404 ? true : undefined));
    const kept = await api('GET', '/api/v1/namespaces/default/pods/orph-1');
    expect(kept.status).toBe(200);
    expect(kept.json.metadata.ownerReferences).toBeUndefined();
  });

  it('Foreground keeps the owner until its dependents are gone', async () => {
    const owner = (await api('POST', '/apis/apps/v1/namespaces/default/replicasets', rs('fg'))).json;
    await api('POST', '/api/v1/namespaces/default/pods', ownedPod('fg-1', owner));
    const marked = await api('DELETE', '/apis/apps/v1/namespaces/default/replicasets/fg', { propagationPolicy: 'Foreground' });
    expect(marked.json.metadata.finalizers).toContain('foregroundDeletion');
    await waitFor('the owner to go', async () => ((await api('GET', '/apis/apps/v1/namespaces/default/replicasets/fg')).status === 404 ? true : undefined));
    expect((await api('GET', '/api/v1/namespaces/default/pods/fg-1')).status).toBe(404);
  });

  it('Foreground reaches the grandchildren: an owner waits until its dependents\' dependents are gone', async () => {
    const top = (await api('POST', '/apis/apps/v1/namespaces/default/replicasets', rs('top'))).json;
    const middle = { ...rs('middle'), metadata: { name: 'middle', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'top', uid: top.metadata.uid, controller: true, blockOwnerDeletion: true }] } };
    const mid = (await api('POST', '/apis/apps/v1/namespaces/default/replicasets', middle)).json;
    // The pod holds a finalizer, as a pod whose node has not confirmed its end yet.
    const leaf = ownedPod('leaf', mid);
    await api('POST', '/api/v1/namespaces/default/pods', { ...leaf, metadata: { ...leaf.metadata, finalizers: ['example.com/hold'] } });
    await api('DELETE', '/apis/apps/v1/namespaces/default/replicasets/top', { propagationPolicy: 'Foreground' });
    await waitFor('the pod to be marked for deletion', async () => ((await api('GET', '/api/v1/namespaces/default/pods/leaf')).json.metadata.deletionTimestamp ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await api('GET', '/apis/apps/v1/namespaces/default/replicasets/top')).status).toBe(200);
    expect((await api('GET', '/apis/apps/v1/namespaces/default/replicasets/middle')).status).toBe(200);
    await api('PATCH', '/api/v1/namespaces/default/pods/leaf', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    await waitFor('the top owner to go', async () => ((await api('GET', '/apis/apps/v1/namespaces/default/replicasets/top')).status === 404 ? true : undefined));
    expect((await api('GET', '/apis/apps/v1/namespaces/default/replicasets/middle')).status).toBe(404);
  });
});

describe('services', () => {
  it('allocates unique ClusterIPs and NodePorts, releases them on delete', async () => {
    const svc = (name: string, extra: object = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...extra } });
    const a = (await api('POST', '/api/v1/namespaces/default/services', svc('a'))).json;
    const b = (await api('POST', '/api/v1/namespaces/default/services', svc('b', { type: 'NodePort' }))).json;
    expect(a.spec.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(a.spec.clusterIPs).toEqual([a.spec.clusterIP]);
    expect(a.spec.ipFamilies).toEqual(['IPv4']);
    expect(b.spec.clusterIP).not.toBe(a.spec.clusterIP);
    expect(b.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(b.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);

    const fixed = await api('POST', '/api/v1/namespaces/default/services', svc('dns', { clusterIP: '10.96.0.10' }));
    expect(fixed.json.spec.clusterIP).toBe('10.96.0.10');
    const clash = await api('POST', '/api/v1/namespaces/default/services', svc('dns2', { clusterIP: '10.96.0.10' }));
    expect(clash.status).toBe(422);
    expect(clash.json.message).toContain('provided IP is already allocated');

    const headless = await api('POST', '/api/v1/namespaces/default/services', svc('headless', { clusterIP: 'None' }));
    expect(headless.json.spec.clusterIP).toBe('None');

    // an update that omits clusterIP keeps it
    const { clusterIP: _ip, clusterIPs: _ips, ...specWithoutIp } = a.spec;
    const replaced = await api('PUT', '/api/v1/namespaces/default/services/a', { ...a, spec: specWithoutIp });
    expect(replaced.json.spec.clusterIP).toBe(a.spec.clusterIP);

    await api('DELETE', '/api/v1/namespaces/default/services/dns');
    await waitFor('the address to be free again', async () => {
      const r = await api('POST', '/api/v1/namespaces/default/services', svc('dns3', { clusterIP: '10.96.0.10' }));
      return r.status === 201 ? true : undefined;
    });
  });
});

describe('namespaces', () => {
  it('creating one creates its default ServiceAccount; deleting one empties it, then removes it', async () => {
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    expect((await api('GET', '/api/v1/namespaces/doomed/serviceaccounts/default')).status).toBe(200);
    await api('POST', '/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    await api('POST', '/api/v1/namespaces/doomed/pods', pod('p'));

    const deleting = await api('DELETE', '/api/v1/namespaces/doomed');
    expect(deleting.status).toBe(200);
    expect(deleting.json.status.phase).toBe('Terminating');
    expect(deleting.json.metadata.deletionTimestamp).toBeTruthy();
    expect(deleting.json.spec.finalizers).toEqual(['kubernetes']);

    const refused = await api('POST', '/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
    if (refused.status !== 404) {
      expect(refused.status).toBe(403);
      expect(refused.json.message).toContain('because it is being terminated');
    }
    await waitFor('the namespace to go', async () => ((await api('GET', '/api/v1/namespaces/doomed')).status === 404 ? true : undefined));
    expect((await api('GET', '/api/v1/namespaces/doomed/configmaps')).json.items).toEqual([]);
  });

  it('refuses to delete default', async () => {
    const r = await api('DELETE', '/api/v1/namespaces/default');
    expect(r.status).toBe(403);
    expect(r.json.reason).toBe('Forbidden');
  });
});
