/**
 * Validation of stored objects, kind by kind, as kube-apiserver does it: object metadata for
 * every kind, then the kind's own rules, then (on update) what may not change. Returns the
 * causes of a 422 Invalid with Kubernetes' cause types, field paths and message texts; an
 * empty list means valid. Kinds this server does not serve have no rules.
 *
 * The pod spec, the workloads and the shared syntax rules live in validation-pod.ts,
 * validation-workloads.ts and validation-rules.ts.
 */
import { jsonEqual, type JsonObject } from './json-value.js';
import { asObject, objectsOf, stringOf } from './pod-spec.js';
import { formatQuantity } from './quantity.js';
import { NODE_PORT_MAX, NODE_PORT_MIN } from './service-allocator.js';
import type { FieldCause } from './status.js';
import type { KubeObject } from './strategy.js';
import { FieldErrors, GoValue, child, goQuote, goStringSlice, index, key } from './validation-errors.js';
import { validatePodSpec, validatePodUpdate } from './validation-pod.js';
import {
  FIELD_IMMUTABLE,
  IP_ERROR,
  isConfigMapKey,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidIp,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDns1035Label,
  nameIsDnsLabel,
  nameIsDnsSubdomain,
  parseResourceList,
  pathSegmentName,
  validateAnnotations,
  validateLabelSelector,
  validateLabels,
  validateNonNegativeQuantity,
  inclusiveRangeError,
  type NameRule,
} from './validation-rules.js';
import { notMoreThan100Percent, validatePositiveIntOrPercent, validateWorkload } from './validation-workloads.js';

type KindValidator = (errors: FieldErrors, obj: KubeObject, old: KubeObject | undefined) => void;

function workload(kind: string): KindValidator {
  return (errors, obj, old) => validateWorkload(errors, kind, obj, old);
}

interface KindRules {
  name: NameRule;
  validate?: KindValidator;
  /** Lease metadata goes through apimachinery's checks only (no Kubernetes finalizer rule). */
  plainFinalizers?: boolean;
}

const KINDS: Record<string, KindRules> = {
  Namespace: { name: nameIsDnsLabel, validate: validateNamespace },
  Node: { name: nameIsDnsSubdomain, validate: validateNode },
  Pod: { name: nameIsDnsSubdomain, validate: validatePod },
  Service: { name: nameIsDns1035Label, validate: validateService },
  Endpoints: { name: nameIsDnsSubdomain, validate: validateEndpoints },
  ConfigMap: { name: nameIsDnsSubdomain, validate: validateConfigMap },
  Secret: { name: nameIsDnsSubdomain, validate: validateSecret },
  // Core events skip the kind's name rule; the generic path-segment rule still applies.
  Event: { name: pathSegmentName, validate: validateEvent },
  ServiceAccount: { name: nameIsDnsSubdomain },
  Deployment: { name: nameIsDnsSubdomain, validate: workload('Deployment') },
  ReplicaSet: { name: nameIsDnsSubdomain, validate: workload('ReplicaSet') },
  DaemonSet: { name: nameIsDnsSubdomain, validate: workload('DaemonSet') },
  Job: { name: nameIsDnsSubdomain, validate: workload('Job') },
  CronJob: { name: nameIsDnsSubdomain, validate: workload('CronJob') },
  Lease: { name: nameIsDnsSubdomain, validate: validateLease, plainFinalizers: true },
  PodDisruptionBudget: { name: nameIsDnsSubdomain, validate: validatePodDisruptionBudget },
};

/** The reasons `obj` (replacing `old` on update) is invalid; [] when it is valid. */
export function validateObject(kind: string, obj: KubeObject, old?: KubeObject): FieldCause[] {
  const rules = KINDS[kind];
  if (!rules) return [];
  const errors = new FieldErrors();
  validateObjectMeta(errors, obj, rules);
  if (old) validateObjectMetaUpdate(errors, obj, old);
  rules.validate?.(errors, obj, old);
  return errors.causes;
}

