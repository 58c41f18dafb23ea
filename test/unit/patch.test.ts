import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { applyPatch, PatchError, patchTypeOf, recordUpdate, type PatchOptions, type PatchType } from '../../src/node/controlplane/apiserver/patch.js';
import { formatConflicts, serverSideApply } from '../../src/node/controlplane/apiserver/server-side-apply.js';
import type { JsonObject } from '../../src/node/controlplane/apiserver/json-value.js';

const T0 = '2026-11-22T10:00:00Z';
const T1 = '2026-11-22T10:05:00Z';
const T2 = '2026-11-22T10:10:00Z';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A Deployment as the store holds it: system metadata, defaults, status. */
function storedDeployment(): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: '7d1c2a4e-0000-4000-8000-000000000001',
      resourceVersion: '41',
      generation: 2,
      creationTimestamp: '2026-11-22T09:00:00Z',
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.25',
              imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [
                { name: 'MODE', value: 'prod' },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
              volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            },
            { name: 'sidecar', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] },
          ],
          volumes: [{ name: 'cache', emptyDir: {} }],
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
        },
      },
    },
    status: { observedGeneration: 2, replicas: 2, readyReplicas: 2 },
  };
}

function patch<T extends object>(kind: string, current: T | undefined, body: unknown, type: PatchType, opts: PatchOptions = {}): T {
  return applyPatch(kind, current, body, type, { now: T0, ...opts }) as T;
}

function patchError(run: () => unknown): PatchError {
  try {
    run();
  } catch (err) {
    if (err instanceof PatchError) return err;
    throw err;
  }
  throw new Error('expected a PatchError');
}

function containers(deployment: Deployment) {
  return deployment.spec!.template.spec!.containers;
}

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: JsonObject;
  subresource?: string;
}

function managedFields(obj: object): Entry[] {
  return ((obj as { metadata?: { managedFields?: Entry[] } }).metadata?.managedFields ?? []) as Entry[];
}

function entry(obj: object, manager: string, operation = 'Apply'): Entry {
  const found = managedFields(obj).find((e) => e.manager === manager && e.operation === operation);
  if (found === undefined) throw new Error(`no ${operation} entry for ${manager} in ${JSON.stringify(managedFields(obj))}`);
  return found;
}

describe('patchTypeOf', () => {
  it.each([
    ['application/json-patch+json', 'json'],
    ['application/merge-patch+json', 'merge'],
    ['application/strategic-merge-patch+json; charset=utf-8', 'strategic'],
    ['application/apply-patch+yaml', 'apply'],
    ['application/json', undefined],
  ])('%s -> %s', (contentType, want) => {
    expect(patchTypeOf(contentType)).toBe(want);
  });
});

