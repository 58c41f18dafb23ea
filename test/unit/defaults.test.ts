import { describe, expect, it } from 'vitest';
import { applyDefaults, imageTag } from '../../src/node/controlplane/apiserver/defaults.js';
import type { KubeObject } from '../../src/node/controlplane/apiserver/strategy.js';

/** Defaults applied to a copy, as the registry does before storing. */
function defaulted(kind: string, obj: Omit<KubeObject, 'metadata'> & { metadata?: KubeObject['metadata'] }): KubeObject {
  const copy = structuredClone({ metadata: { name: 'x', namespace: 'default' }, ...obj }) as KubeObject;
  applyDefaults(kind, copy);
  return copy;
}

const CONTAINER_DEFAULTS = {
  imagePullPolicy: 'IfNotPresent',
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  resources: {},
};

const TEMPLATE_SPEC_DEFAULTS = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
  schedulerName: 'default-scheduler',
};

const DEFAULT_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

describe('Pod defaults', () => {
  it('fill the spec as a real cluster shows it', () => {
    const pod = defaulted('Pod', { spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] } });
    expect(pod.spec).toEqual({
      containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], ...CONTAINER_DEFAULTS }],
      ...TEMPLATE_SPEC_DEFAULTS,
      enableServiceLinks: true,
      serviceAccountName: 'default',
      serviceAccount: 'default',
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      tolerations: DEFAULT_TOLERATIONS,
    });
  });

  it('never overrides what the client set', () => {
    const spec = {
      containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'Never', terminationMessagePolicy: 'FallbackToLogsOnError', resources: { requests: { cpu: '100m' } } }],
      restartPolicy: 'OnFailure',
      dnsPolicy: 'Default',
      terminationGracePeriodSeconds: 5,
      schedulerName: 'other',
      enableServiceLinks: false,
      serviceAccountName: 'robot',
      securityContext: { runAsUser: 1000 },
    };
    const pod = defaulted('Pod', { spec });
    expect(pod.spec).toMatchObject({ ...spec, serviceAccount: 'robot' });
  });

  it('copies the deprecated serviceAccount into serviceAccountName', () => {
    const pod = defaulted('Pod', { spec: { serviceAccount: 'legacy', containers: [{ name: 'c', image: 'i' }] } });
    expect(pod.spec).toMatchObject({ serviceAccountName: 'legacy', serviceAccount: 'legacy' });
  });

  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'IfNotPresent'],
    ['nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'IfNotPresent'],
    ['registry.local:5000/team/app', 'Always'],
    ['registry.local:5000/team/app:v2', 'IfNotPresent'],
    ['localhost/app', 'Always'],
    ['', 'IfNotPresent'],
  ])('imagePullPolicy for %j is %s', (image, policy) => {
    const pod = defaulted('Pod', { spec: { containers: [{ name: 'c', image }] } });
    expect((pod.spec as { containers: Array<{ imagePullPolicy: string }> }).containers[0]!.imagePullPolicy).toBe(policy);
  });

  it('reads image tags as the reference parser does', () => {
    expect(imageTag('busybox:1.36')).toBe('1.36');
    expect(imageTag('host:5000/busybox')).toBe('latest');
    expect(imageTag('Busybox')).toBe(''); // not a valid reference
  });

  it('copies limits into missing requests on Pods, with canonical quantities', () => {
    const pod = defaulted('Pod', {
      spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: 0.5, memory: '1024Mi' }, requests: { cpu: '0.25' } } }] },
    });
    expect((pod.spec as { containers: Array<{ resources: unknown }> }).containers[0]!.resources).toEqual({
      limits: { cpu: '500m', memory: '1Gi' },
      requests: { cpu: '250m', memory: '1Gi' },
    });
  });

  it('leaves an invalid quantity for validation to report', () => {
    const pod = defaulted('Pod', { spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: 'lots' } } }] } });
    expect((pod.spec as { containers: Array<{ resources: { limits: unknown } }> }).containers[0]!.resources.limits).toEqual({ cpu: 'lots' });
  });

  it('defaults probes and their handlers', () => {
    const pod = defaulted('Pod', {
      spec: {
        containers: [
          {
            name: 'c',
            image: 'i',
            livenessProbe: { httpGet: { port: 8080 }, periodSeconds: 5 },
            readinessProbe: { grpc: { port: 9000 } },
            lifecycle: { preStop: { httpGet: { port: 80, path: '/quit' } } },
          },
        ],
      },
    });
    const container = (pod.spec as { containers: Array<Record<string, unknown>> }).containers[0]!;
    expect(container.livenessProbe).toEqual({
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      periodSeconds: 5,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(container.readinessProbe).toMatchObject({ grpc: { port: 9000, service: '' }, timeoutSeconds: 1 });
    expect(container.lifecycle).toEqual({ preStop: { httpGet: { port: 80, path: '/quit', scheme: 'HTTP' } } });
  });

  it('adds only the default tolerations a pod lacks', () => {
    const own = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 };
    const pod = defaulted('Pod', { spec: { containers: [{ name: 'c', image: 'i' }], tolerations: [own] } });
    expect((pod.spec as { tolerations: unknown[] }).tolerations).toEqual([own, DEFAULT_TOLERATIONS[1]]);
    const tolerateAll = defaulted('Pod', { spec: { containers: [{ name: 'c', image: 'i' }], tolerations: [{ operator: 'Exists' }] } });
    expect((tolerateAll.spec as { tolerations: unknown[] }).tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('uses the toleration length the cluster is configured with (labs shorten it)', () => {
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    applyDefaults('Pod', pod, { defaultTolerationSeconds: 20 });
    expect((pod.spec as { tolerations: { tolerationSeconds: number }[] }).tolerations.map((t) => t.tolerationSeconds)).toEqual([20, 20]);
  });

  it('resolves the built-in priority classes only', () => {
    const critical = defaulted('Pod', { spec: { priorityClassName: 'system-node-critical', containers: [{ name: 'c', image: 'i' }] } });
    expect((critical.spec as { priority: number }).priority).toBe(2000001000);
    const custom = defaulted('Pod', { spec: { priorityClassName: 'batch-low', containers: [{ name: 'c', image: 'i' }] } });
    expect((custom.spec as { priority?: number }).priority).toBeUndefined();
  });

  it('defaults volumes and env references', () => {
    const pod = defaulted('Pod', {
      spec: {
        containers: [{ name: 'c', image: 'i', env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] }],
        volumes: [{ name: 'scratch' }, { name: 'creds', secret: { secretName: 's' } }, { name: 'host', hostPath: { path: '/var/log' } }, { name: 'cfg', configMap: { name: 'c', defaultMode: 0o400 } }],
      },
    });
    const spec = pod.spec as { volumes: unknown[]; containers: Array<{ env: unknown[] }> };
    expect(spec.volumes).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 'creds', secret: { secretName: 's', defaultMode: 420 } },
      { name: 'host', hostPath: { path: '/var/log', type: '' } },
      { name: 'cfg', configMap: { name: 'c', defaultMode: 0o400 } },
    ]);
    expect(spec.containers[0]!.env).toEqual([{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName', apiVersion: 'v1' } } }]);
  });

  it('gives host-network pods host ports', () => {
    const pod = defaulted('Pod', { spec: { hostNetwork: true, containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 9100 }] }] } });
    expect((pod.spec as { containers: Array<{ ports: unknown[] }> }).containers[0]!.ports).toEqual([{ containerPort: 9100, protocol: 'TCP', hostPort: 9100 }]);
  });

  it('is idempotent', () => {
    const once = defaulted('Pod', { spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1' } } }] } });
    const twice = structuredClone(once);
    applyDefaults('Pod', twice);
    expect(twice).toEqual(once);
  });
});