// ---------------------------------------------------------------------------------------------
// Object metadata (ValidateObjectMeta, ValidateObjectMetaUpdate)
// ---------------------------------------------------------------------------------------------

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

function validateObjectMeta(errors: FieldErrors, obj: KubeObject, rules: KindRules): void {
  const meta = obj.metadata;
  const generateName = stringOf(meta.generateName);
  if (generateName) for (const msg of rules.name(generateName, true)) errors.invalid('metadata.generateName', generateName, msg);
  const name = stringOf(meta.name);
  if (!name) errors.required('metadata.name', 'name or generateName is required');
  else for (const msg of rules.name(name, false)) errors.invalid('metadata.name', name, msg);
  if (meta.generation !== undefined && meta.generation < 0) errors.invalid('metadata.generation', meta.generation, 'must be greater than or equal to 0');
  validateLabels(errors, meta.labels, 'metadata.labels');
  validateAnnotations(errors, meta.annotations, 'metadata.annotations');
  validateOwnerReferences(errors, meta.ownerReferences);
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers.map(String) : [];
  for (const finalizer of finalizers) for (const msg of isQualifiedName(finalizer)) errors.invalid('metadata.finalizers', finalizer, msg);
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errors.invalid('metadata.finalizers', goStringSlice(finalizers), 'finalizer orphan and foregroundDeletion cannot be both set');
  }
  if (!rules.plainFinalizers) {
    finalizers.forEach((finalizer, i) => {
      if (!finalizer.includes('/') && !STANDARD_FINALIZERS.has(finalizer)) {
        errors.invalid(index('metadata.finalizers', i), finalizer, 'name is neither a standard finalizer name nor is it fully qualified');
      }
    });
  }
}

function validateOwnerReferences(errors: FieldErrors, refs: unknown): void {
  const path = 'metadata.ownerReferences';
  let firstController = '';
  for (const ref of objectsOf(refs)) {
    const apiVersion = stringOf(ref.apiVersion);
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    if (!version) errors.invalid(child(path, 'apiVersion'), apiVersion, 'version must not be empty');
    if (!stringOf(ref.kind)) errors.invalid(child(path, 'kind'), stringOf(ref.kind), 'must not be empty');
    if (!stringOf(ref.name)) errors.invalid(child(path, 'name'), stringOf(ref.name), 'must not be empty');
    if (!stringOf(ref.uid)) errors.invalid(child(path, 'uid'), stringOf(ref.uid), 'must not be empty');
    if (ref.controller === true) {
      const controller = `${stringOf(ref.kind)}/${stringOf(ref.name)}`;
      if (firstController) {
        errors.invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${controller}`);
      } else {
        firstController = controller;
      }
    }
  }
}

function validateObjectMetaUpdate(errors: FieldErrors, obj: KubeObject, old: KubeObject): void {
  const meta = obj.metadata;
  const oldMeta = old.metadata;
  if (oldMeta.deletionTimestamp !== undefined) {
    const before = new Set(oldMeta.finalizers ?? []);
    const added = [...new Set(meta.finalizers ?? [])].filter((f) => !before.has(f)).sort();
    if (added.length > 0) {
      errors.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added).text}`);
    }
  }
  if (meta.generation !== undefined && oldMeta.generation !== undefined && meta.generation < oldMeta.generation) {
    errors.invalid('metadata.generation', meta.generation, 'must not be decremented');
  }
  for (const field of ['name', 'namespace', 'uid'] as const) {
    if ((meta[field] ?? '') !== (oldMeta[field] ?? '')) errors.invalid(child('metadata', field), meta[field] ?? '', FIELD_IMMUTABLE);
  }
}

// ---------------------------------------------------------------------------------------------
// Core kinds
// ---------------------------------------------------------------------------------------------

