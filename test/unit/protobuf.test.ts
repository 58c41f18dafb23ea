import { readFileSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeKubeProtobuf } from '../../src/node/controlplane/apiserver/protobuf/decode.js';
import { allMessageSchemas, messageSchema, rootMessageFor } from '../../src/node/controlplane/apiserver/protobuf/schema.js';
import { WireFormatError, WireReader } from '../../src/node/controlplane/apiserver/protobuf/wire.js';
import { RESOURCES, groupVersionOf } from '../../src/node/controlplane/apiserver/resources.js';
import { ApiStatusError } from '../../src/node/controlplane/apiserver/status.js';
import { encodeKubeProtobuf, encodeMessage, envelope, lengthDelimited, tag, varint } from '../support/protobuf-encoder.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/protobuf/', import.meta.url));

function statusOf(fn: () => unknown): { code: number; reason: string | undefined; message: string | undefined } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return { code: err.code, reason: err.status.reason, message: err.status.message };
    throw err;
  }
  throw new Error('expected an ApiStatusError');
}

describe('WireReader', () => {
  it('reads one- and multi-byte varints', () => {
    const r = new WireReader(Uint8Array.from([0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(r.varint()).toBe(1n);
    expect(r.varint()).toBe(300n);
    expect(r.varint()).toBe(0xffffffffn);
    expect(r.done).toBe(true);
  });

  it('reads negative int32/int64 sign-extended to ten bytes', () => {
    expect(new WireReader(varint(-1n)).int32()).toBe(-1);
    expect(new WireReader(varint(-5n)).int64()).toBe(-5);
    expect(varint(-1n)).toHaveLength(10);
  });

  it('reads tags, strings, doubles and skips every wire type', () => {
    const double = Buffer.alloc(8);
    double.writeDoubleLE(2.5);
    const bytes = Buffer.concat([
      tag(1, 0), varint(7n),
      tag(2, 1), double,
      tag(3, 5), Buffer.from([1, 2, 3, 4]),
      lengthDelimited(4, Buffer.from('héllo')),
      tag(5, 1), double,
    ]);
    const r = new WireReader(bytes);
    expect(r.tag()).toEqual({ field: 1, wireType: 0 });
    r.skip(0);
    expect(r.tag()).toEqual({ field: 2, wireType: 1 });
    r.skip(1);
    expect(r.tag()).toEqual({ field: 3, wireType: 5 });
    r.skip(5);
    expect(r.tag()).toEqual({ field: 4, wireType: 2 });
    expect(r.string()).toBe('héllo');
    expect(r.tag()).toEqual({ field: 5, wireType: 1 });
    expect(r.double()).toBe(2.5);
    expect(r.done).toBe(true);
  });

  it('rejects truncated varints, overlong lengths and group wire types', () => {
    expect(() => new WireReader(Uint8Array.from([0x80])).varint()).toThrow(WireFormatError);
    expect(() => new WireReader(Uint8Array.from([0x05, 0x61])).lengthDelimited()).toThrow(/runs past the end/);
    expect(() => new WireReader(Uint8Array.from([0x0b])).tag()).toThrow(/wire type 3/);
  });
});

describe('schema tables', () => {
  it('describe a root message for every kind the server serves', () => {
    for (const res of RESOURCES) expect(rootMessageFor(groupVersionOf(res), res.kind), `${res.kind}`).toBeDefined();
    for (const [apiVersion, kind] of [['policy/v1', 'Eviction'], ['policy/v1beta1', 'Eviction'], ['v1', 'Binding'], ['autoscaling/v1', 'Scale'], ['meta.k8s.io/v1', 'DeleteOptions'], ['v1', 'DeleteOptions']]) {
      expect(rootMessageFor(apiVersion!, kind!), `${apiVersion} ${kind}`).toBeDefined();
    }
  });

  it('refuse kinds of group-versions whose layout they do not describe', () => {
    expect(rootMessageFor('apps/v1beta1', 'Deployment')).toBeUndefined();
    expect(rootMessageFor('v1', 'PersistentVolume')).toBeUndefined();
    expect(rootMessageFor('v1', 'toString')).toBeUndefined();
  });

  it('hold the field numbers of generated.proto for a few well-known fields', () => {
    const num = (message: string, json: string) => messageSchema(message)!.fields.find((f) => f.jsonName === json)?.number;
    expect(num('ObjectMeta', 'managedFields')).toBe(17);
    expect(num('OwnerReference', 'apiVersion')).toBe(5);
    expect(num('Container', 'envFrom')).toBe(19);
    expect(num('PodSpec', 'initContainers')).toBe(20);
    expect(num('PodSpec', 'tolerations')).toBe(22);
    expect(num('ServicePort', 'appProtocol')).toBe(6);
    expect(num('DeploymentSpec', 'progressDeadlineSeconds')).toBe(9);
    expect(num('CronJobSpec', 'timeZone')).toBe(8);
    expect(num('Secret', 'immutable')).toBe(5);
    expect(allMessageSchemas().length).toBeGreaterThan(100);
  });
});

describe('bodies captured from kubectl 1.33', () => {
  // Captured from `kubectl create …` against a logging proxy; the .json next to each is what
  // the same kubectl prints with --dry-run=client -o json, i.e. the JSON body it would send.
  const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4));

  it('are all there', () => {
    expect(names.sort()).toEqual(['configmap', 'cronjob', 'deployment', 'job', 'namespace', 'poddisruptionbudget', 'secret', 'service-nodeport', 'serviceaccount']);
  });

  it.each(names)('%s decodes to the JSON kubectl would have sent', (name) => {
    const decoded = decodeKubeProtobuf(readFileSync(`${FIXTURES}${name}.bin`));
    const expected = JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8')) as { apiVersion: string; kind: string };
    expect(decoded.object).toStrictEqual(expected);
    expect(decoded.apiVersion).toBe(expected.apiVersion);
    expect(decoded.kind).toBe(expected.kind);
    // And keys come in Go's struct order, kind and apiVersion first.
    expect(JSON.stringify(decoded.object)).toBe(JSON.stringify(expected));
  });

  it('re-encode to the very bytes kubectl sent', () => {
    for (const name of names) {
      const bytes = readFileSync(`${FIXTURES}${name}.bin`);
      expect(encodeKubeProtobuf(decodeKubeProtobuf(bytes).object as { apiVersion: string; kind: string }).equals(bytes), name).toBe(true);
    }
  });
});

describe('round trips through the encoder', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-0',
      namespace: 'shop',
      uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2025-03-04T05:06:07Z',
      deletionTimestamp: '2025-03-04T06:00:00Z',
      deletionGracePeriodSeconds: 0,
      labels: { app: 'web', tier: 'front' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}\n' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9', uid: 'u-1', controller: true, blockOwnerDeletion: false }],
      finalizers: ['example.com/keep'],
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2025-03-04T05:06:07Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } } }],
    },
    spec: {
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'cfg', configMap: { name: 'web-config', items: [{ key: 'a', path: 'a.conf', mode: 420 }], defaultMode: 420, optional: false } },
        { name: 'creds', secret: { secretName: 'web-creds', defaultMode: 256 } },
        { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }] } },
        { name: 'token', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }], defaultMode: 420 } },
      ],
      initContainers: [{ name: 'init', image: 'busybox:1', command: ['sh', '-c', 'true'], resources: {} }],
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          args: ['-g', 'daemon off;'],
          workingDir: '/srv',
          ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }, { containerPort: 9090, hostPort: 9090, protocol: 'UDP', hostIP: '0.0.0.0' }],
          envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'web-config', optional: true } }, { secretRef: { name: 'web-creds' } }],
          env: [
            { name: 'PLAIN', value: 'x' },
            { name: 'EMPTY' },
            { name: 'NODE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
            { name: 'CPU', valueFrom: { resourceFieldRef: { containerName: 'web', resource: 'limits.cpu', divisor: '1m' } } },
            { name: 'KEY', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'k' } } },
            { name: 'PASS', valueFrom: { secretKeyRef: { name: 'web-creds', key: 'password', optional: false } } },
          ],
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
          volumeMounts: [{ name: 'cfg', readOnly: true, mountPath: '/etc/web' }, { name: 'scratch', mountPath: '/tmp', subPath: 'x' }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: '1' }] }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
          readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 2 },
          startupProbe: { exec: { command: ['cat', '/ready'] }, failureThreshold: 30, terminationGracePeriodSeconds: 0 },
          lifecycle: { preStop: { sleep: { seconds: 5 } }, postStart: { exec: { command: ['true'] } } },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
          securityContext: { capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, privileged: false, runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } },
          stdin: true,
          tty: true,
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      activeDeadlineSeconds: 600,
      dnsPolicy: 'ClusterFirst',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      serviceAccountName: 'web',
      serviceAccount: 'web',
      automountServiceAccountToken: false,
      nodeName: 'worker-1',
      hostNetwork: true,
      shareProcessNamespace: false,
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000, 5000], sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
      imagePullSecrets: [{ name: 'reg' }],
      hostname: 'web-0',
      subdomain: 'web',
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } }],
        },
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] },
      },
      schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { operator: 'Exists' }],
      hostAliases: [{ ip: '10.0.0.1', hostnames: ['db'] }],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }],
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-03-04T05:07:00Z' }],
      hostIP: '172.18.0.3',
      podIP: '10.244.1.5',
      podIPs: [{ ip: '10.244.1.5' }],
      startTime: '2025-03-04T05:06:08Z',
      qosClass: 'Burstable',
    },
  };

  const others: Array<Record<string, unknown> & { apiVersion: string; kind: string }> = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', creationTimestamp: null, annotations: { 'deployment.kubernetes.io/revision': '2' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] },
        template: { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', resources: {} }] } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
        minReadySeconds: 5,
        revisionHistoryLimit: 10,
        paused: true,
        progressDeadlineSeconds: 600,
      },
      status: {
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 2,
        availableReplicas: 2,
        unavailableReplicas: 1,
        conditions: [{ type: 'Available', status: 'False', lastUpdateTime: '2025-01-01T00:00:00Z', lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }],
        collisionCount: 0,
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-5d9', labels: { 'pod-template-hash': '5d9' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'web', image: 'nginx', resources: {} }] } } },
      status: { replicas: 0 },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'a', image: 'busybox', resources: {} }], tolerations: [{ operator: 'Exists' }] } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        revisionHistoryLimit: 10,
      },
      status: { currentNumberScheduled: 2, numberMisscheduled: 0, desiredNumberScheduled: 2, numberReady: 1 },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi' },
      spec: {
        parallelism: 0,
        completions: 1,
        activeDeadlineSeconds: 100,
        backoffLimit: 0,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'x' } },
        manualSelector: false,
        template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'pi', image: 'perl', resources: {} }], restartPolicy: 'Never' } },
        ttlSecondsAfterFinished: 0,
        completionMode: 'NonIndexed',
        suspend: false,
      },
      status: { conditions: [{ type: 'Complete', status: 'True', lastProbeTime: '2025-01-01T00:00:01Z', lastTransitionTime: '2025-01-01T00:00:01Z' }], startTime: '2025-01-01T00:00:00Z', succeeded: 1 },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '@hourly',
        timeZone: 'Etc/UTC',
        startingDeadlineSeconds: 0,
        concurrencyPolicy: 'Forbid',
        suspend: true,
        jobTemplate: { metadata: { creationTimestamp: null }, spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 't', image: 'busybox', resources: {} }], restartPolicy: 'OnFailure' } } } },
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
      },
      status: { active: [{ kind: 'Job', namespace: 'default', name: 'tick-1', uid: 'u', apiVersion: 'batch/v1', resourceVersion: '9' }], lastScheduleTime: '2025-01-01T01:00:00Z' },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, maxUnavailable: '50%', unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      status: {
        observedGeneration: 1,
        disruptedPods: { 'web-0': '2025-01-01T00:00:00Z' },
        disruptionsAllowed: 1,
        currentHealthy: 3,
        desiredHealthy: 2,
        expectedPods: 3,
        conditions: [{ type: 'DisruptionAllowed', status: 'True', observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'SufficientPods', message: '' }],
      },
    },
    { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-0', namespace: 'shop', creationTimestamp: null }, deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'u-1' }, propagationPolicy: 'Background', dryRun: ['All'] } },
    { apiVersion: 'policy/v1beta1', kind: 'Eviction', metadata: { name: 'web-0', namespace: 'shop' } },
    { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web-0', namespace: 'shop' }, target: { kind: 'Node', name: 'worker-1', apiVersion: 'v1' } },
    { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 5 }, status: { replicas: 3, selector: 'app=web' } },
    { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: {}, status: { replicas: 0 } },
    { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', orphanDependents: false },
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'kube-scheduler', namespace: 'kube-system' },
      spec: { holderIdentity: 'cp-1_abc', leaseDurationSeconds: 15, acquireTime: '2025-01-01T00:00:00.000000Z', renewTime: '2025-01-01T00:00:14.123456Z', leaseTransitions: 0 },
    },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'worker-1', labels: { 'kubernetes.io/hostname': 'worker-1' } },
      spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: '2025-01-01T00:00:00Z' }, { key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] },
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2025-01-01T00:00:00Z', lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'KubeletReady', message: 'ready' }],
        addresses: [{ type: 'InternalIP', address: '172.18.0.3' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: { machineID: '', systemUUID: '', bootID: '', kernelVersion: '6.1', osImage: 'Debian', containerRuntimeVersion: 'docker://27', kubeletVersion: 'v1.33.0', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
      },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bin' }, immutable: true, data: { a: '' }, binaryData: { blob: Buffer.from([0, 1, 2, 255]).toString('base64') } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, immutable: false, data: { empty: '' }, stringData: { user: 'admin' }, type: 'Opaque' },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web' }, secrets: [{ name: 'web-token' }], imagePullSecrets: [{ name: 'reg' }], automountServiceAccountToken: true },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        ports: [{ name: 'http', protocol: 'TCP', appProtocol: 'http', port: 80, targetPort: 'http', nodePort: 30080 }, { protocol: 'UDP', port: 53, targetPort: 0 }],
        selector: { app: 'web' },
        clusterIP: 'None',
        clusterIPs: ['None'],
        type: 'NodePort',
        sessionAffinity: 'ClientIP',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31000,
        publishNotReadyAddresses: true,
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: { ingress: [{ ip: '1.2.3.4', ports: [{ port: 80, protocol: 'TCP' }] }] } },
    },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web' },
      subsets: [{ addresses: [{ ip: '10.244.1.5', nodeName: 'worker-1', targetRef: { kind: 'Pod', namespace: 'shop', name: 'web-0', uid: 'u' } }], notReadyAddresses: [{ ip: '10.244.2.9' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }],
    },
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web-0.17f', namespace: 'shop' },
      involvedObject: { kind: 'Pod', namespace: 'shop', name: 'web-0', uid: 'u' },
      reason: 'Scheduled',
      message: 'Successfully assigned shop/web-0 to worker-1',
      source: { component: 'default-scheduler' },
      firstTimestamp: '2025-01-01T00:00:00Z',
      lastTimestamp: '2025-01-01T00:00:00Z',
      count: 1,
      type: 'Normal',
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone', deletionTimestamp: '2025-01-01T00:00:00Z' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating', conditions: [{ type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'ContentDeleted' }] } },
  ];

  it.each([pod, ...others].map((o) => [`${o.apiVersion} ${o.kind}`, o] as const))('%s', (_label, object) => {
    const decoded = decodeKubeProtobuf(encodeKubeProtobuf(object));
    expect(decoded.object).toStrictEqual(object);
  });
});

