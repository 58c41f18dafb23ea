import { describe, expect, it } from 'vitest';
import { humanDuration, toTable, type TableColumnDefinition, type TableOptions } from '../../src/node/controlplane/apiserver/tables.js';
import type { KubeObject } from '../../src/node/controlplane/apiserver/strategy.js';
import { renderList, renderObject } from '../../src/node/controlplane/apiserver/render.js';
import { findResource } from '../../src/node/controlplane/apiserver/resources.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const OPTS: TableOptions = { includeObject: 'None', now: NOW };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** An RFC 3339 timestamp `ms` before NOW, as the server stores metav1.Time. */
function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function obj(kind: string, name: string, fields: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { kind, metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '42', creationTimestamp: ago(5 * MINUTE), ...meta }, ...fields };
}

function cellsOf(kind: string, item: KubeObject): unknown[] {
  const table = toTable(kind, [item], OPTS);
  expect(table.rows).toHaveLength(1);
  return table.rows[0]!.cells;
}

/** Name, type, format and priority of each column, as kubectl reads them. */
function shape(kind: string): Array<[string, string, string, number]> {
  return toTable(kind, [], OPTS).columnDefinitions.map((c: TableColumnDefinition) => [c.name, c.type, c.format, c.priority]);
}

const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [-1.5 * SECOND, '0s'],
    [-2.5 * SECOND, '<invalid>'],
    [5 * SECOND, '5s'],
    [5.9 * SECOND, '5s'],
    [119 * SECOND, '119s'],
    [2 * MINUTE, '2m'],
    [2 * MINUTE + 10 * SECOND, '2m10s'],
    [9 * MINUTE + 59 * SECOND, '9m59s'],
    [10 * MINUTE + 30 * SECOND, '10m'],
    [179 * MINUTE, '179m'],
    [3 * HOUR, '3h'],
    [3 * HOUR + 5 * MINUTE, '3h5m'],
    [7 * HOUR + 59 * MINUTE, '7h59m'],
    [8 * HOUR + 30 * MINUTE, '8h'],
    [47 * HOUR, '47h'],
    [2 * DAY, '2d'],
    [2 * DAY + 3 * HOUR, '2d3h'],
    [7 * DAY + 23 * HOUR, '7d23h'],
    [8 * DAY + 5 * HOUR, '8d'],
    [45 * DAY, '45d'],
    [729 * DAY, '729d'],
    [730 * DAY, '2y'],
    [1105 * DAY, '3y10d'],
    [8 * 365 * DAY + 40 * DAY, '8y'],
  ])('%d ms → %s', (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});

describe('the Table envelope', () => {
  const pod = obj('Pod', 'web', { apiVersion: 'v1', spec: { containers: [{ name: 'app', image: 'nginx' }] }, status: { phase: 'Pending' } });

  it('carries the list metadata kubectl watches and pages from', () => {
    const table = toTable('Pod', [pod], { ...OPTS, resourceVersion: '1234', continue: 'token' });
    expect(table.kind).toBe('Table');
    expect(table.apiVersion).toBe('meta.k8s.io/v1');
    expect(table.metadata).toEqual({ resourceVersion: '1234', continue: 'token' });
    expect(toTable('Pod', [], OPTS)).toMatchObject({ metadata: {}, rows: [] });
  });

  it('embeds PartialObjectMetadata by default, the whole object or nothing when asked', () => {
    const metadataRow = toTable('Pod', [pod], { ...OPTS, includeObject: 'Metadata' }).rows[0]!;
    expect(metadataRow.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata });

    const { kind: _kind, apiVersion: _apiVersion, ...untyped } = pod;
    const objectRow = toTable('Pod', [untyped as KubeObject], { ...OPTS, includeObject: 'Object' }).rows[0]!;
    expect(objectRow.object).toEqual({ ...pod, apiVersion: 'v1', kind: 'Pod' });

    expect(toTable('Deployment', [obj('Deployment', 'd', {})], { ...OPTS, includeObject: 'Object' }).rows[0]!.object).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
    });
    expect('object' in toTable('Pod', [pod], OPTS).rows[0]!).toBe(false);
  });

  it('is what render.ts answers a Table request with', () => {
    const pods = findResource('', 'v1', 'pods')!;
    const list = renderList({ as: 'Table', apiVersion: 'meta.k8s.io/v1beta1' }, pods, { items: [pod], resourceVersion: '7', continue: 'next' }, { now: NOW });
    expect(list).toMatchObject({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1beta1',
      metadata: { resourceVersion: '7', continue: 'next' },
      rows: [{ cells: ['web', '0/1', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>'], object: { kind: 'PartialObjectMetadata' } }],
    });
    const single = renderObject({ as: 'Table', apiVersion: 'meta.k8s.io/v1' }, pods, pod, { now: NOW, includeObject: 'None' });
    expect(single).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '42' } });
    expect((single as { rows: object[] }).rows[0]).not.toHaveProperty('object');
  });

  it('gives every row as many cells as there are columns', () => {
    const kinds = ['Pod', 'Node', 'Namespace', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'ServiceAccount', 'Event', 'Deployment'];
    for (const kind of [...kinds, 'ReplicaSet', 'DaemonSet', 'Job', 'CronJob', 'Lease', 'PodDisruptionBudget', 'Widget']) {
      const table = toTable(kind, [obj(kind, 'empty', {})], OPTS);
      expect(table.rows[0]!.cells, kind).toHaveLength(table.columnDefinitions.length);
    }
  });
});