function validatePod(errors: FieldErrors, obj: KubeObject, old: KubeObject | undefined): void {
  validatePodSpec(errors, obj.spec, 'spec', { isPod: true });
  const spec = asObject(obj.spec);
  if (!old) {
    if (spec && Array.isArray(spec.ephemeralContainers) && spec.ephemeralContainers.length > 0) {
      errors.forbidden('spec.ephemeralContainers', 'cannot be set on create');
    }
    return;
  }
  validatePodUpdate(errors, obj.spec, old.spec);
}

function validateNamespace(errors: FieldErrors, obj: KubeObject): void {
  const finalizers = asObject(obj.spec)?.finalizers;
  for (const finalizer of Array.isArray(finalizers) ? finalizers.map(String) : []) {
    for (const msg of isQualifiedName(finalizer)) errors.invalid('spec.finalizers', finalizer, msg);
    if (!finalizer.includes('/') && !STANDARD_FINALIZERS.has(finalizer)) {
      errors.invalid('spec.finalizers', finalizer, 'name is neither a standard finalizer name nor is it fully qualified');
    }
  }
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
/** Resources counted in whole units (and every extended resource). */
const INTEGER_RESOURCES = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims']);

function validateNode(errors: FieldErrors, obj: KubeObject, old: KubeObject | undefined): void {
  const spec = asObject(obj.spec) ?? {};
  // Kubernetes reports taints under metadata, a long-standing quirk kubectl users see.
  const seen = new Set<string>();
  objectsOf(spec.taints).forEach((taint, i) => {
    const taintPath = index('metadata.taints', i);
    const taintKey = stringOf(taint.key);
    for (const msg of isQualifiedName(taintKey)) errors.invalid(child(taintPath, 'key'), taintKey, msg);
    const value = stringOf(taint.value);
    const valueProblems = isValidLabelValue(value);
    if (valueProblems.length > 0) errors.invalid(child(taintPath, 'value'), value, valueProblems.join(';'));
    const effect = stringOf(taint.effect);
    if (!effect) errors.required(child(taintPath, 'effect'));
    else if (!TAINT_EFFECTS.includes(effect)) errors.notSupported(child(taintPath, 'effect'), effect, TAINT_EFFECTS);
    const id = `${effect}\u0000${taintKey}`;
    if (seen.has(id)) errors.duplicate(taintPath, taint, 'taints must be unique by key and effect pair');
    seen.add(id);
  });
  const status = asObject(obj.status) ?? {};
  for (const listName of ['capacity', 'allocatable']) {
    const listPath = child('status', listName);
    for (const [name, q] of parseResourceList(errors, status[listName], listPath)) {
      const path = child(listPath, name);
      validateNonNegativeQuantity(errors, q, path);
      const integer = INTEGER_RESOURCES.has(name) || (name.includes('/') && !name.includes('kubernetes.io/'));
      if (integer && q.nanos % 1_000_000_000n !== 0n) errors.invalid(path, new GoValue(formatQuantity(q)), 'must be an integer');
    }
  }
  if (!old) return;
  const oldSpec = asObject(old.spec) ?? {};
  const oldCidrs = Array.isArray(oldSpec.podCIDRs) ? oldSpec.podCIDRs : [];
  if (oldCidrs.length > 0 && !jsonEqual(spec.podCIDRs, oldCidrs)) {
    errors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid');
  }
  const oldProvider = stringOf(oldSpec.providerID);
  if (oldProvider && stringOf(spec.providerID) !== oldProvider) {
    errors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid');
  }
}

function validateEndpoints(errors: FieldErrors, obj: KubeObject): void {
  objectsOf(obj.subsets).forEach((subset, i) => {
    const subsetPath = index('subsets', i);
    const addresses = objectsOf(subset.addresses);
    const notReady = objectsOf(subset.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0) errors.required(subsetPath, 'must specify `addresses` or `notReadyAddresses`');
    for (const [listName, list] of [
      ['addresses', addresses],
      ['notReadyAddresses', notReady],
    ] as const) {
      list.forEach((address, j) => {
        const addressPath = index(child(subsetPath, listName), j);
        const ip = stringOf(address.ip);
        if (!isValidIp(ip)) errors.invalid(child(addressPath, 'ip'), ip, IP_ERROR);
        const hostname = stringOf(address.hostname);
        if (hostname) for (const msg of isDns1123Label(hostname)) errors.invalid(child(addressPath, 'hostname'), hostname, msg);
        if (typeof address.nodeName === 'string') {
          for (const msg of nameIsDnsSubdomain(address.nodeName, false)) errors.invalid(child(addressPath, 'nodeName'), address.nodeName, msg);
        }
      });
    }
    const ports = objectsOf(subset.ports);
    ports.forEach((port, j) => validateNamedPort(errors, port, ports.length > 1, index(child(subsetPath, 'ports'), j)));
  });
}

const MAX_DATA_SIZE = 1024 * 1024;
const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';

function validateConfigMap(errors: FieldErrors, obj: KubeObject, old: KubeObject | undefined): void {
  let total = 0;
  const data = asObject(obj.data) ?? {};
  const binaryData = asObject(obj.binaryData) ?? {};
  for (const k of Object.keys(data).sort()) {
    for (const msg of isConfigMapKey(k)) errors.invalid(key('data', k), k, msg);
    if (Object.hasOwn(binaryData, k)) errors.invalid(key('data', k), k, 'duplicate of key present in binaryData');
    const value = data[k];
    if (typeof value === 'string') total += Buffer.byteLength(value);
    else errors.typeInvalid(key('data', k), value, 'must be a string');
  }
  for (const k of Object.keys(binaryData).sort()) {
    for (const msg of isConfigMapKey(k)) errors.invalid(key('binaryData', k), k, msg);
    total += decodedBase64Size(errors, binaryData[k], key('binaryData', k), false);
  }
  // The whole object is meant: Kubernetes writes an empty path, printed `[]`.
  if (total > MAX_DATA_SIZE) errors.tooLong('[]', MAX_DATA_SIZE);
  if (old) validateImmutableData(errors, obj, old, ['data', 'binaryData']);
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

function validateSecret(errors: FieldErrors, obj: KubeObject, old: KubeObject | undefined): void {
  const data = asObject(obj.data) ?? {};
  let total = 0;
  for (const k of Object.keys(data).sort()) {
    for (const msg of isConfigMapKey(k)) errors.invalid(key('data', k), k, msg);
    total += decodedBase64Size(errors, data[k], key('data', k), true);
  }
  if (total > MAX_DATA_SIZE) errors.tooLong('data', MAX_DATA_SIZE);
  const type = stringOf(obj.type);
  if (type === 'kubernetes.io/service-account-token') {
    if (!stringOf(obj.metadata.annotations?.['kubernetes.io/service-account.name'])) {
      errors.required(key('metadata.annotations', 'kubernetes.io/service-account.name'));
    }
  } else if (type === 'kubernetes.io/basic-auth') {
    if (!Object.hasOwn(data, 'username') && !Object.hasOwn(data, 'password')) {
      errors.required(key('data', 'username'));
      errors.required(key('data', 'password'));
    }
  } else {
    for (const requiredKey of SECRET_REQUIRED_KEYS[type] ?? []) {
      if (!Object.hasOwn(data, requiredKey)) errors.required(key('data', requiredKey));
    }
  }
  if (!old) return;
  if (type !== stringOf(old.type)) errors.invalid('type', type, FIELD_IMMUTABLE);
  validateImmutableData(errors, obj, old, ['data']);
}

function validateImmutableData(errors: FieldErrors, obj: KubeObject, old: KubeObject, fields: readonly string[]): void {
  if (old.immutable !== true) return;
  if (obj.immutable !== true) errors.forbidden('immutable', IMMUTABLE_WHEN_SET);
  for (const field of fields) if (!jsonEqual(obj[field] ?? {}, old[field] ?? {})) errors.forbidden(field, IMMUTABLE_WHEN_SET);
}

/** The size of base64 data (a []byte in Kubernetes), reporting what Go's decoder refuses. */
function decodedBase64Size(errors: FieldErrors, value: unknown, path: string, redact: boolean): number {
  if (typeof value !== 'string') {
    errors.typeInvalid(path, value, 'must be a base64-encoded string');
    return 0;
  }
  const bytes = Buffer.from(value, 'utf8');
  const corruptAt = base64CorruptionOffset(bytes);
  if (corruptAt !== undefined) {
    errors.invalid(path, redact ? '<secret contents redacted>' : value, `illegal base64 data at input byte ${corruptAt}`);
    return 0;
  }
  return Buffer.from(value.replace(/[\r\n]/g, ''), 'base64').length;
}

const BASE64_ALPHABET = new Set([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c) => c.charCodeAt(0)));
const CR = 13;
const LF = 10;
const PAD = 61;

/** Where encoding/base64.StdEncoding stops with CorruptInputError; undefined when it decodes. */
function base64CorruptionOffset(src: Buffer): number | undefined {
  const newline = (b: number | undefined) => b === CR || b === LF;
  let si = 0;
  for (;;) {
    for (let j = 0; j < 4; j++) {
      if (si === src.length) return j === 0 ? undefined : si - j;
      const b = src[si++]!;
      if (BASE64_ALPHABET.has(b)) continue;
      if (newline(b)) {
        j--;
        continue;
      }
      if (b !== PAD || j < 2) return si - 1;
      if (j === 2) {
        while (si < src.length && newline(src[si])) si++;
        if (si === src.length) return src.length;
        if (src[si] !== PAD) return si - 1;
        si++;
      }
      while (si < src.length && newline(src[si])) si++;
      return si < src.length ? si : undefined;
    }
  }
}

const EVENT_LIMITS: Array<[field: string, limit: number]> = [
  ['reportingInstance', 128],
  ['action', 128],
  ['reason', 128],
];

/** legacyValidateEvent: events written through core/v1 (metadata uses the generic rules). */
function validateEvent(errors: FieldErrors, obj: KubeObject): void {
  const namespace = obj.metadata.namespace ?? '';
  const involvedNamespace = stringOf(asObject(obj.involvedObject)?.namespace);
  const eventTime = obj.eventTime;
  const mismatch = () => errors.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace');
  if (eventTime === undefined || eventTime === null || eventTime === '') {
    if (!involvedNamespace) {
      if (namespace !== '' && namespace !== 'default') mismatch();
    } else if (namespace !== involvedNamespace) {
      mismatch();
    }
    return;
  }
  if (!involvedNamespace && namespace !== 'default' && namespace !== 'kube-system') mismatch();
  // Through core/v1 the reporting controller is called `source` in these messages.
  const controller = stringOf(obj.reportingComponent);
  if (!controller) errors.required('source');
  for (const msg of isQualifiedName(controller)) errors.invalid('source', controller, msg);
  for (const [field, limit] of EVENT_LIMITS) {
    const value = stringOf(obj[field]);
    if (!value) errors.required(field);
    if (value.length > limit) errors.invalid(field, '', `can have at most ${limit} characters`);
  }
  if (stringOf(obj.message).length > 1024) errors.invalid('message', '', 'can have at most 1024 characters');
}

function validateLease(errors: FieldErrors, obj: KubeObject): void {
  const spec = asObject(obj.spec) ?? {};
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errors.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0');
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errors.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0');
  }
}