describe('Go JSON presence rules', () => {
  const containerSchema = messageSchema('Container')!;
  const decodeContainer = (bytes: Buffer) => decodeKubeProtobuf(envelope('v1', 'Pod', lengthDelimited(2, lengthDelimited(2, bytes)))).object as {
    spec: { containers: Array<Record<string, unknown>> };
  };

  it('drops zero value fields with omitempty, keeps zero pointers, fills absent non-omitempty fields', () => {
    const bytes = Buffer.concat([
      // name (no omitempty) is absent: it must come out as "".
      lengthDelimited(2, Buffer.from('')), // image "" (omitempty) → dropped
      tag(16, 0), varint(0n), // stdin false (omitempty) → dropped
      lengthDelimited(24, Buffer.from('')), // restartPolicy *string "" → kept
      lengthDelimited(6, Buffer.concat([tag(2, 0), varint(0n)])), // ports[0]: hostPort 0 dropped, containerPort absent → 0
    ]);
    expect(decodeContainer(bytes).spec.containers[0]).toStrictEqual({ name: '', ports: [{ containerPort: 0 }], restartPolicy: '' });
    expect(containerSchema.fields[0]!.jsonName).toBe('name');
  });

  it('skips fields it does not know, at any depth', () => {
    const unknownField = Buffer.concat([tag(99, 0), varint(7n), lengthDelimited(98, Buffer.from('x')), tag(97, 5), Buffer.alloc(4), tag(96, 1), Buffer.alloc(8)]);
    const container = Buffer.concat([lengthDelimited(1, Buffer.from('c')), unknownField, lengthDelimited(2, Buffer.from('img'))]);
    expect(decodeContainer(container).spec.containers[0]).toStrictEqual({ name: 'c', image: 'img' });
  });

  it('reads packed and unpacked repeated numbers alike', () => {
    const packed = lengthDelimited(4, Buffer.concat([varint(1n), varint(300n)]));
    const unpacked = Buffer.concat([tag(4, 0), varint(1n), tag(4, 0), varint(300n)]);
    for (const groups of [packed, unpacked]) {
      const pod = decodeKubeProtobuf(envelope('v1', 'Pod', lengthDelimited(2, lengthDelimited(14, groups)))).object as { spec: { securityContext: unknown } };
      expect(pod.spec.securityContext).toStrictEqual({ supplementalGroups: [1, 300] });
    }
  });

  it('prints times as RFC 3339: whole seconds for Time, microseconds for MicroTime, null for zero', () => {
    const leaseSpec = Buffer.concat([
      lengthDelimited(3, Buffer.concat([tag(1, 0), varint(1735689600n), tag(2, 0), varint(123456789n)])),
      lengthDelimited(4, Buffer.alloc(0)),
    ]);
    const meta = lengthDelimited(8, Buffer.concat([tag(1, 0), varint(1735689600n), tag(2, 0), varint(999n)]));
    const lease = decodeKubeProtobuf(envelope('coordination.k8s.io/v1', 'Lease', Buffer.concat([lengthDelimited(1, meta), lengthDelimited(2, leaseSpec)]))).object;
    expect(lease).toStrictEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: { acquireTime: '2025-01-01T00:00:00.123456Z', renewTime: null },
    });
  });

  it('reads IntOrString, Quantity and bytes as Go prints them', () => {
    const port = (intOrString: Buffer) => lengthDelimited(1, Buffer.concat([tag(3, 0), varint(80n), lengthDelimited(4, intOrString)]));
    const svc = decodeKubeProtobuf(envelope('v1', 'Service', lengthDelimited(2, Buffer.concat([
      port(Buffer.concat([tag(1, 0), varint(1n), lengthDelimited(3, Buffer.from('web'))])),
      port(Buffer.concat([tag(2, 0), varint(8080n)])),
      port(Buffer.alloc(0)),
    ])))).object as { spec: { ports: unknown[] } };
    expect(svc.spec.ports).toStrictEqual([{ port: 80, targetPort: 'web' }, { port: 80, targetPort: 8080 }, { port: 80, targetPort: 0 }]);

    const quantity = (text: string) => lengthDelimited(1, Buffer.concat([lengthDelimited(1, Buffer.from('cpu')), lengthDelimited(2, lengthDelimited(1, Buffer.from(text)))]));
    const resources = messageSchema('ResourceRequirements')!;
    expect(resources.fields.map((f) => f.jsonName)).toEqual(['limits', 'requests', 'claims']);
    const container = Buffer.concat([lengthDelimited(1, Buffer.from('c')), lengthDelimited(8, Buffer.concat([quantity('250m'), lengthDelimited(2, lengthDelimited(1, Buffer.from('memory')))]))]);
    expect(decodeContainer(container).spec.containers[0]).toStrictEqual({ name: 'c', resources: { limits: { cpu: '250m' }, requests: { memory: '0' } } });

    const secret = decodeKubeProtobuf(envelope('v1', 'Secret', lengthDelimited(2, Buffer.concat([lengthDelimited(1, Buffer.from('k')), lengthDelimited(2, Buffer.from([0xff, 0x00]))])))).object;
    expect(secret).toStrictEqual({ apiVersion: 'v1', kind: 'Secret', data: { k: '/wA=' } });
  });

  it('reads the encoder of a message field by field (encoder sanity)', () => {
    const bytes = encodeMessage(messageSchema('LabelSelectorRequirement')!, { key: 'a', operator: 'In', values: ['x'] });
    expect([...bytes]).toEqual([0x0a, 1, 0x61, 0x12, 2, 0x49, 0x6e, 0x1a, 1, 0x78]);
  });
});