describe('workload defaults', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } };
  const defaultedTemplate = {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx:1.25', ...CONTAINER_DEFAULTS }], ...TEMPLATE_SPEC_DEFAULTS },
  };

  it('Deployment: replicas, strategy 25%/25%, history, deadline, and a template without pod-only defaults', () => {
    const deployment = defaulted('Deployment', { spec: { selector: { matchLabels: { app: 'web' } }, template } });
    expect(deployment.spec).toEqual({
      selector: { matchLabels: { app: 'web' } },
      template: defaultedTemplate,
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
  });

  it('Deployment: Recreate gets no rollingUpdate, set values stay', () => {
    const deployment = defaulted('Deployment', { spec: { replicas: 0, strategy: { type: 'Recreate' }, revisionHistoryLimit: 2, template } });
    expect(deployment.spec).toMatchObject({ replicas: 0, strategy: { type: 'Recreate' }, revisionHistoryLimit: 2 });
    expect((deployment.spec as { strategy: object }).strategy).not.toHaveProperty('rollingUpdate');
  });

  it('templates lose the null creationTimestamp kubectl sends', () => {
    const deployment = defaulted('Deployment', { spec: { template: { ...template, metadata: { creationTimestamp: null, labels: { app: 'web' } } } } });
    expect((deployment.spec as { template: { metadata: object } }).template.metadata).toEqual({ labels: { app: 'web' } });
  });

  it('ReplicaSet: one replica', () => {
    expect(defaulted('ReplicaSet', { spec: { template } }).spec).toMatchObject({ replicas: 1, template: defaultedTemplate });
  });

  it('DaemonSet: rolling update of one at a time, no surge', () => {
    expect(defaulted('DaemonSet', { spec: { template } }).spec).toEqual({
      template: defaultedTemplate,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    });
  });

  it('Job: completions and parallelism 1 when both unset, back-off limit, mode, suspend; labels from the template', () => {
    const job = defaulted('Job', { spec: { template } });
    expect(job.spec).toEqual({
      template: defaultedTemplate,
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
    });
    expect(job.metadata.labels).toEqual({ app: 'web' });
    expect(job.spec).not.toHaveProperty('manualSelector');
    expect(job.spec).not.toHaveProperty('selector');
  });

  it('Job: parallelism alone leaves completions unset', () => {
    const job = defaulted('Job', { metadata: { name: 'j', labels: { own: 'yes' } }, spec: { parallelism: 3, template } });
    expect(job.spec).toMatchObject({ parallelism: 3 });
    expect(job.spec).not.toHaveProperty('completions');
    expect(job.metadata.labels).toEqual({ own: 'yes' });
  });

  it('CronJob: policy and history limits; the job template gets pod defaults only', () => {
    const cron = defaulted('CronJob', { spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } } });
    expect(cron.spec).toEqual({
      schedule: '*/5 * * * *',
      jobTemplate: { spec: { template: defaultedTemplate } },
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
  });
});