function validatePodDisruptionBudget(errors: FieldErrors, obj: KubeObject): void {
  const spec = asObject(obj.spec) ?? {};
  const set = (v: unknown) => v !== undefined && v !== null;
  if (set(spec.minAvailable) && set(spec.maxUnavailable)) errors.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set');
  for (const field of ['minAvailable', 'maxUnavailable']) {
    validatePositiveIntOrPercent(errors, spec[field], child('spec', field));
    notMoreThan100Percent(errors, spec[field], child('spec', field));
  }
  validateLabelSelector(errors, spec.selector, 'spec.selector');
  const policy = spec.unhealthyPodEvictionPolicy;
  if (set(policy) && policy !== 'AlwaysAllow' && policy !== 'IfHealthyBudget') {
    errors.notSupported('spec.unhealthyPodEvictionPolicy', policy, ['AlwaysAllow', 'IfHealthyBudget']);
  }
}

// ---------------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------------

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateService(errors: FieldErrors, obj: KubeObject, old: KubeObject | undefined): void {
  const spec = asObject(obj.spec) ?? {};
  const oldSpec = asObject(old?.spec);
  const type = spec.type;
  const clusterIP = stringOf(spec.clusterIP);
  const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.map(String) : [];
  const headless = (clusterIPs.length === 1 && clusterIPs[0] === 'None') || clusterIP === 'None';
  const ports = objectsOf(spec.ports);
  if (ports.length === 0 && !headless && type !== 'ExternalName') errors.required('spec.ports');

  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    errors.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`);
  }
  if (type === 'ExternalName') {
    if (clusterIPs.length > 0) errors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services');
    if (Array.isArray(spec.ipFamilies) && spec.ipFamilies.length > 0) errors.forbidden('spec.ipFamilies', 'may not be set for ExternalName services');
    if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errors.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services');
    const cname = stringOf(spec.externalName).replace(/\.$/, '');
    if (!cname) errors.required('spec.externalName');
    else for (const msg of isDns1123Subdomain(cname)) errors.invalid('spec.externalName', cname, msg);
  }

  const names = new Set<string>();
  ports.forEach((port, i) => {
    const portPath = index('spec.ports', i);
    validateNamedPort(errors, port, ports.length > 1, portPath, names);
    validateTargetPort(errors, port.targetPort, child(portPath, 'targetPort'));
  });
  validateLabels(errors, spec.selector, 'spec.selector');
  validateSessionAffinity(errors, spec);
  if (type !== 'ExternalName') validateClusterIPs(errors, spec, clusterIP, clusterIPs);
  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip, i) => {
    if (typeof ip !== 'string' || !isValidIp(ip)) errors.invalid(index('spec.externalIPs', i), ip, IP_ERROR);
  });
  if (type === undefined || type === null || type === '') errors.required('spec.type');
  else if (typeof type !== 'string' || !SERVICE_TYPES.includes(type)) errors.notSupported('spec.type', type, SERVICE_TYPES);
  validateNodePorts(errors, spec, ports, oldSpec);

  // Kubernetes spells this path with a capital L.
  if (Array.isArray(spec.loadBalancerSourceRanges) && spec.loadBalancerSourceRanges.length > 0 && type !== 'LoadBalancer') {
    errors.forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'");
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer') {
    errors.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'");
  }
  if (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errors.required('allocateLoadBalancerNodePorts');
  }
  validateTrafficPolicies(errors, spec, oldSpec);
  if (oldSpec) validateClusterIPsUnchanged(errors, spec, oldSpec);
}

/** A Service or Endpoints port: names required when several, DNS labels (unique for Services). */
function validateNamedPort(errors: FieldErrors, port: JsonObject, requireName: boolean, path: string, names?: Set<string>): void {
  const name = stringOf(port.name);
  if (requireName && !name) {
    errors.required(child(path, 'name'));
  } else if (name) {
    for (const msg of isDns1123Label(name)) errors.invalid(child(path, 'name'), name, msg);
    if (names?.has(name)) errors.duplicate(child(path, 'name'), name);
    else names?.add(name);
  }
  const number = port.port ?? 0;
  if (typeof number !== 'number') errors.typeInvalid(child(path, 'port'), number, 'must be an integer');
  else for (const msg of isValidPortNum(number)) errors.invalid(child(path, 'port'), number, msg);
  const protocol = port.protocol;
  if (protocol === undefined || protocol === null || protocol === '') errors.required(child(path, 'protocol'));
  else if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol)) errors.notSupported(child(path, 'protocol'), protocol, PROTOCOLS);
  const appProtocol = port.appProtocol;
  if (typeof appProtocol === 'string') for (const msg of isQualifiedName(appProtocol)) errors.invalid(child(path, 'appProtocol'), appProtocol, msg);
}

function validateTargetPort(errors: FieldErrors, target: unknown, path: string): void {
  if (typeof target === 'number') for (const msg of isValidPortNum(target)) errors.invalid(path, target, msg);
  else if (typeof target === 'string') for (const msg of isValidPortName(target)) errors.invalid(path, target, msg);
  else errors.invalid(path, 0, inclusiveRangeError(1, 65535));
}

function validateSessionAffinity(errors: FieldErrors, spec: JsonObject): void {
  const affinity = spec.sessionAffinity;
  if (affinity === undefined || affinity === null || affinity === '') errors.required('spec.sessionAffinity');
  else if (affinity !== 'ClientIP' && affinity !== 'None') errors.notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']);
  if (affinity === 'ClientIP') {
    const path = 'spec.sessionAffinityConfig';
    const config = asObject(spec.sessionAffinityConfig);
    const clientIP = asObject(config?.clientIP);
    if (!config) errors.required(path, 'when session affinity type is ClientIP');
    else if (!clientIP) errors.required(child(path, 'clientIP'), 'when session affinity type is ClientIP');
    else if (clientIP.timeoutSeconds === undefined || clientIP.timeoutSeconds === null) {
      errors.required(child(path, 'clientIP', 'timeoutSeconds'), 'when session affinity type is ClientIP');
    } else {
      const timeout = clientIP.timeoutSeconds;
      if (typeof timeout !== 'number' || timeout <= 0 || timeout > 86400) {
        errors.invalid(child(path, 'clientIP', 'timeoutSeconds'), timeout, 'must be greater than 0 and less than 86400');
      }
    }
  } else if (affinity === 'None' && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errors.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None');
  }
}

/** ValidateServiceClusterIPsRelatedFields, for a single-stack cluster. */
function validateClusterIPs(errors: FieldErrors, spec: JsonObject, clusterIP: string, clusterIPs: string[]): void {
  if (clusterIP) {
    if (clusterIPs.length === 0) errors.required('spec.clusterIPs');
    else if (clusterIPs[0] !== clusterIP) errors.invalid('spec.clusterIPs', goStringSlice(clusterIPs), 'first value must match `clusterIP`');
  } else if (clusterIPs.length > 0) {
    errors.invalid('spec.clusterIPs', goStringSlice(clusterIPs), 'must be empty when `clusterIP` is not specified');
  }
  const families = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : [];
  const seen = new Set<unknown>();
  families.forEach((family, i) => {
    if (family !== 'IPv4' && family !== 'IPv6') errors.notSupported(index('spec.ipFamilies', i), family, ['IPv4', 'IPv6']);
    if (seen.has(family)) errors.duplicate(index('spec.ipFamilies', i), family);
    seen.add(family);
  });
  const policy = spec.ipFamilyPolicy;
  if (policy !== undefined && policy !== null && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(String(policy))) {
    errors.notSupported('spec.ipFamilyPolicy', policy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']);
  }
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) errors.invalid('spec.clusterIPs', goStringSlice(clusterIPs), "'None' must be the first and only value");
      return;
    }
    if (!isValidIp(ip)) errors.invalid(index('spec.clusterIPs', i), ip, IP_ERROR);
  });
}

function validateNodePorts(errors: FieldErrors, spec: JsonObject, ports: JsonObject[], oldSpec: JsonObject | undefined): void {
  const oldPorts = objectsOf(oldSpec?.ports);
  const nodePortKeys = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((port, i) => {
    const portPath = index('spec.ports', i);
    const protocol = stringOf(port.protocol);
    const nodePort = port.nodePort;
    if (typeof nodePort === 'number' && nodePort !== 0) {
      if (spec.type === 'ClusterIP') {
        // Left over from a NodePort type: the allocation drops it, as Kubernetes' strategy does.
        const leftOver = oldPorts.some((p) => p.port === port.port && stringOf(p.protocol) === protocol && p.nodePort === nodePort);
        if (!leftOver) errors.forbidden(child(portPath, 'nodePort'), "may not be used when `type` is 'ClusterIP'");
      } else if (nodePort < NODE_PORT_MIN || nodePort > NODE_PORT_MAX) {
        errors.invalid(child(portPath, 'nodePort'), nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`);
      }
      const nodePortKey = `${protocol}/${nodePort}`;
      if (nodePortKeys.has(nodePortKey)) errors.duplicate(child(portPath, 'nodePort'), nodePort);
      nodePortKeys.add(nodePortKey);
    }
    const portKey = `${protocol}/${String(port.port)}`;
    if (portKeys.has(portKey)) {
      const printed = `core.ServicePort{Name:"", Protocol:${goQuote(protocol)}, AppProtocol:(*string)(nil), Port:${String(port.port ?? 0)}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
      errors.duplicate(portPath, new GoValue(printed));
    }
    portKeys.add(portKey);
  });
}

function validateTrafficPolicies(errors: FieldErrors, spec: JsonObject, oldSpec: JsonObject | undefined): void {
  const type = spec.type;
  const externalIPs = Array.isArray(spec.externalIPs) ? spec.externalIPs : [];
  const externallyAccessible = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && externalIPs.length > 0);
  const external = spec.externalTrafficPolicy;
  const externalSet = external !== undefined && external !== null && external !== '';
  if (!externallyAccessible) {
    // A value kept from an earlier type is tolerated, as the strategy would drop it.
    if (externalSet && oldSpec?.externalTrafficPolicy !== external) {
      errors.invalid('spec.externalTrafficPolicy', external, 'may only be set for externally-accessible services');
    }
  } else if (!externalSet) {
    errors.required('spec.externalTrafficPolicy');
  } else if (external !== 'Cluster' && external !== 'Local') {
    errors.notSupported('spec.externalTrafficPolicy', external, ['Cluster', 'Local']);
  }
  const healthCheckNodePort = spec.healthCheckNodePort;
  const needsHealthCheck = type === 'LoadBalancer' && external === 'Local';
  if (!needsHealthCheck && typeof healthCheckNodePort === 'number' && healthCheckNodePort !== 0) {
    errors.invalid('spec.healthCheckNodePort', healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
  }
  const internal = spec.internalTrafficPolicy;
  if (internal === undefined || internal === null) {
    if (type === 'ClusterIP' || type === 'NodePort' || type === 'LoadBalancer') errors.required('spec.internalTrafficPolicy');
  } else if (internal !== 'Cluster' && internal !== 'Local') {
    errors.notSupported('spec.internalTrafficPolicy', internal, ['Cluster', 'Local']);
  }
}

/**
 * The cluster IPs never change once allocated. An update that leaves them out keeps them
 * (the allocation copies them back), so only a different address is refused.
 */
function validateClusterIPsUnchanged(errors: FieldErrors, spec: JsonObject, oldSpec: JsonObject): void {
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return;
  const effective = (s: JsonObject): string[] => {
    const ips = Array.isArray(s.clusterIPs) ? s.clusterIPs.map(String).filter((ip) => ip !== '') : [];
    if (ips.length > 0) return ips;
    const ip = stringOf(s.clusterIP);
    return ip ? [ip] : [];
  };
  const ips = effective(spec);
  const oldIps = effective(oldSpec);
  if (ips.length === 0 || oldIps.length === 0) return;
  if (ips[0] === 'None' && oldIps[0] === 'None') return;
  const compared = Math.min(ips.length, oldIps.length);
  for (let i = 0; i < compared; i++) {
    if (ips[i] !== oldIps[i]) errors.invalid(index('spec.clusterIPs', i), goStringSlice(ips), 'may not change once set');
  }
}
