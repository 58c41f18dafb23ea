import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../src/node/controlplane/apiserver/defaults.js';
import type { FieldCause } from '../../src/node/controlplane/apiserver/status.js';
import type { KubeObject } from '../../src/node/controlplane/apiserver/strategy.js';
import { validateObject } from '../../src/node/controlplane/apiserver/validation.js';
import { cronScheduleProblem } from '../../src/node/controlplane/apiserver/validation-workloads.js';

type Body = Record<string, unknown> & { metadata?: KubeObject['metadata'] };

/** The object as the registry validates it: named, namespaced, defaulted. */
function prepared(kind: string, body: Body): KubeObject {
  const obj = structuredClone({ ...body, metadata: { name: 'x', namespace: 'default', uid: 'u-1', ...body.metadata } }) as KubeObject;
  applyDefaults(kind, obj);
  return obj;
}

function causes(kind: string, body: Body, old?: Body): FieldCause[] {
  return validateObject(kind, prepared(kind, body), old && prepared(kind, old));
}

/** Each cause as kubectl prints it: `field: message`. */
function problems(kind: string, body: Body, old?: Body): string[] {
  return causes(kind, body, old).map((c) => `${c.field}: ${c.message}`);
}

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const UPDATE_PREFIX =
  'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n';

const container = (extra: Record<string, unknown> = {}) => ({ name: 'web', image: 'nginx:1.25', ...extra });
const pod = (spec: Record<string, unknown> = {}, metadata: Body['metadata'] = {}): Body => ({ metadata, spec: { containers: [container()], ...spec } });
const template = (spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'web' }) => ({ metadata: { labels }, spec: { containers: [container()], ...spec } });
const deployment = (spec: Record<string, unknown> = {}): Body => ({ spec: { selector: { matchLabels: { app: 'web' } }, template: template(), ...spec } });
const job = (spec: Record<string, unknown> = {}): Body => ({ spec: { template: template({ restartPolicy: 'Never' }), ...spec } });
const cronJob = (spec: Record<string, unknown> = {}): Body => ({ spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: template({ restartPolicy: 'OnFailure' }) } }, ...spec } });
const service = (spec: Record<string, unknown> = {}): Body => ({ spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec } });

describe('valid objects of every kind pass', () => {
  it.each<[string, Body]>([
    ['Pod', pod({ volumes: [{ name: 'data' }], initContainers: [container({ name: 'init' })] })],
    ['Pod', pod({ containers: [container({ ports: [{ name: 'http', containerPort: 80 }], livenessProbe: { tcpSocket: { port: 'http' } }, volumeMounts: [{ name: 'data', mountPath: '/data' }] })], volumes: [{ name: 'data', emptyDir: {} }] })],
    ['Deployment', deployment()],
    ['ReplicaSet', deployment()],
    ['DaemonSet', deployment()],
    ['Job', job()],
    ['CronJob', cronJob()],
    ['Service', service()],
    ['Service', service({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })],
    ['Service', service({ type: 'LoadBalancer' })],
    ['Service', service({ clusterIP: 'None', ports: [] })],
    ['Service', { spec: { type: 'ExternalName', externalName: 'db.example.com.' } }],
    ['Service', service({ ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP' }] })],
    ['ConfigMap', { data: { 'app.properties': 'a=1', KEY_1: 'x' }, binaryData: { blob: 'AAEC' } }],
    ['Secret', { data: { password: 'aHVudGVyMg==' } }],
    ['Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } }],
    ['Namespace', { metadata: { name: 'team-a' } }],
    ['Node', { metadata: { name: 'node-1' }, spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }, status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' } } }],
    ['Endpoints', { subsets: [{ addresses: [{ ip: '10.244.1.5', nodeName: 'node-1' }], ports: [{ port: 80 }] }] }],
    ['Event', { metadata: { name: 'web.17a3b5c6d7e8f9a0' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'Scheduled', message: 'ok', type: 'Normal' }],
    ['Lease', { spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } }],
    ['PodDisruptionBudget', { spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } } }],
    ['ServiceAccount', {}],
  ])('%s', (kind, body) => {
    expect(problems(kind, body)).toEqual([]);
  });

  it('unknown kinds have no rules', () => {
    expect(validateObject('Widget', { metadata: { name: 'Not Valid At All' } })).toEqual([]);
  });
});

describe('metadata', () => {
  it('names are DNS subdomains for most kinds', () => {
    expect(problems('ConfigMap', { metadata: { name: 'Foo_Bar' } })).toEqual([`metadata.name: Invalid value: "Foo_Bar": ${SUBDOMAIN_MSG}`]);
    expect(causes('ConfigMap', { metadata: { name: 'Foo_Bar' } })[0]?.type).toBe('FieldValueInvalid');
    expect(problems('Pod', pod({}, { name: 'a'.repeat(254) }))).toEqual(['metadata.name: Invalid value: "' + 'a'.repeat(254) + '": must be no more than 253 characters']);
  });

  it('Namespaces are DNS labels, Services DNS-1035 labels', () => {
    expect(problems('Namespace', { metadata: { name: 'team.a' } })).toEqual(['metadata.name: Invalid value: "team.a": must not contain dots']);
    expect(problems('Namespace', { metadata: { name: 'Team' } })).toEqual([`metadata.name: Invalid value: "Team": ${LABEL_MSG}`]);
    expect(problems('Service', { ...service(), metadata: { name: '1web' } })).toEqual([
      "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it('a name is required; generateName is checked as a prefix', () => {
    expect(problems('ConfigMap', { metadata: { name: '' } })).toEqual(['metadata.name: Required value: name or generateName is required']);
    expect(causes('ConfigMap', { metadata: { name: '' } })[0]?.type).toBe('FieldValueRequired');
    expect(problems('ConfigMap', { metadata: { generateName: 'web-', name: 'web-x7k2p' } })).toEqual([]);
    expect(problems('ConfigMap', { metadata: { generateName: 'Web-', name: 'web-x7k2p' } })).toEqual([`metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN_MSG}`]);
  });

  it('Events only need a name that fits in a URL path', () => {
    const event = (name: string): Body => ({ metadata: { name }, involvedObject: { kind: 'Node', name: 'n1' } });
    expect(problems('Event', event('Node.Upper_Case'))).toEqual([]);
    expect(problems('Event', event('a/b'))).toEqual(["metadata.name: Invalid value: \"a/b\": may not contain '/'"]);
    expect(problems('Event', event('..'))).toEqual(["metadata.name: Invalid value: \"..\": may not be '..'"]);
  });

  it('labels: qualified keys and label values', () => {
    expect(problems('ConfigMap', { metadata: { labels: { 'bad key': 'ok', app: 'bad value', 'example.com/tier': 'front' } } })).toEqual([
      "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    expect(problems('ConfigMap', { metadata: { labels: { '/x': 'y' } } })).toEqual(['metadata.labels: Invalid value: "/x": prefix part must be non-empty']);
  });

  it('annotations may total 256 KiB', () => {
    expect(problems('ConfigMap', { metadata: { annotations: { big: 'x'.repeat(256 * 1024) } } })).toEqual(['metadata.annotations: Too long: may not be more than 262144 bytes']);
    expect(causes('ConfigMap', { metadata: { annotations: { big: 'x'.repeat(256 * 1024) } } })[0]?.type).toBe('FieldValueTooLong');
    expect(problems('ConfigMap', { metadata: { annotations: { big: 'x'.repeat(1000) } } })).toEqual([]);
  });

  it('finalizers are standard or qualified', () => {
    expect(problems('ConfigMap', { metadata: { finalizers: ['example.com/hold', 'foregroundDeletion', 'hold'] } })).toEqual([
      'metadata.finalizers[2]: Invalid value: "hold": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });

  it('the uid may not change, and a deleting object takes no new finalizers', () => {
    expect(problems('ConfigMap', { metadata: { uid: 'other' } }, {})).toEqual(['metadata.uid: Invalid value: "other": field is immutable']);
    const deleting = { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['a.io/x'] } };
    expect(problems('ConfigMap', { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['a.io/x', 'b.io/y'] } }, deleting)).toEqual([
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}',
    ]);
  });
});

describe('Pod', () => {
  it('needs containers', () => {
    expect(problems('Pod', pod({ containers: [] }))).toEqual(['spec.containers: Required value']);
  });

  it('container names are unique DNS labels, images required', () => {
    expect(problems('Pod', pod({ containers: [container(), container({ image: 'busybox' }), container({ name: 'Side_Car', image: '' })] }))).toEqual([
      'spec.containers[1].name: Duplicate value: "web"',
      `spec.containers[2].name: Invalid value: "Side_Car": ${LABEL_MSG}`,
      'spec.containers[2].image: Required value',
    ]);
    expect(causes('Pod', pod({ containers: [container(), container()] })).map((c) => c.type)).toEqual(['FieldValueDuplicate']);
  });

  it('init container names may not repeat regular ones', () => {
    expect(problems('Pod', pod({ initContainers: [container()] }))).toEqual(['spec.initContainers[0].name: Duplicate value: "web"']);
  });

  it('ports: range and protocol', () => {
    expect(problems('Pod', pod({ containers: [container({ ports: [{ containerPort: 70000 }, { containerPort: 80, protocol: 'HTTP' }, {}] })] }))).toEqual([
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].ports[2].containerPort: Required value',
    ]);
  });

  it('restartPolicy is one of three', () => {
    expect(problems('Pod', pod({ restartPolicy: 'Sometimes' }))).toEqual(['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']);
    expect(causes('Pod', pod({ restartPolicy: 'Sometimes' }))[0]?.type).toBe('FieldValueNotSupported');
  });

  it('resources: valid quantities, requests within limits', () => {
    expect(problems('Pod', pod({ containers: [container({ resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } })] }))).toEqual([
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ]);
    expect(problems('Pod', pod({ containers: [container({ resources: { requests: { memory: '2Gi' }, limits: { memory: '2048Mi' } } })] }))).toEqual([]);
    expect(problems('Pod', pod({ containers: [container({ resources: { requests: { memory: 'lots' } } })] }))).toEqual([
      "spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ]);
    expect(problems('Pod', pod({ containers: [container({ resources: { requests: { cpu: '-1' } } })] }))).toEqual([
      'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
    expect(problems('Pod', pod({ containers: [container({ resources: { limits: { gpu: '1' } } })] }))).toEqual([
      'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
      'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ]);
  });

  it('extended resources are whole, not overcommitted, and need limits', () => {
    expect(problems('Pod', pod({ containers: [container({ resources: { requests: { 'example.com/gpu': '1' } } })] }))).toEqual([
      'spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources',
    ]);
    expect(problems('Pod', pod({ containers: [container({ resources: { requests: { 'example.com/gpu': '1' }, limits: { 'example.com/gpu': '2' } } })] }))).toEqual([
      'spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2',
    ]);
    expect(problems('Pod', pod({ containers: [container({ resources: { limits: { 'example.com/gpu': '0.5' } } })] }))).toEqual([
      'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: 500m: must be an integer',
      'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: 500m: must be an integer',
    ]);
  });

  it('env: names and sources', () => {
    expect(
      problems('Pod', pod({ containers: [container({ env: [{ name: '' }, { name: 'A=B' }, { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }, { name: 'X', valueFrom: {} }] })] })),
    ).toEqual([
      'spec.containers[0].env[0].name: Required value',
      "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
      'spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
      'spec.containers[0].env[3].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
    ]);
    expect(problems('Pod', pod({ containers: [container({ env: [{ name: '1_RELAXED.name-ok', valueFrom: { secretKeyRef: { name: 'creds', key: 'pw' } } }] })] }))).toEqual([]);
  });

  it('volumes: unique names, mounts of existing volumes', () => {
    expect(
      problems('Pod', pod({ containers: [container({ volumeMounts: [{ name: 'logs', mountPath: '/logs' }, { name: 'data', mountPath: '/logs' }] })], volumes: [{ name: 'data' }, { name: 'data' }] })),
    ).toEqual([
      'spec.volumes[1].name: Duplicate value: "data"',
      'spec.containers[0].volumeMounts[0].name: Not found: "logs"',
      'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/logs": must be unique',
    ]);
    expect(causes('Pod', pod({ containers: [container({ volumeMounts: [{ name: 'logs', mountPath: '/logs' }] })] }))[0]?.type).toBe('FieldValueNotFound');
    expect(problems('Pod', pod({ volumes: [{ name: 'both', emptyDir: {}, hostPath: { path: '/x' } }, { name: 'cfg', configMap: {} }] }))).toEqual([
      'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
      'spec.volumes[1].configMap.name: Required value',
    ]);
    // Checked in Kubernetes' order, with its misspelt path for downwardAPI.
    expect(problems('Pod', pod({ volumes: [{ name: 'info', downwardAPI: {}, secret: { secretName: 's' } }] }))).toEqual([
      'spec.volumes[0].downwarAPI: Forbidden: may not specify more than 1 volume type',
    ]);
  });

  it('scheduling fields: node selector, tolerations', () => {
    expect(problems('Pod', pod({ nodeSelector: { 'disk type': 'ssd' } }))).toEqual([
      "spec.nodeSelector: Invalid value: \"disk type\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    expect(problems('Pod', pod({ tolerations: [{ key: 'dedicated', operator: 'Maybe' }, { key: 'gpu', operator: 'Exists', effect: 'Sometimes' }, { operator: 'Equal', value: 'x' }] }))).toEqual([
      'spec.tolerations[0].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"',
      'spec.tolerations[1].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      'spec.tolerations[2].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
    ]);
  });

  it('probes: one handler, successThreshold 1 for liveness', () => {
    expect(
      problems('Pod', pod({ containers: [container({ livenessProbe: { periodSeconds: 5 }, startupProbe: { exec: { command: ['true'] }, successThreshold: 2 }, readinessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } })] })),
    ).toEqual([
      'spec.containers[0].livenessProbe: Required value: must specify a handler type',
      'spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type',
      'spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1',
    ]);
  });

  it('ephemeral containers cannot be set on create', () => {
    expect(problems('Pod', pod({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] }))).toEqual(['spec.ephemeralContainers: Forbidden: cannot be set on create']);
  });
});

describe('Pod updates', () => {
  const old = pod({ containers: [container({ ports: [{ containerPort: 80 }] })] });

  it('may change images and metadata', () => {
    expect(problems('Pod', { ...pod({ containers: [container({ image: 'nginx:1.26', ports: [{ containerPort: 80 }] })] }), metadata: { labels: { v: '2' } } }, old)).toEqual([]);
  });

  it('may not change anything else', () => {
    const found = causes('Pod', pod({ containers: [container({ ports: [{ containerPort: 8080 }] })] }), old);
    expect(found).toHaveLength(1);
    expect(found[0]?.type).toBe('FieldValueForbidden');
    expect(found[0]?.field).toBe('spec');
    expect(found[0]?.message.startsWith(UPDATE_PREFIX)).toBe(true);
    expect(found[0]?.message).toContain('- spec.containers[0].ports[0].containerPort: 80\n+ spec.containers[0].ports[0].containerPort: 8080');
  });

  it('may not add or remove containers', () => {
    expect(problems('Pod', pod({ containers: [container(), container({ name: 'side' })] }), pod())).toEqual(['spec.containers: Forbidden: pod updates may not add or remove containers']);
  });

  it('tolerations: additions only', () => {
    const tolerated = pod({ tolerations: [{ key: 'a', operator: 'Exists' }] });
    expect(problems('Pod', pod({ tolerations: [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists' }] }), tolerated)).toEqual([]);
    expect(problems('Pod', pod({ tolerations: [{ key: 'b', operator: 'Exists' }] }), tolerated)).toEqual([
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    ]);
  });

  it('activeDeadlineSeconds may only shrink', () => {
    const old100 = pod({ activeDeadlineSeconds: 100 });
    expect(problems('Pod', pod({ activeDeadlineSeconds: 50 }), old100)).toEqual([]);
    expect(problems('Pod', pod({ activeDeadlineSeconds: 200 }), old100)).toEqual(['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']);
  });
});

describe('Deployment, ReplicaSet, DaemonSet', () => {
  it('the selector is required and must match the template labels', () => {
    expect(problems('Deployment', deployment({ selector: undefined }))).toEqual([
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    expect(problems('ReplicaSet', deployment({ selector: { matchLabels: { app: 'api' } } }))).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    expect(problems('Deployment', deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] } }))).toEqual([]);
  });

  it('an empty selector is refused', () => {
    expect(problems('Deployment', deployment({ selector: {} }))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
    expect(problems('DaemonSet', deployment({ selector: {} }))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for daemonset',
    ]);
  });

  it('replicas are not negative; pods always restart', () => {
    expect(problems('Deployment', deployment({ replicas: -1, template: template({ restartPolicy: 'Never' }) }))).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });

  it('template containers are checked under spec.template.spec', () => {
    expect(problems('Deployment', deployment({ template: template({ containers: [container({ name: '' })] }) }))).toEqual(['spec.template.spec.containers[0].name: Required value']);
  });

  it('rolling updates: not both zero, valid percentages', () => {
    expect(problems('Deployment', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }))).toEqual([
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    ]);
    expect(problems('Deployment', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'lots', maxUnavailable: '150%' } } }))).toEqual([
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"lots\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
    ]);
    expect(problems('Deployment', deployment({ strategy: { type: 'BlueGreen' } }))).toEqual([
      'spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", "RollingUpdate"',
    ]);
    expect(problems('Deployment', deployment({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }))).toEqual([
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]);
    expect(problems('DaemonSet', deployment({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }))).toEqual([
      'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero',
    ]);
  });

  it('apps/v1 selectors are immutable', () => {
    const moved = deployment({ selector: { matchLabels: { app: 'web2' } }, template: template({}, { app: 'web2' }) });
    for (const kind of ['Deployment', 'ReplicaSet', 'DaemonSet']) {
      expect(problems(kind, moved, deployment())).toEqual([
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      ]);
    }
    expect(problems('Deployment', deployment({ replicas: 5, template: template({ containers: [container({ image: 'nginx:1.27' })] }) }), deployment())).toEqual([]);
  });
});

describe('Job', () => {
  it('pods restart OnFailure or Never', () => {
    expect(problems('Job', job({ template: template() }))).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
  });

  it('counts are not negative', () => {
    expect(problems('Job', job({ parallelism: -1, backoffLimit: -2 }))).toEqual([
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0',
    ]);
  });

  it('a manual selector must be given', () => {
    expect(problems('Job', job({ manualSelector: true }))).toEqual(['spec.selector: Required value']);
  });

  it('the template is immutable, except for the generated selector labels', () => {
    const changed = causes('Job', job({ template: template({ restartPolicy: 'Never', containers: [container({ image: 'busybox' })] }) }), job());
    expect(changed.map((c) => [c.type, c.field])).toEqual([['FieldValueInvalid', 'spec.template']]);
    expect(changed[0]?.message).toMatch(/^Invalid value: \{.*\}: field is immutable$/);
    const uid = 'u-1';
    const generated = job({
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: template({ restartPolicy: 'Never' }, { app: 'web', 'controller-uid': uid, 'batch.kubernetes.io/controller-uid': uid, 'job-name': 'x', 'batch.kubernetes.io/job-name': 'x' }),
    });
    expect(problems('Job', generated, job())).toEqual([]);
    expect(problems('Job', job({ selector: { matchLabels: { app: 'other' } } }), generated)).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      expect.stringMatching(/^spec\.template: Invalid value: .*: field is immutable$/),
    ]);
  });

  it('a suspended Job that never ran may change its scheduling', () => {
    const suspended = job({ suspend: true });
    expect(problems('Job', job({ suspend: true, template: template({ restartPolicy: 'Never', nodeSelector: { zone: 'a' } }) }), suspended)).toEqual([]);
  });
});

describe('CronJob', () => {
  it('needs a schedule', () => {
    expect(problems('CronJob', cronJob({ schedule: '' }))).toEqual(['spec.schedule: Required value']);
  });

  it.each([
    ['* * *', 'expected exactly 5 fields, found 3: [* * *]'],
    ['61 * * * *', 'end of range (61) above maximum (59): 61'],
    ['* 5-2 * * *', 'beginning of range (5) beyond end of range (2): 5-2'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['* * * * 1-2-3', 'too many hyphens: 1-2-3'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
  ])('refuses %j', (schedule, message) => {
    expect(problems('CronJob', cronJob({ schedule }))).toEqual([`spec.schedule: Invalid value: "${schedule}": ${message}`]);
  });

  it.each(['@hourly', '@daily', '0 9 * * mon-fri', '*/15 2-4 1,15 jan-mar ?', '@every 1h30m', '5 4 * * SUN'])('accepts %j', (schedule) => {
    expect(cronScheduleProblem(schedule)).toBeUndefined();
    expect(problems('CronJob', cronJob({ schedule }))).toEqual([]);
  });

  it('time zones belong in spec.timeZone', () => {
    expect(problems('CronJob', cronJob({ schedule: 'TZ=UTC 0 * * * *' }))).toEqual([
      'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
    expect(problems('CronJob', cronJob({ timeZone: 'Europe/Paris' }))).toEqual([]);
    expect(problems('CronJob', cronJob({ timeZone: 'Mars/Olympus' }))).toEqual(['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
  });

  it('names leave room for the job suffix; job template rules apply', () => {
    expect(problems('CronJob', { ...cronJob(), metadata: { name: 'c'.repeat(53) } })).toEqual([`metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`]);
    expect(problems('CronJob', cronJob({ concurrencyPolicy: 'Sometimes', jobTemplate: { spec: { template: template() } } }))).toEqual([
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
  });
});

describe('Service', () => {
  it('needs ports unless headless or ExternalName', () => {
    expect(problems('Service', service({ ports: [] }))).toEqual(['spec.ports: Required value']);
  });

  it('ports: names when several, unique, in range', () => {
    expect(problems('Service', service({ ports: [{ port: 80 }, { port: 443 }] }))).toEqual(['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
    expect(problems('Service', service({ ports: [{ name: 'web', port: 80 }, { name: 'web', port: 0 }] }))).toEqual([
      'spec.ports[1].name: Duplicate value: "web"',
      'spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      // The target port defaults to the port, so it is wrong too (as in Kubernetes).
      'spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
    expect(problems('Service', service({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }))).toEqual([
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]);
  });

  it('type is one of four', () => {
    expect(problems('Service', service({ type: 'Internal' }))).toEqual(['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']);
  });

  it('node ports: in range, not on ClusterIP services', () => {
    expect(problems('Service', service({ type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }))).toEqual([
      'spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
    expect(problems('Service', service({ ports: [{ port: 80, nodePort: 30080 }] }))).toEqual(["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
  });

  it('a type change from NodePort keeps what the allocation will drop', () => {
    const old = service({ type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] });
    const patched = service({ type: 'ClusterIP', clusterIP: '10.96.0.20', externalTrafficPolicy: 'Cluster', ports: [{ port: 80, nodePort: 30080 }] });
    expect(problems('Service', patched, old)).toEqual([]);
  });

  it('cluster IPs: valid, consistent, immutable once set', () => {
    expect(problems('Service', service({ clusterIP: 'abc' }))).toEqual(['spec.clusterIPs[0]: Invalid value: "abc": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
    expect(problems('Service', service({ clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.21'] }))).toEqual([
      'spec.clusterIPs: Invalid value: []string{"10.96.0.21"}: first value must match `clusterIP`',
    ]);
    const old = service({ clusterIP: '10.96.0.20' });
    expect(problems('Service', service({ clusterIP: '10.96.0.30' }), old)).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.30"}: may not change once set']);
    expect(problems('Service', service(), old)).toEqual([]);
    expect(problems('Service', service({ type: 'NodePort', clusterIP: 'None' }))).toEqual(["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]);
  });

  it('ExternalName needs a name and no addresses', () => {
    expect(problems('Service', { spec: { type: 'ExternalName' } })).toEqual(['spec.externalName: Required value']);
    expect(problems('Service', { spec: { type: 'ExternalName', externalName: 'x.example.com', clusterIP: '10.96.0.20' } })).toEqual([
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
    ]);
  });

  it('session affinity and traffic policies', () => {
    expect(problems('Service', service({ sessionAffinity: 'Sticky' }))).toEqual(['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"']);
    expect(problems('Service', service({ externalTrafficPolicy: 'Local' }))).toEqual([
      'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ]);
    expect(problems('Service', service({ type: 'NodePort', internalTrafficPolicy: 'Nearby' }))).toEqual([
      'spec.internalTrafficPolicy: Unsupported value: "Nearby": supported values: "Cluster", "Local"',
    ]);
  });
});

describe('ConfigMap and Secret', () => {
  it('keys are config keys', () => {
    expect(problems('ConfigMap', { data: { 'a b': '1', '..x': '2' } })).toEqual([
      "data[..x]: Invalid value: \"..x\": must not start with '..'",
      "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key_name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ]);
    expect(problems('ConfigMap', { data: { a: '1' }, binaryData: { a: 'AA==' } })).toEqual(['data[a]: Invalid value: "a": duplicate of key present in binaryData']);
  });

  it('values are strings; the whole object is at most 1 MiB', () => {
    expect(causes('ConfigMap', { data: { n: 5 } }).map((c) => [c.type, c.field])).toEqual([['FieldValueTypeInvalid', 'data[n]']]);
    expect(problems('ConfigMap', { data: { a: 'x'.repeat(600 * 1024), b: 'y'.repeat(600 * 1024) } })).toEqual(['[]: Too long: may not be more than 1048576 bytes']);
    expect(problems('Secret', { data: { a: Buffer.alloc(1024 * 1024 + 1).toString('base64') } })).toEqual(['data: Too long: may not be more than 1048576 bytes']);
  });

  it('immutable data stays', () => {
    const old = { immutable: true, data: { a: '1' } };
    expect(problems('ConfigMap', { immutable: true, data: { a: '2' } }, old)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
    expect(problems('ConfigMap', { data: { a: '1' } }, old)).toEqual(['immutable: Forbidden: field is immutable when `immutable` is set']);
    expect(problems('ConfigMap', { data: { a: '2' } }, { data: { a: '1' } })).toEqual([]);
  });

  it('Secret data is base64, as Go decodes it', () => {
    expect(problems('Secret', { data: { a: 'abc', b: 'YWJj!', c: 'YW\nJj', d: 'YQ=' } })).toEqual([
      'data[a]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 0',
      'data[b]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 4',
      'data[d]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3',
    ]);
  });

  it('typed Secrets carry their keys; the type is immutable', () => {
    expect(problems('Secret', { type: 'kubernetes.io/tls', data: {} })).toEqual(['data[tls.crt]: Required value', 'data[tls.key]: Required value']);
    expect(problems('Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==', 'tls.key': 'YQ==' } }, { data: {} })).toEqual([
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
    ]);
  });
});

describe('other kinds', () => {
  it('Namespace finalizers', () => {
    expect(problems('Namespace', { metadata: { name: 'ns' }, spec: { finalizers: ['kubernetes', 'custom'] } })).toEqual([
      'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });

  it('Node taints (reported under metadata, as Kubernetes does) and resources', () => {
    expect(
      problems('Node', {
        metadata: { name: 'n1' },
        spec: { taints: [{ key: 'a', effect: 'Sometimes' }, { key: 'b', effect: 'NoSchedule' }, { key: 'b', effect: 'NoSchedule' }] },
        status: { capacity: { pods: '1.5', cpu: '-1' } },
      }),
    ).toEqual([
      'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      'metadata.taints[2]: Duplicate value: {"key":"b","effect":"NoSchedule"}: taints must be unique by key and effect pair',
      'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0',
      'status.capacity.pods: Invalid value: 1500m: must be an integer',
      'status.allocatable.cpu: Invalid value: "-1": must be greater than or equal to 0',
      'status.allocatable.pods: Invalid value: 1500m: must be an integer',
    ]);
  });

  it('Endpoints addresses and ports', () => {
    expect(problems('Endpoints', { subsets: [{ addresses: [{ ip: 'ten' }], ports: [{ port: 80 }, { port: 70000, name: 'b' }] }, { ports: [] }] })).toEqual([
      'subsets[0].addresses[0].ip: Invalid value: "ten": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'subsets[0].ports[0].name: Required value',
      'subsets[0].ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`',
    ]);
  });

  it('Event namespaces match their object', () => {
    expect(problems('Event', { metadata: { name: 'e', namespace: 'team' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } })).toEqual([
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
    expect(problems('Event', { metadata: { name: 'e', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'n1' } })).toEqual([]);
  });

  it('Lease durations are positive', () => {
    expect(problems('Lease', { spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } })).toEqual([
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
      'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  it('PodDisruptionBudget: minAvailable or maxUnavailable, sensible values', () => {
    expect(problems('PodDisruptionBudget', { spec: { minAvailable: 1, maxUnavailable: 1 } })).toEqual([
      'spec: Invalid value: {"minAvailable":1,"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set',
    ]);
    expect(problems('PodDisruptionBudget', { spec: { maxUnavailable: '150%' } })).toEqual([
      'spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
    ]);
    expect(problems('PodDisruptionBudget', { spec: { minAvailable: -1 } })).toEqual(['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
  });
});