describe('JSON patch', () => {
  it('adds, removes and replaces, and appends with "-"', () => {
    const current = storedDeployment();
    const out = patch<Deployment>('Deployment', current, [
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/tier', value: 'frontend' },
      { op: 'remove', path: '/metadata/annotations/deployment.kubernetes.io~1revision' },
      { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'NEW', value: '1' } },
      { op: 'add', path: '/spec/template/spec/containers/0/env/0', value: { name: 'FIRST', value: '0' } },
    ], 'json');
    expect(out.spec!.replicas).toBe(5);
    expect(out.metadata!.labels).toEqual({ app: 'web', tier: 'frontend' });
    expect(out.metadata!.annotations).toEqual({});
    expect(containers(out)[0]!.env!.map((e) => e.name)).toEqual(['FIRST', 'MODE', 'LOG_LEVEL', 'NEW']);
    // The input is never mutated.
    expect(current).toEqual(storedDeployment());
  });

  it('moves and copies', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), [
      { op: 'copy', from: '/spec/template/spec/containers/0/image', path: '/metadata/annotations/previous-image' },
      { op: 'move', from: '/spec/template/spec/containers/1', path: '/spec/template/spec/containers/0' },
    ], 'json');
    expect(out.metadata!.annotations!['previous-image']).toBe('nginx:1.25');
    expect(containers(out).map((c) => c.name)).toEqual(['sidecar', 'web']);
  });

  it('replaces /spec/template and /metadata/annotations as rollout undo does', () => {
    const template = { ...storedDeployment().spec!.template, metadata: { labels: { app: 'web' }, annotations: { restarted: 'no' } } };
    containers({ spec: { template, selector: {} } } as Deployment)[0]!.image = 'nginx:1.24';
    const out = patch<Deployment>('Deployment', storedDeployment(), [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '1' } },
    ], 'json');
    expect(containers(out)[0]!.image).toBe('nginx:1.24');
    expect(out.spec!.template.metadata!.annotations).toEqual({ restarted: 'no' });
    expect(out.metadata!.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
  });

  it('passes a test op that matches and fails the whole patch on one that does not', () => {
    const ok = patch<Deployment>('Deployment', storedDeployment(), [
      { op: 'test', path: '/metadata/resourceVersion', value: '41' },
      { op: 'replace', path: '/spec/replicas', value: 1 },
    ], 'json');
    expect(ok.spec!.replicas).toBe(1);

    const err = patchError(() =>
      applyPatch('Deployment', storedDeployment(), [
        { op: 'replace', path: '/spec/replicas', value: 1 },
        { op: 'test', path: '/metadata/resourceVersion', value: '40' },
      ], 'json', {}),
    );
    expect(err.code).toBe(422);
    expect(err.message).toContain('/metadata/resourceVersion');
  });

  it('refuses removing a missing path, out-of-range indexes and non-array bodies', () => {
    expect(patchError(() => applyPatch('Deployment', storedDeployment(), [{ op: 'remove', path: '/spec/paused' }], 'json', {})).code).toBe(422);
    expect(patchError(() => applyPatch('Deployment', storedDeployment(), [{ op: 'add', path: '/spec/template/spec/containers/5', value: {} }], 'json', {})).code).toBe(422);
    expect(patchError(() => applyPatch('Deployment', storedDeployment(), { op: 'add' }, 'json', {})).code).toBe(400);
  });
});

describe('merge patch', () => {
  it('merges maps, deletes with null and replaces lists whole', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), {
      metadata: { labels: { app: null, tier: 'frontend' } },
      spec: { replicas: 4, template: { spec: { tolerations: [{ operator: 'Exists' }] } } },
    }, 'merge');
    expect(out.metadata!.labels).toEqual({ tier: 'frontend' });
    expect(out.spec!.replicas).toBe(4);
    expect(out.spec!.template.spec!.tolerations).toEqual([{ operator: 'Exists' }]);
    // Untouched siblings survive.
    expect(containers(out)).toHaveLength(2);
  });

  it('patches a Scale as kubectl scale does', () => {
    const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default', resourceVersion: '41' }, spec: { replicas: 2 }, status: { replicas: 2, selector: 'app=web' } };
    const out = patch<typeof scale>('Scale', scale, { spec: { replicas: 7 } }, 'merge', { fieldManager: 'kubectl-scale' });
    expect(out.spec.replicas).toBe(7);
    expect(out.status.selector).toBe('app=web');
  });
});