describe('Service defaults', () => {
  it('ClusterIP with protocol, target port, affinity and address families', () => {
    const svc = defaulted('Service', { spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }] } });
    expect(svc.spec).toEqual({
      selector: { app: 'web' },
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
      ],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
  });

  it('NodePort and LoadBalancer add the external policies', () => {
    expect(defaulted('Service', { spec: { type: 'NodePort', ports: [{ port: 80 }] } }).spec).toMatchObject({ externalTrafficPolicy: 'Cluster' });
    expect(defaulted('Service', { spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }).spec).toMatchObject({
      externalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
    });
  });

  it('keeps clusterIP and clusterIPs in step', () => {
    expect(defaulted('Service', { spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] } }).spec).toMatchObject({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'] });
    expect(defaulted('Service', { spec: { clusterIPs: ['10.96.0.11'], ports: [{ port: 53 }] } }).spec).toMatchObject({ clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'] });
  });

  it('a headless Service without selector asks for every family', () => {
    expect(defaulted('Service', { spec: { clusterIP: 'None' } }).spec).toMatchObject({ clusterIPs: ['None'], ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4'] });
    expect(defaulted('Service', { spec: { clusterIP: 'None', selector: { a: 'b' } } }).spec).toMatchObject({ ipFamilyPolicy: 'SingleStack' });
  });

  it('ExternalName gets no addresses or traffic policies', () => {
    expect(defaulted('Service', { spec: { type: 'ExternalName', externalName: 'example.com' } }).spec).toEqual({
      type: 'ExternalName',
      externalName: 'example.com',
      sessionAffinity: 'None',
    });
  });

  it('ClientIP affinity gets its three-hour timeout', () => {
    expect(defaulted('Service', { spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } }).spec).toMatchObject({
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    });
  });
});

describe('other kinds', () => {
  it('Secret: Opaque, stringData merged into data', () => {
    const secret = defaulted('Secret', { data: { a: 'YQ==', b: 'Yg==' }, stringData: { b: 'bee', c: 'sea' } });
    expect(secret.type).toBe('Opaque');
    expect(secret.data).toEqual({ a: 'YQ==', b: Buffer.from('bee').toString('base64'), c: Buffer.from('sea').toString('base64') });
    expect(secret).not.toHaveProperty('stringData');
    expect(defaulted('Secret', { type: 'kubernetes.io/tls' }).type).toBe('kubernetes.io/tls');
  });

  it('Namespace: the metadata.name label and the kubernetes finalizer', () => {
    const ns = defaulted('Namespace', { metadata: { name: 'team-a', labels: { env: 'dev' } } });
    expect(ns.metadata.labels).toEqual({ env: 'dev', 'kubernetes.io/metadata.name': 'team-a' });
    expect(ns.spec).toEqual({ finalizers: ['kubernetes'] });
  });

  it('Node: allocatable from capacity, quantities canonical', () => {
    const node = defaulted('Node', { metadata: { name: 'n1' }, status: { capacity: { cpu: 4, memory: '8388608Ki', pods: '110' } } });
    expect(node.status).toEqual({ capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } });
  });

  it('Endpoints: port protocol', () => {
    const ep = defaulted('Endpoints', { subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] });
    expect(ep.subsets).toEqual([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
  });

  it('kinds without defaults are left alone', () => {
    const cm = { metadata: { name: 'x', namespace: 'default' }, data: { a: '1' } };
    expect(defaulted('ConfigMap', cm)).toEqual(cm);
    expect(defaulted('Lease', { spec: { holderIdentity: 'me' } })).toEqual({ metadata: { name: 'x', namespace: 'default' }, spec: { holderIdentity: 'me' } });
  });
});