describe('Pod', () => {
  it('has the columns of kube-apiserver, wide ones at priority 1', () => {
    const columns = toTable('Pod', [], OPTS).columnDefinitions;
    expect(columns.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ]);
    expect(columns[0]!.description).toBe(NAME_DOC);
    expect(columns[1]!.description).toBe('The aggregate readiness state of this pod for accepting traffic.');
    expect(columns[3]!.description).toBe(
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    );
    expect(columns[4]!.description).toBe(AGE_DOC);
    expect(columns[5]!.description).toBe('podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.');
  });

  const running = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    ready: true,
    started: true,
    restartCount: 0,
    image: 'nginx:1.27',
    imageID: '',
    state: { running: { startedAt: ago(4 * MINUTE) } },
    ...extra,
  });

  it('prints a running pod', () => {
    const pod = obj(
      'Pod',
      'web-7d4b9c-x2x9k',
      {
        spec: { nodeName: 'worker-1', containers: [{ name: 'app', image: 'nginx:1.27' }] },
        status: {
          phase: 'Running',
          podIP: '10.244.1.5',
          podIPs: [{ ip: '10.244.1.5' }],
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [running('app')],
        },
      },
      { creationTimestamp: ago(5 * MINUTE + 20 * SECOND) },
    );
    const table = toTable('Pod', [pod], OPTS);
    expect(table.rows[0]!.cells).toEqual(['web-7d4b9c-x2x9k', '1/1', 'Running', '0', '5m20s', '10.244.1.5', 'worker-1', '<none>', '<none>']);
    expect(table.rows[0]!.conditions).toBeUndefined();
  });

  it('prints a crash-looping pod with its restarts and when the last one was', () => {
    const pod = obj(
      'Pod',
      'api-0',
      {
        spec: { nodeName: 'worker-2', containers: [{ name: 'api' }, { name: 'log' }] },
        status: {
          phase: 'Running',
          podIPs: [{ ip: '10.244.2.9' }],
          containerStatuses: [
            running('api', {
              ready: false,
              restartCount: 5,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s restarting failed container' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: ago(3 * MINUTE), finishedAt: ago(2 * MINUTE + 10 * SECOND) } },
            }),
            running('log', { restartCount: 1, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(HOUR) } } }),
          ],
        },
      },
      { creationTimestamp: ago(3 * HOUR + 5 * MINUTE) },
    );
    expect(cellsOf('Pod', pod)).toEqual(['api-0', '1/2', 'CrashLoopBackOff', '6 (2m10s ago)', '3h5m', '10.244.2.9', 'worker-2', '<none>', '<none>']);
  });

  it('prints a completed pod, with the Completed row condition', () => {
    const pod = obj('Pod', 'migrate-5x7z', {
      spec: { nodeName: 'worker-1', containers: [{ name: 'migrate' }] },
      status: {
        phase: 'Succeeded',
        containerStatuses: [running('migrate', { ready: false, started: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } })],
      },
    });
    const row = toTable('Pod', [pod], OPTS).rows[0]!;
    expect(row.cells.slice(0, 4)).toEqual(['migrate-5x7z', '0/1', 'Completed', '0']);
    expect(row.cells[5]).toBe('<none>');
    expect(row.conditions).toEqual([{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  });

  it('prints a failed pod with Error and the Failed row condition', () => {
    const pod = obj('Pod', 'job-1', {
      spec: { containers: [{ name: 'main' }] },
      status: { phase: 'Failed', containerStatuses: [running('main', { ready: false, state: { terminated: { exitCode: 2, reason: 'Error' } } })] },
    });
    const row = toTable('Pod', [pod], OPTS).rows[0]!;
    expect(row.cells[2]).toBe('Error');
    expect(row.conditions).toEqual([{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
  });

  it('prints Terminating once deletion started, and Unknown for a pod on a lost node', () => {
    const base = {
      spec: { nodeName: 'worker-1', containers: [{ name: 'app' }] },
      status: { phase: 'Running', containerStatuses: [running('app')] },
    };
    expect(cellsOf('Pod', obj('Pod', 'web', base, { deletionTimestamp: ago(-30 * SECOND), deletionGracePeriodSeconds: 30 }))[2]).toBe('Terminating');
    const lost = { ...base, status: { ...base.status, reason: 'NodeLost', message: 'Node worker-1 which was running pod web is unresponsive' } };
    expect(cellsOf('Pod', obj('Pod', 'web', lost))[2]).toBe('NodeLost');
    expect(cellsOf('Pod', obj('Pod', 'web', lost, { deletionTimestamp: ago(0) }))[2]).toBe('Unknown');
    // A terminal pod being deleted keeps its final status.
    const done = { ...base, status: { phase: 'Succeeded', containerStatuses: [running('app', { ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } })] } };
    expect(cellsOf('Pod', obj('Pod', 'web', done, { deletionTimestamp: ago(0) }))[2]).toBe('Completed');
  });

  /** A pod status whose only container is in `state`, not ready. */
  const only = (phase: string, state: Record<string, unknown>) => ({ phase, containerStatuses: [running('app', { ready: false, state })] });

  it.each([
    ['a pending pod without statuses', { phase: 'Pending' }, 'Pending'],
    ['a pod without a phase', {}, ''],
    ['an evicted pod', { phase: 'Failed', reason: 'Evicted' }, 'Evicted'],
    ['a pod whose container is being created', only('Pending', { waiting: { reason: 'ContainerCreating' } }), 'ContainerCreating'],
    ['a pod whose image cannot be pulled', only('Pending', { waiting: { reason: 'ImagePullBackOff' } }), 'ImagePullBackOff'],
    ['an OOM-killed container', only('Running', { terminated: { exitCode: 137, reason: 'OOMKilled' } }), 'OOMKilled'],
    ['a container that exited without a reason', only('Running', { terminated: { exitCode: 3 } }), 'ExitCode:3'],
    ['a container killed by a signal', only('Running', { terminated: { exitCode: 0, signal: 9 } }), 'Signal:9'],
    ['a running but unready container', only('Running', { running: { startedAt: ago(MINUTE) } }), 'Running'],
    ['a scheduling-gated pod', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }, 'SchedulingGated'],
  ])('prints %s', (_what, status, reason) => {
    const pod = obj('Pod', 'p', { spec: { containers: [{ name: 'app' }] }, status });
    expect(cellsOf('Pod', pod).slice(1, 3)).toEqual(['0/1', reason]);
  });

  it('prints Running or NotReady, not Completed, while another container still runs', () => {
    const containers = [running('done', { ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }), running('server')];
    const spec = { containers: [{ name: 'done' }, { name: 'server' }] };
    const ready = obj('Pod', 'p', { spec, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: containers } });
    const unready = obj('Pod', 'p', { spec, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: containers } });
    expect(cellsOf('Pod', ready).slice(1, 3)).toEqual(['1/2', 'Running']);
    expect(cellsOf('Pod', unready).slice(1, 3)).toEqual(['1/2', 'NotReady']);
  });

  describe('init containers', () => {
    const spec = { initContainers: [{ name: 'wait-db' }, { name: 'migrate' }], containers: [{ name: 'app' }] };
    const pending = (initStatuses: unknown[]) =>
      obj('Pod', 'p', {
        spec,
        status: {
          phase: 'Pending',
          conditions: [{ type: 'Initialized', status: 'False' }],
          initContainerStatuses: initStatuses,
          containerStatuses: [running('app', { ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } })],
        },
      });

    it('prints Init:x/y while they run', () => {
      const pod = pending([
        running('wait-db', { ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } }),
        running('migrate', { ready: false }),
      ]);
      expect(cellsOf('Pod', pod).slice(1, 4)).toEqual(['0/1', 'Init:1/2', '0']);
    });

    it('prints Init:<reason> for a failing one, counting its restarts', () => {
      const crashing = pending([
        running('wait-db', {
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(40 * SECOND) } },
        }),
        running('migrate', { ready: false, state: { waiting: { reason: 'PodInitializing' } } }),
      ]);
      expect(cellsOf('Pod', crashing).slice(2, 4)).toEqual(['Init:CrashLoopBackOff', '3 (40s ago)']);
      const failed = pending([running('wait-db', { ready: false, state: { terminated: { exitCode: 1, reason: 'Error' } } })]);
      expect(cellsOf('Pod', failed)[2]).toBe('Init:Error');
      const noReason = pending([running('wait-db', { ready: false, state: { terminated: { exitCode: 4 } } })]);
      expect(cellsOf('Pod', noReason)[2]).toBe('Init:ExitCode:4');
    });

    it('stops counting the restarts of finished init containers once the pod is initialized', () => {
      const pod = obj('Pod', 'p', {
        spec,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
          initContainerStatuses: [
            running('wait-db', { ready: true, restartCount: 2, state: { terminated: { exitCode: 0, reason: 'Completed' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(20 * MINUTE) } } }),
            running('migrate', { ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } }),
          ],
          containerStatuses: [running('app')],
        },
      });
      expect(cellsOf('Pod', pod).slice(1, 4)).toEqual(['1/1', 'Running', '0']);
    });

    it('counts a started sidecar among the ready containers and its restarts after initialization', () => {
      const pod = obj('Pod', 'p', {
        spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
          initContainerStatuses: [running('proxy', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(10 * MINUTE) } } })],
          containerStatuses: [running('app')],
        },
      });
      expect(cellsOf('Pod', pod).slice(1, 4)).toEqual(['2/2', 'Running', '2 (10m ago)']);
    });
  });

  it('prints the readiness gates that hold, and the nominated node', () => {
    const pod = obj('Pod', 'p', {
      spec: { containers: [{ name: 'app' }], readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] },
      status: {
        phase: 'Pending',
        nominatedNodeName: 'worker-3',
        conditions: [
          { type: 'example.com/lb', status: 'True' },
          { type: 'example.com/dns', status: 'False' },
        ],
      },
    });
    expect(cellsOf('Pod', pod).slice(5)).toEqual(['<none>', '<none>', 'worker-3', '1/2']);
  });

  it('prints <unknown> for a pod without a creation time', () => {
    expect(cellsOf('Pod', obj('Pod', 'p', {}, { creationTimestamp: undefined }))[4]).toBe('<unknown>');
  });
});