describe('strategic merge patch', () => {
  it('merges containers by name (kubectl set image)', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
    }, 'strategic');
    expect(containers(out).map((c) => [c.name, c.image])).toEqual([
      ['web', 'nginx:1.26'],
      ['sidecar', 'busybox:1.36'],
    ]);
    expect(containers(out)[0]!.env).toHaveLength(2);
  });

  it('merges env by name and volumeMounts by mountPath, appending new items', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'FEATURE', value: 'on' }],
                volumeMounts: [{ mountPath: '/cache', readOnly: true }],
              },
            ],
          },
        },
      },
    }, 'strategic');
    const web = containers(out)[0]!;
    expect(web.env).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'FEATURE', value: 'on' },
    ]);
    expect(web.volumeMounts).toEqual([{ name: 'cache', mountPath: '/cache', readOnly: true }]);
  });

  it('deletes list items with $patch: delete', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), {
      spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'web', env: [{ name: 'MODE', $patch: 'delete' }] }] } } },
    }, 'strategic');
    expect(containers(out).map((c) => c.name)).toEqual(['web']);
    expect(containers(out)[0]!.env).toEqual([{ name: 'LOG_LEVEL', value: 'info' }]);
  });

  it('orders items with $setElementOrder as kubectl apply sends it', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }], containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
    }, 'strategic');
    expect(containers(out).map((c) => `${c.name}=${c.image}`)).toEqual(['sidecar=busybox:1.36', 'web=nginx:1.26']);
  });

  it('drops keys outside $retainKeys (switching the strategy to Recreate)', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), {
      spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } },
    }, 'strategic');
    expect(out.spec!.strategy).toEqual({ type: 'Recreate' });
    const err = patchError(() => applyPatch('Deployment', storedDeployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }, 'strategic', {}));
    expect(err.code).toBe(422);
  });

  it('replaces lists without a merge key (tolerations are atomic)', () => {
    const out = patch<Deployment>('Deployment', storedDeployment(), {
      spec: { template: { spec: { tolerations: [{ key: 'gpu', operator: 'Exists' }] } } },
    }, 'strategic');
    expect(out.spec!.template.spec!.tolerations).toEqual([{ key: 'gpu', operator: 'Exists' }]);
  });

  it('cordons with true and uncordons with null', () => {
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1', uid: 'n-1', labels: { 'kubernetes.io/hostname': 'worker-1' } }, spec: { podCIDR: '10.244.1.0/24' } };
    const cordoned = patch<Node>('Node', node, { spec: { unschedulable: true } }, 'strategic');
    expect(cordoned.spec).toEqual({ podCIDR: '10.244.1.0/24', unschedulable: true });
    const uncordoned = patch<Node>('Node', cordoned, { spec: { unschedulable: null } }, 'strategic');
    expect(uncordoned.spec).toEqual({ podCIDR: '10.244.1.0/24' });
  });

  it('merges a Pod\'s containers and conditions by their keys', () => {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'default', uid: 'p-1' },
      spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] },
    };
    const out = patch<Pod>('Pod', pod, {
      spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }] }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    }, 'strategic');
    expect(out.spec!.containers[0]!.ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
    expect(out.status!.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }]);
  });
});

// ---------------------------------------------------------------------------------------

/** What `kubectl apply --server-side -f web.yaml` sends. */
function webConfig(overrides: { image?: string; replicas?: number | undefined; env?: Array<{ name: string; value: string }>; labels?: Record<string, string> } = {}): JsonObject {
  const spec: JsonObject = {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: overrides.image ?? 'nginx:1.25',
            ports: [{ containerPort: 80 }],
            env: overrides.env ?? [{ name: 'MODE', value: 'prod' }],
          },
        ],
      },
    },
  };
  if (!('replicas' in overrides)) spec.replicas = 2;
  else if (overrides.replicas !== undefined) spec.replicas = overrides.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: overrides.labels ?? { app: 'web' } },
    spec,
  };
}

/** What the registry does after an apply that creates: system metadata and defaults. */
function stored(created: object, resourceVersion = '10'): Deployment {
  const obj = structuredClone(created) as Deployment;
  obj.metadata = { ...obj.metadata, uid: 'u-1', resourceVersion, creationTimestamp: T0, generation: 1 };
  obj.spec!.revisionHistoryLimit = 10;
  for (const c of containers(obj)) c.imagePullPolicy = 'IfNotPresent';
  obj.status = { replicas: 2 };
  return obj;
}

function apply(current: object | undefined, config: JsonObject, manager = 'kubectl', opts: { force?: boolean; now?: string } = {}): Deployment {
  return applyPatch('Deployment', current, config, 'apply', { fieldManager: manager, force: opts.force ?? false, now: opts.now ?? T0 }) as Deployment;
}