describe('errors', () => {
  it('415 for a kind the server cannot read as protobuf, naming it', () => {
    const s = statusOf(() => decodeKubeProtobuf(envelope('v1', 'PersistentVolume', Buffer.alloc(0))));
    expect(s).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    expect(s.message).toContain('v1 PersistentVolume');
    expect(s.message).toContain('application/json');
    expect(statusOf(() => decodeKubeProtobuf(envelope('apps/v1beta2', 'Deployment', Buffer.alloc(0)))).code).toBe(415);
  });

  it('400 for bodies that are not Kubernetes protobuf', () => {
    expect(statusOf(() => decodeKubeProtobuf(Buffer.from('{"kind":"Pod"}')))).toMatchObject({ code: 400, reason: 'BadRequest' });
    const good = encodeKubeProtobuf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
    expect(statusOf(() => decodeKubeProtobuf(good.subarray(0, good.length - 6)))).toMatchObject({ code: 400 });
    expect(statusOf(() => decodeKubeProtobuf(envelope('', '', Buffer.alloc(0))))).toMatchObject({ code: 400, message: expect.stringContaining('Kind') });
    // A string where an int32 belongs.
    const wrongType = envelope('apps/v1', 'Deployment', lengthDelimited(2, lengthDelimited(1, Buffer.from('3'))));
    expect(statusOf(() => decodeKubeProtobuf(wrongType)).message).toContain('DeploymentSpec.replicas');
  });
});

describe('over HTTP, in-process API server', () => {
  it('creates from protobuf bodies and answers 415 for kinds it cannot read', async () => {
    // Imported here so that the decoder tests above run even while the server cannot load.
    const { startTestServer, request } = await import('./apiserver-helpers.js');
    const server = await startTestServer();
    try {
      const post = (path: string, body: Buffer) =>
        new Promise<{ status: number; json: { kind?: string; reason?: string; metadata?: { name?: string }; data?: unknown } }>((resolve, reject) => {
          const req = httpRequest(new URL(path, server.url), { method: 'POST', headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/json' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
          });
          req.on('error', reject);
          req.end(body);
        });
      const created = await post('/api/v1/namespaces/default/configmaps', readFileSync(`${FIXTURES}configmap.bin`));
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
      expect((await request(server.url, 'GET', '/api/v1/namespaces/default/configmaps/c')).json.data).toEqual({ a: 'b' });
      const refused = await post('/api/v1/namespaces/default/configmaps', envelope('v1', 'PersistentVolume', Buffer.alloc(0)));
      expect(refused.status).toBe(415);
      expect(refused.json.reason).toBe('UnsupportedMediaType');
    } finally {
      await server.close();
    }
  });
});