describe('Node', () => {
  const info = {
    kubeletVersion: 'v1.33.0',
    osImage: 'Debian GNU/Linux 12 (bookworm)',
    kernelVersion: '6.8.0-45-generic',
    containerRuntimeVersion: 'docker://27.3.1',
  };

  it('has the columns of kube-apiserver', () => {
    expect(shape('Node')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Status', 'string', '', 0],
      ['Roles', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Version', 'string', '', 0],
      ['Internal-IP', 'string', '', 1],
      ['External-IP', 'string', '', 1],
      ['OS-Image', 'string', '', 1],
      ['Kernel-Version', 'string', '', 1],
      ['Container-Runtime', 'string', '', 1],
    ]);
    expect(toTable('Node', [], OPTS).columnDefinitions[4]!.description).toBe('Kubelet Version reported by the node.');
  });

  it('prints a ready control-plane node', () => {
    const node = obj(
      'Node',
      'lab-control-plane',
      {
        spec: { podCIDR: '10.244.0.0/24' },
        status: {
          conditions: [
            { type: 'MemoryPressure', status: 'False' },
            { type: 'Ready', status: 'True', reason: 'KubeletReady' },
          ],
          addresses: [
            { type: 'InternalIP', address: '172.18.0.2' },
            { type: 'Hostname', address: 'lab-control-plane' },
          ],
          nodeInfo: info,
        },
      },
      { namespace: undefined, creationTimestamp: ago(2 * DAY + 3 * HOUR), labels: { 'kubernetes.io/hostname': 'lab-control-plane', 'node-role.kubernetes.io/control-plane': '' } },
    );
    expect(cellsOf('Node', node)).toEqual([
      'lab-control-plane',
      'Ready',
      'control-plane',
      '2d3h',
      'v1.33.0',
      '172.18.0.2',
      '<none>',
      'Debian GNU/Linux 12 (bookworm)',
      '6.8.0-45-generic',
      'docker://27.3.1',
    ]);
  });

  it('prints a cordoned, unready worker', () => {
    const node = obj(
      'Node',
      'lab-worker',
      {
        spec: { unschedulable: true },
        status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }], addresses: [{ type: 'ExternalIP', address: '203.0.113.7' }], nodeInfo: info },
      },
      { creationTimestamp: ago(45 * DAY) },
    );
    expect(cellsOf('Node', node).slice(0, 7)).toEqual(['lab-worker', 'NotReady,SchedulingDisabled', '<none>', '45d', 'v1.33.0', '<none>', '203.0.113.7']);
    const cordonedReady = obj('Node', 'w', { spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(cellsOf('Node', cordonedReady)[1]).toBe('Ready,SchedulingDisabled');
  });

  it('prints Unknown without a Ready condition, and roles from both role labels, sorted', () => {
    const node = obj('Node', 'n', {}, { labels: { 'node-role.kubernetes.io/ingress': '', 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': '' } });
    expect(cellsOf('Node', node)).toEqual(['n', 'Unknown', 'ingress,worker', '5m', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });
});

describe('Service', () => {
  it('has the columns of kube-apiserver', () => {
    expect(shape('Service')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Type', 'string', '', 0],
      ['Cluster-IP', 'string', '', 0],
      ['External-IP', 'string', '', 0],
      ['Port(s)', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Selector', 'string', '', 1],
    ]);
  });

  it('prints a NodePort service', () => {
    const svc = obj(
      'Service',
      'web',
      {
        spec: {
          type: 'NodePort',
          clusterIP: '10.96.12.7',
          clusterIPs: ['10.96.12.7'],
          selector: { tier: 'front', app: 'web' },
          ports: [
            { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
            { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
          ],
        },
      },
      { creationTimestamp: ago(10 * MINUTE) },
    );
    expect(cellsOf('Service', svc)).toEqual(['web', 'NodePort', '10.96.12.7', '<none>', '80:30080/TCP,53:30053/UDP', '10m', 'app=web,tier=front']);
  });

  it('prints ClusterIP, headless, LoadBalancer and ExternalName services', () => {
    const cells = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => cellsOf('Service', obj('Service', 's', { spec, status })).slice(1, 5);
    expect(cells({ clusterIP: '10.96.0.1', ports: [{ port: 443 }] })).toEqual(['ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
    expect(cells({ type: 'ClusterIP', clusterIP: 'None', ports: [] })).toEqual(['ClusterIP', 'None', '<none>', '<none>']);
    expect(cells({ type: 'ClusterIP', clusterIPs: ['10.96.3.3'], externalIPs: ['192.0.2.1', '192.0.2.2'], ports: [{ port: 80, protocol: 'TCP' }] })).toEqual([
      'ClusterIP',
      '10.96.3.3',
      '192.0.2.1,192.0.2.2',
      '80/TCP',
    ]);
    expect(cells({ type: 'LoadBalancer', clusterIP: '10.96.4.4', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] })).toEqual([
      'LoadBalancer',
      '10.96.4.4',
      '<pending>',
      '80:31000/TCP',
    ]);
    expect(
      cells(
        { type: 'LoadBalancer', clusterIP: '10.96.4.4', externalIPs: ['192.0.2.9'], ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
        { loadBalancer: { ingress: [{ ip: '198.51.100.20' }, { hostname: 'lb.example.com' }, { ip: '198.51.100.3' }] } },
      )[2],
    ).toBe('198.51.100.20,198.51.100.3,lb.example.com,192.0.2.9');
    expect(cells({ type: 'ExternalName', externalName: 'db.example.com' })).toEqual(['ExternalName', '<none>', 'db.example.com', '<none>']);
    expect(cellsOf('Service', obj('Service', 's', { spec: {} }))[6]).toBe('<none>');
    // Sorted as whole `key=value` strings, as labels.FormatLabels does.
    expect(cellsOf('Service', obj('Service', 's', { spec: { selector: { app: 'web', 'app.kubernetes.io/name': 'web' } } }))[6]).toBe(
      'app.kubernetes.io/name=web,app=web',
    );
  });
});

describe('Endpoints', () => {
  it('prints up to three ready endpoints and how many more there are', () => {
    const ep = obj('Endpoints', 'web', {
      subsets: [
        {
          addresses: [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }],
          notReadyAddresses: [{ ip: '10.244.9.9' }],
          ports: [
            { name: 'http', port: 80, protocol: 'TCP' },
            { name: 'metrics', port: 9090, protocol: 'TCP' },
          ],
        },
        { addresses: [{ ip: '10.244.2.4' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      ],
    });
    expect(cellsOf('Endpoints', ep)).toEqual(['web', '10.244.1.2:80,10.244.1.3:80,10.244.1.2:9090 + 2 more...', '5m']);
  });

  it('prints exactly three without "more", bare IPs without ports, brackets for IPv6, <none> without subsets', () => {
    const three = obj('Endpoints', 'e', { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }], ports: [{ port: 53 }] }] });
    expect(cellsOf('Endpoints', three)[1]).toBe('10.0.0.1:53,10.0.0.2:53,10.0.0.3:53');
    const headless = obj('Endpoints', 'e', { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }] });
    expect(cellsOf('Endpoints', headless)[1]).toBe('10.0.0.1,10.0.0.2');
    const v6 = obj('Endpoints', 'e', { subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 8080 }] }] });
    expect(cellsOf('Endpoints', v6)[1]).toBe('[fd00::1]:8080');
    expect(cellsOf('Endpoints', obj('Endpoints', 'e', {}))[1]).toBe('<none>');
    expect(cellsOf('Endpoints', obj('Endpoints', 'e', { subsets: [{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }))[1]).toBe('');
  });
});

describe('Event', () => {
  it('has the columns of kube-apiserver, NAME last and wide', () => {
    expect(shape('Event')).toEqual([
      ['Last Seen', 'string', '', 0],
      ['Type', 'string', '', 0],
      ['Reason', 'string', '', 0],
      ['Object', 'string', '', 0],
      ['Subobject', 'string', '', 1],
      ['Source', 'string', '', 1],
      ['Message', 'string', '', 0],
      ['First Seen', 'string', '', 1],
      ['Count', 'string', '', 1],
      ['Name', 'string', 'name', 1],
    ]);
  });

  it('prints a kubelet event', () => {
    const event = obj('Event', 'api-0.17f9a1c2d3e4f5a6', {
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'api-0', uid: 'uid-api-0', fieldPath: 'spec.containers{api}' },
      reason: 'BackOff',
      message: '  Back-off restarting failed container api in pod api-0_default(uid-api-0)\n',
      source: { component: 'kubelet', host: 'worker-2' },
      firstTimestamp: ago(HOUR),
      lastTimestamp: ago(30 * SECOND),
      count: 12,
      type: 'Warning',
    });
    expect(cellsOf('Event', event)).toEqual([
      '30s',
      'Warning',
      'BackOff',
      'pod/api-0',
      'spec.containers{api}',
      'kubelet, worker-2',
      'Back-off restarting failed container api in pod api-0_default(uid-api-0)',
      '60m',
      12,
      'api-0.17f9a1c2d3e4f5a6',
    ]);
  });

  it('prints an events.k8s.io event from its eventTime, series and reporting controller', () => {
    const event = obj('Event', 'e', {
      involvedObject: { kind: 'Node', name: 'worker-1' },
      reason: 'NodeNotReady',
      message: 'Node worker-1 status is now: NodeNotReady',
      eventTime: new Date(NOW.getTime() - 3 * HOUR).toISOString().replace('Z', '000Z'),
      series: { count: 4, lastObservedTime: new Date(NOW.getTime() - 2 * MINUTE).toISOString() },
      reportingComponent: 'node-controller',
      type: 'Normal',
    });
    const cells = cellsOf('Event', event);
    expect([cells[0], cells[3], cells[5], cells[7], cells[8]]).toEqual(['2m', 'node/worker-1', 'node-controller', '3h', 4]);
  });

  it('counts a singleton event once and repeats first seen as last seen', () => {
    const event = obj('Event', 'e', { involvedObject: { kind: 'Namespace' }, firstTimestamp: ago(90 * SECOND), reason: 'Created' });
    const cells = cellsOf('Event', event);
    expect([cells[0], cells[3], cells[5], cells[7], cells[8]]).toEqual(['90s', 'namespace', '', '90s', 1]);
    expect(cellsOf('Event', obj('Event', 'e', {}))[0]).toBe('<unknown>');
  });
});

describe('Deployment', () => {
  it('has the columns of kube-apiserver', () => {
    expect(shape('Deployment')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Up-to-date', 'string', '', 0],
      ['Available', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Containers', 'string', '', 1],
      ['Images', 'string', '', 1],
      ['Selector', 'string', '', 1],
    ]);
  });

  it('prints a deployment in the middle of a rollout', () => {
    const deploy = obj(
      'Deployment',
      'web',
      {
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary', 'beta'] }] },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'nginx', image: 'nginx:1.27' },
                { name: 'exporter', image: 'nginx/nginx-prometheus-exporter:1.3' },
              ],
            },
          },
        },
        status: { observedGeneration: 4, replicas: 4, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 2 },
      },
      { creationTimestamp: ago(45 * DAY), generation: 4 },
    );
    expect(cellsOf('Deployment', deploy)).toEqual([
      'web',
      '2/3',
      1,
      2,
      '45d',
      'nginx,exporter',
      'nginx:1.27,nginx/nginx-prometheus-exporter:1.3',
      'app=web,track notin (beta,canary)',
    ]);
  });

  it('prints a fresh deployment without status, and no selector as empty', () => {
    const deploy = obj('Deployment', 'new', { spec: { template: { spec: { containers: [{ name: 'app', image: 'busybox' }] } } } });
    expect(cellsOf('Deployment', deploy)).toEqual(['new', '0/1', 0, 0, '5m', 'app', 'busybox', '']);
    const broken = obj('Deployment', 'b', { spec: { selector: { matchExpressions: [{ key: 'app', operator: 'Near', values: ['x'] }] } } });
    expect(cellsOf('Deployment', broken)[7]).toBe('<invalid>');
  });
});