describe('server-side apply', () => {
  it('creates the object and records what the manager set in FieldsV1', () => {
    const created = apply(undefined, webConfig());
    expect(created.spec!.replicas).toBe(2);
    expect(containers(created)[0]!.ports).toEqual([{ containerPort: 80 }]);
    expect(managedFields(created)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
    // FieldsV1 is written in Kubernetes' order: "." first, then fields by name.
    const web = (entry(created, 'kubectl').fieldsV1['f:spec'] as JsonObject)['f:template'] as JsonObject;
    const item = ((web['f:spec'] as JsonObject)['f:containers'] as JsonObject)['k:{"name":"web"}'] as JsonObject;
    expect(Object.keys(item)).toEqual(['.', 'f:env', 'f:image', 'f:name', 'f:ports']);
  });

  it('applies a changed config again: changes land, dropped fields go, unowned defaults stay', () => {
    const live = stored(apply(undefined, webConfig()));
    const next = apply(live, webConfig({ image: 'nginx:1.26', replicas: undefined, env: [{ name: 'LOG_LEVEL', value: 'debug' }], labels: { app: 'web', tier: 'frontend' } }), 'kubectl', { now: T1 });
    expect(containers(next)[0]!.image).toBe('nginx:1.26');
    expect(containers(next)[0]!.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }]);
    expect(next.metadata!.labels).toEqual({ app: 'web', tier: 'frontend' });
    expect(next.spec).not.toHaveProperty('replicas');
    // Fields nobody applied (server defaults, system metadata) are kept.
    expect(next.spec!.revisionHistoryLimit).toBe(10);
    expect(containers(next)[0]!.imagePullPolicy).toBe('IfNotPresent');
    expect(next.metadata!.uid).toBe('u-1');
    expect(next.metadata!.resourceVersion).toBe('10');
    const kubectl = entry(next, 'kubectl');
    expect(kubectl.time).toBe(T1);
    expect(kubectl.fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
    expect(kubectl.fieldsV1['f:metadata']).toEqual({ 'f:labels': { 'f:app': {}, 'f:tier': {} } });
  });

  it('keeps the entry time when an apply changes nothing', () => {
    const live = stored(apply(undefined, webConfig()));
    const again = apply(live, webConfig(), 'kubectl', { now: T2 });
    expect(entry(again, 'kubectl').time).toBe(T0);
    expect(again.spec).toEqual(live.spec);
  });

  it('removes a list item the manager stopped applying', () => {
    const twoContainers = webConfig();
    const spec = (twoContainers.spec as { template: { spec: { containers: JsonObject[] } } }).template.spec;
    spec.containers.push({ name: 'sidecar', image: 'busybox:1.36' });
    const live = stored(apply(undefined, twoContainers));
    expect(containers(live)).toHaveLength(2);
    const next = apply(live, webConfig(), 'kubectl', { now: T1 });
    expect(containers(next).map((c) => c.name)).toEqual(['web']);
  });

  it('reports a conflict with another applier and moves ownership when forced', () => {
    const live = stored(apply(undefined, webConfig()));
    const other = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 5 } };

    const result = serverSideApply('Deployment', live as JsonObject, other, { manager: 'autoscaler', force: false, now: T1 });
    expect(result).toEqual({ conflicts: [{ manager: 'kubectl', path: '.spec.replicas', operation: 'Apply', apiVersion: 'apps/v1' }] });

    const err = patchError(() => applyPatch('Deployment', live, other, 'apply', { fieldManager: 'autoscaler', now: T1 }));
    expect(err.code).toBe(409);
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    expect(err.causes).toEqual([{ type: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }]);

    const forced = apply(live, other, 'autoscaler', { force: true, now: T1 });
    expect(forced.spec!.replicas).toBe(5);
    expect(entry(forced, 'autoscaler').fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(forced, 'kubectl').fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
    // The former owner applying without replicas no longer removes them.
    const reapplied = apply(stored(forced, '11'), webConfig({ replicas: undefined }), 'kubectl', { now: T2 });
    expect(reapplied.spec!.replicas).toBe(5);
  });

  it('names Update managers with their apiVersion in conflicts', () => {
    const live = stored(apply(undefined, webConfig()));
    // kubectl set image: a strategic merge patch by another manager takes the image.
    const edited = patch<Deployment>('Deployment', live, { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } }, 'strategic', { fieldManager: 'kubectl-set', now: T1 });
    const err = patchError(() => applyPatch('Deployment', stored(edited, '11'), webConfig({ image: 'nginx:1.26' }), 'apply', { fieldManager: 'kubectl', now: T2 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="web"].image');
  });

  it('shares a field applied with the same value; it stays while one owner still applies it', () => {
    const live = stored(apply(undefined, webConfig()));
    const sameReplicas = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2 } };
    const shared = apply(live, sameReplicas, 'ops', { now: T1 });
    expect(entry(shared, 'ops').fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(shared, 'kubectl').fieldsV1['f:spec']).toHaveProperty('f:replicas');

    const kubectlDrops = apply(stored(shared, '11'), webConfig({ replicas: undefined }), 'kubectl', { now: T2 });
    expect(kubectlDrops.spec!.replicas).toBe(2);
    expect(entry(kubectlDrops, 'ops').fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('keeps kubectl\'s fields when kubectl-last-applied applies only the annotation', () => {
    const live = stored(apply(undefined, webConfig()));
    const annotationOnly = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', annotations: { [LAST_APPLIED]: '{"kind":"Deployment"}\n' } },
    };
    const out = apply(live, annotationOnly, 'kubectl-last-applied', { now: T1 });
    expect(out.spec).toEqual(live.spec);
    expect(out.metadata!.labels).toEqual({ app: 'web' });
    expect(out.metadata!.annotations![LAST_APPLIED]).toBe('{"kind":"Deployment"}\n');
    expect(entry(out, 'kubectl-last-applied').fieldsV1).toEqual({ 'f:metadata': { 'f:annotations': { [`f:${LAST_APPLIED}`]: {} } } });
    expect(entry(out, 'kubectl').fieldsV1).toEqual(entry(live, 'kubectl').fieldsV1);
  });

  it('owns a never-applied object as "before-first-apply" and lets kubectl take over what its annotation lists', () => {
    const csaConfig = webConfig();
    const untracked = stored({ ...csaConfig, metadata: { ...(csaConfig.metadata as JsonObject), annotations: { [LAST_APPLIED]: JSON.stringify(csaConfig) + '\n' } } });
    expect(untracked.metadata!.managedFields).toBeUndefined();

    // Another manager changing a field conflicts with the placeholder owner.
    const other = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 3 } };
    expect(serverSideApply('Deployment', untracked as JsonObject, other, { manager: 'ops', force: false, now: T1 })).toEqual({
      conflicts: [{ manager: 'before-first-apply', path: '.spec.replicas', operation: 'Update', apiVersion: 'apps/v1' }],
    });
    expect(formatConflicts([{ manager: 'before-first-apply', path: '.spec.replicas', operation: 'Update', apiVersion: 'apps/v1' }])).toBe(
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );

    // kubectl upgrading from client-side apply may change fields its last-applied config set.
    const upgraded = apply(untracked, webConfig({ replicas: 3 }), 'kubectl', { now: T1 });
    expect(upgraded.spec!.replicas).toBe(3);
    expect(entry(upgraded, 'kubectl').fieldsV1['f:spec']).toHaveProperty('f:replicas');
    expect(entry(upgraded, 'before-first-apply', 'Update').fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
    // ... and the annotation follows the applied config (sorted keys, as Go writes it).
    const annotation = upgraded.metadata!.annotations![LAST_APPLIED]!;
    expect(JSON.parse(annotation)).toEqual(webConfig({ replicas: 3 }));
    expect(annotation.startsWith('{"apiVersion":"apps/v1","kind":"Deployment","metadata":')).toBe(true);
  });

  it('ignores managedFields in the applied body and keeps its resourceVersion as a precondition', () => {
    const live = stored(apply(undefined, webConfig()));
    const config = webConfig({ image: 'nginx:1.26' });
    (config.metadata as JsonObject).managedFields = [{ manager: 'forged', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: {} }];
    (config.metadata as JsonObject).resourceVersion = '9';
    const out = apply(live, config, 'kubectl', { now: T1 });
    expect(managedFields(out).map((e) => e.manager)).toEqual(['kubectl']);
    expect(out.metadata!.resourceVersion).toBe('9');
  });

  it('applies to a Scale', () => {
    const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '10' }, spec: { replicas: 2 }, status: { replicas: 2, selector: 'app=web' } };
    const out = applyPatch('Scale', scale, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 6 } }, 'apply', { fieldManager: 'hpa', now: T0 }) as typeof scale;
    expect(out.spec.replicas).toBe(6);
    expect(out.status.selector).toBe('app=web');
    expect(entry(out, 'hpa')).toMatchObject({ apiVersion: 'autoscaling/v1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
  });

  it('refuses an apply without a field manager, of another kind, or with duplicate list keys', () => {
    expect(patchError(() => applyPatch('Deployment', undefined, webConfig(), 'apply', {})).code).toBe(400);
    expect(patchError(() => applyPatch('Deployment', undefined, { ...webConfig(), kind: 'StatefulSet' }, 'apply', { fieldManager: 'kubectl' })).code).toBe(400);
    const duplicate = webConfig({ env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] });
    expect(() => apply(undefined, duplicate)).toThrow('.spec.template.spec.containers[name="web"].env: duplicate entries for key [name="A"]');
  });
});

describe('formatConflicts', () => {
  it('lists several conflicts by manager, one per line', () => {
    expect(
      formatConflicts([
        { manager: 'kubectl-client-side-apply', path: '.spec.replicas', operation: 'Update', apiVersion: 'apps/v1' },
        { manager: 'helm', path: '.metadata.labels.app', operation: 'Apply', apiVersion: 'apps/v1' },
        { manager: 'kubectl-client-side-apply', path: '.spec.template.spec.containers[name="web"].image', operation: 'Update', apiVersion: 'apps/v1' },
      ]),
    ).toBe(
      'Apply failed with 3 conflicts: conflicts with "helm":\n- .metadata.labels.app\n' +
        'conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
  });
});

describe('recordUpdate', () => {
  it('records a create: the writer owns every field, maps it created marked with "."', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } };
    const out = recordUpdate('Pod', {}, pod as JsonObject, 'kubectl-run', T0);
    expect(managedFields(out)).toEqual([
      {
        manager: 'kubectl-run',
        operation: 'Update',
        apiVersion: 'v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          // Every map and list the write brought into being is marked "." (kube leaves out the
          // struct fields a Go zero value already has, which needs the schema).
          'f:spec': { '.': {}, 'f:containers': { '.': {}, 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    ]);
  });

  it('moves changed fields to the writer\'s Update entry and drops removed fields from every set', () => {
    const live = stored(apply(undefined, webConfig()));
    const updated = structuredClone(live);
    containers(updated)[0]!.image = 'nginx:1.26';
    delete updated.metadata!.labels;
    const out = recordUpdate('Deployment', live as JsonObject, updated as JsonObject, 'kubectl-edit', T1);
    expect(entry(out, 'kubectl-edit', 'Update')).toEqual({
      manager: 'kubectl-edit',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: T1,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } } },
    });
    const kubectl = entry(out, 'kubectl');
    expect(kubectl.fieldsV1).not.toHaveProperty('f:metadata');
    expect(JSON.stringify(kubectl.fieldsV1)).not.toContain('f:image');
    // Apply entries sort before Update entries.
    expect(managedFields(out).map((e) => e.operation)).toEqual(['Apply', 'Update']);
  });

  it('merges later changes into the same entry and leaves it alone on a no-op', () => {
    const live = stored(apply(undefined, webConfig()));
    const first = patch<Deployment>('Deployment', live, { spec: { replicas: 4 } }, 'merge', { fieldManager: 'kubectl-scale', now: T1 });
    const second = patch<Deployment>('Deployment', stored(first, '11'), { metadata: { labels: { tier: 'web' } } }, 'merge', { fieldManager: 'kubectl-scale', now: T2 });
    expect(entry(second, 'kubectl-scale', 'Update')).toMatchObject({
      time: T2,
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:tier': {} } }, 'f:spec': { 'f:replicas': {} } },
    });
    const noop = patch<Deployment>('Deployment', stored(second, '12'), { spec: { replicas: 4 } }, 'merge', { fieldManager: 'kubectl-scale', now: '2026-11-22T11:00:00Z' });
    expect(entry(noop, 'kubectl-scale', 'Update').time).toBe(T2);
  });

  it('leaves an untracked object untracked, and clears managedFields on [{}]', () => {
    const untracked = storedDeployment();
    const scaled = patch<Deployment>('Deployment', untracked, { spec: { replicas: 3 } }, 'merge', { fieldManager: 'kubectl-scale' });
    expect(scaled.spec!.replicas).toBe(3);
    expect(scaled.metadata!.managedFields).toBeUndefined();

    const live = stored(apply(undefined, webConfig()));
    const cleared = patch<Deployment>('Deployment', live, { metadata: { managedFields: [{}] } }, 'merge', { fieldManager: 'kubectl-patch' });
    expect(cleared.metadata!.managedFields).toBeUndefined();
  });

  it('ignores status changes (status has its own writers and subresource)', () => {
    const live = stored(apply(undefined, webConfig()));
    const out = patch<Deployment>('Deployment', live, { status: { readyReplicas: 2 } }, 'merge', { fieldManager: 'kube-controller-manager', now: T1 });
    expect(managedFields(out).map((e) => e.manager)).toEqual(['kubectl']);
  });
});