describe('ReplicaSet and DaemonSet', () => {
  it('has the columns of kube-apiserver', () => {
    expect(shape('ReplicaSet')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Desired', 'integer', '', 0],
      ['Current', 'integer', '', 0],
      ['Ready', 'integer', '', 0],
      ['Age', 'string', '', 0],
      ['Containers', 'string', '', 1],
      ['Images', 'string', '', 1],
      ['Selector', 'string', '', 1],
    ]);
    expect(shape('DaemonSet')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Desired', 'integer', '', 0],
      ['Current', 'integer', '', 0],
      ['Ready', 'integer', '', 0],
      ['Up-to-date', 'integer', '', 0],
      ['Available', 'integer', '', 0],
      ['Node Selector', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Containers', 'string', '', 1],
      ['Images', 'string', '', 1],
      ['Selector', 'string', '', 1],
    ]);
  });

  it('prints a replica set', () => {
    const rs = obj('ReplicaSet', 'web-7d4b9c', {
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d4b9c' } },
        template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
      },
      status: { replicas: 3, readyReplicas: 2, availableReplicas: 2 },
    });
    expect(cellsOf('ReplicaSet', rs)).toEqual(['web-7d4b9c', 3, 3, 2, '5m', 'nginx', 'nginx:1.27', 'app=web,pod-template-hash=7d4b9c']);
    const scaledDown = obj('ReplicaSet', 'old', { spec: { replicas: 0, selector: {} }, status: { replicas: 0 } });
    expect(cellsOf('ReplicaSet', scaledDown)).toEqual(['old', 0, 0, 0, '5m', '', '', '<none>']);
  });

  it('prints a daemon set with its node selector', () => {
    const ds = obj('DaemonSet', 'node-exporter', {
      spec: {
        selector: { matchLabels: { app: 'node-exporter' } },
        template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' }, containers: [{ name: 'exporter', image: 'prom/node-exporter:v1.8.2' }] } },
      },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2, numberMisscheduled: 0 },
    });
    expect(cellsOf('DaemonSet', ds)).toEqual([
      'node-exporter',
      3,
      3,
      2,
      3,
      2,
      'disk=ssd,kubernetes.io/os=linux',
      '5m',
      'exporter',
      'prom/node-exporter:v1.8.2',
      'app=node-exporter',
    ]);
    expect(cellsOf('DaemonSet', obj('DaemonSet', 'd', {})).slice(1, 7)).toEqual([0, 0, 0, 0, 0, '<none>']);
  });
});

describe('Job and CronJob', () => {
  it('has the columns of kube-apiserver 1.33', () => {
    expect(shape('Job')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Status', 'string', '', 0],
      ['Completions', 'string', '', 0],
      ['Duration', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Containers', 'string', '', 1],
      ['Images', 'string', '', 1],
      ['Selector', 'string', '', 1],
    ]);
    expect(shape('CronJob')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Schedule', 'string', '', 0],
      ['Timezone', 'string', '', 0],
      ['Suspend', 'boolean', '', 0],
      ['Active', 'integer', '', 0],
      ['Last Schedule', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Containers', 'string', '', 1],
      ['Images', 'string', '', 1],
      ['Selector', 'string', '', 1],
    ]);
  });

  const jobSpec = (extra: Record<string, unknown> = {}) => ({
    selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
    template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }], restartPolicy: 'Never' } },
    ...extra,
  });

  it('prints a running and a completed job', () => {
    const runningJob = obj('Job', 'pi', { spec: jobSpec({ completions: 3, parallelism: 1 }), status: { startTime: ago(2 * MINUTE + 5 * SECOND), active: 1, succeeded: 1 } });
    expect(cellsOf('Job', runningJob)).toEqual(['pi', 'Running', '1/3', '2m5s', '5m', 'pi', 'perl:5.34', 'batch.kubernetes.io/controller-uid=u1']);
    const complete = obj('Job', 'pi', {
      spec: jobSpec({ completions: 1 }),
      status: {
        startTime: ago(4 * MINUTE),
        completionTime: ago(4 * MINUTE - 47 * SECOND),
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True' },
          { type: 'Complete', status: 'True' },
        ],
      },
    });
    expect(cellsOf('Job', complete).slice(1, 4)).toEqual(['Complete', '1/1', '47s']);
  });

  it.each([
    ['Failed', { conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True' }] }, {}],
    ['Suspended', { conditions: [{ type: 'Suspended', status: 'True' }] }, {}],
    ['Running', { conditions: [{ type: 'Suspended', status: 'False' }] }, {}],
    ['FailureTarget', { conditions: [{ type: 'FailureTarget', status: 'True' }] }, {}],
    ['SuccessCriteriaMet', { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] }, {}],
    ['Terminating', { conditions: [{ type: 'Suspended', status: 'True' }] }, { deletionTimestamp: ago(0) }],
  ])('prints %s', (expected, status, meta) => {
    expect(cellsOf('Job', obj('Job', 'j', { spec: jobSpec(), status }, meta))[1]).toBe(expected);
  });

  it('prints completions without a completion count', () => {
    expect(cellsOf('Job', obj('Job', 'j', { spec: jobSpec({ parallelism: 4 }), status: { succeeded: 2 } })).slice(2, 4)).toEqual(['2/1 of 4', '']);
    expect(cellsOf('Job', obj('Job', 'j', { spec: jobSpec() }))[2]).toBe('0/1');
  });

  it('prints a cron job', () => {
    const cj = obj(
      'CronJob',
      'backup',
      {
        spec: {
          schedule: '*/15 * * * *',
          suspend: false,
          jobTemplate: { spec: { template: { spec: { containers: [{ name: 'backup', image: 'restic/restic:0.17' }] } } } },
        },
        status: { active: [{ kind: 'Job', name: 'backup-29001', namespace: 'default' }], lastScheduleTime: ago(9 * MINUTE) },
      },
      { creationTimestamp: ago(8 * DAY) },
    );
    expect(cellsOf('CronJob', cj)).toEqual(['backup', '*/15 * * * *', '<none>', 'False', 1, '9m', '8d', 'backup', 'restic/restic:0.17', '<none>']);
    const suspended = obj('CronJob', 'c', { spec: { schedule: '@daily', timeZone: 'Europe/Paris', suspend: true } });
    expect(cellsOf('CronJob', suspended).slice(1, 6)).toEqual(['@daily', 'Europe/Paris', 'True', 0, '<none>']);
    expect(cellsOf('CronJob', obj('CronJob', 'c', { spec: { schedule: '@daily' } }))[3]).toBe('<unset>');
  });
});

describe('the smaller kinds', () => {
  it('prints namespaces', () => {
    expect(shape('Namespace')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Status', 'string', '', 0],
      ['Age', 'string', '', 0],
    ]);
    expect(cellsOf('Namespace', obj('Namespace', 'kube-system', { status: { phase: 'Active' } }))).toEqual(['kube-system', 'Active', '5m']);
    expect(cellsOf('Namespace', obj('Namespace', 'old', { status: { phase: 'Terminating' } }))[1]).toBe('Terminating');
  });

  it('prints config maps, secrets and service accounts with their counts', () => {
    expect(shape('ConfigMap')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Data', 'string', '', 0],
      ['Age', 'string', '', 0],
    ]);
    expect(cellsOf('ConfigMap', obj('ConfigMap', 'kube-root-ca.crt', { data: { 'ca.crt': 'x' }, binaryData: { logo: 'eA==' } }))).toEqual(['kube-root-ca.crt', 2, '5m']);
    expect(cellsOf('ConfigMap', obj('ConfigMap', 'empty', {}))[1]).toBe(0);

    expect(shape('Secret')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Type', 'string', '', 0],
      ['Data', 'string', '', 0],
      ['Age', 'string', '', 0],
    ]);
    expect(cellsOf('Secret', obj('Secret', 'tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' } }))).toEqual([
      'tls',
      'kubernetes.io/tls',
      2,
      '5m',
    ]);
    expect(cellsOf('Secret', obj('Secret', 'plain', { stringData: { password: 'x' } })).slice(1, 3)).toEqual(['Opaque', 1]);

    expect(shape('ServiceAccount')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Secrets', 'string', '', 0],
      ['Age', 'string', '', 0],
    ]);
    expect(cellsOf('ServiceAccount', obj('ServiceAccount', 'default', {}))).toEqual(['default', 0, '5m']);
    expect(cellsOf('ServiceAccount', obj('ServiceAccount', 'builder', { secrets: [{ name: 'registry' }] }))[1]).toBe(1);
  });

  it('prints leases', () => {
    expect(shape('Lease')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Holder', 'string', '', 0],
      ['Age', 'string', '', 0],
    ]);
    const lease = obj('Lease', 'kube-scheduler', { spec: { holderIdentity: 'lab-control-plane_5f1c', leaseDurationSeconds: 15 } }, { namespace: 'kube-system' });
    expect(cellsOf('Lease', lease)).toEqual(['kube-scheduler', 'lab-control-plane_5f1c', '5m']);
    expect(cellsOf('Lease', obj('Lease', 'free', { spec: {} }))[1]).toBe('');
  });

  it('prints pod disruption budgets', () => {
    expect(shape('PodDisruptionBudget')).toEqual([
      ['Name', 'string', 'name', 0],
      ['Min Available', 'string', '', 0],
      ['Max Unavailable', 'string', '', 0],
      ['Allowed Disruptions', 'integer', '', 0],
      ['Age', 'string', '', 0],
    ]);
    const byCount = obj('PodDisruptionBudget', 'web', { spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } });
    expect(cellsOf('PodDisruptionBudget', byCount)).toEqual(['web', '2', 'N/A', 1, '5m']);
    const byPercent = obj('PodDisruptionBudget', 'db', { spec: { maxUnavailable: '25%' } });
    expect(cellsOf('PodDisruptionBudget', byPercent)).toEqual(['db', 'N/A', '25%', 0, '5m']);
  });

  it('prints any other kind by name and age', () => {
    const columns = toTable('Widget', [], OPTS).columnDefinitions;
    expect(columns).toEqual([
      { name: 'Name', type: 'string', format: 'name', description: NAME_DOC, priority: 0 },
      { name: 'Age', type: 'date', format: '', description: AGE_DOC, priority: 0 },
    ]);
    expect(cellsOf('Widget', obj('Widget', 'w', {}, { creationTimestamp: ago(3 * HOUR + 59 * MINUTE + 59 * SECOND) }))).toEqual(['w', '3h59m']);
  });
});
