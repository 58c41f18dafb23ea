/**
 * Pod specs as Kubernetes validates them (pkg/apis/core/validation: ValidatePodSpec and what it
 * calls), for Pods and for the pod templates of workloads, and the rule that a Pod's spec is
 * fixed once created except for images, activeDeadlineSeconds and added tolerations.
 */
import { isJsonObject, jsonEqual, type JsonObject } from './json-value.js';
import { VOLUME_SOURCES, asObject, objectsOf, stringOf } from './pod-spec.js';
import { compareQuantities, formatQuantity, parseQuantityExact, quantityProblem, type Quantity } from './quantity.js';
import { FieldErrors, GoValue, child, index, key, renderValue } from './validation-errors.js';
import {
  IP_ERROR,
  MAX_INT32,
  inclusiveRangeError,
  isConfigMapKey,
  isDns1123Label,
  isDns1123Subdomain,
  isInteger,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidIp,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDnsSubdomain,
  parseResourceList,
  validateAnnotations,
  validateLabels,
  validateNonNegative,
  validateNonNegativeQuantity,
} from './validation-rules.js';

export interface PodSpecOptions {
  /** A Pod, not a template: a few checks apply to Pods only. */
  isPod: boolean;
}

export const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';
const ENV_FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
/** Every field label the v1 downward API converts (some of them not usable from env). */
const DOWNWARD_API_LABELS = new Set([
  ...ENV_FIELD_PATHS,
  'metadata.annotations',
  'metadata.labels',
  'spec.restartPolicy',
  'spec.schedulerName',
  'status.phase',
]);
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

// ---------------------------------------------------------------------------------------------
// Pod specs and templates
// ---------------------------------------------------------------------------------------------

/** ValidatePodTemplateSpec: labels and annotations of the template, then its pod spec. */
export function validatePodTemplate(errors: FieldErrors, template: unknown, path: string): void {
  if (!isJsonObject(template)) {
    errors.required(path);
    return;
  }
  const metadata = asObject(template.metadata) ?? {};
  validateLabels(errors, metadata.labels, child(path, 'labels'));
  validateAnnotations(errors, metadata.annotations, child(path, 'annotations'));
  const spec = template.spec;
  validatePodSpec(errors, spec, child(path, 'spec'), { isPod: false });
  if (isJsonObject(spec) && Array.isArray(spec.ephemeralContainers) && spec.ephemeralContainers.length > 0) {
    errors.forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template');
  }
}

export function validatePodSpec(errors: FieldErrors, specValue: unknown, path: string, opts: PodSpecOptions): void {
  if (!isJsonObject(specValue)) {
    if (specValue !== undefined && specValue !== null) errors.typeInvalid(path, specValue, 'must be an object');
    else errors.required(child(path, 'containers'));
    return;
  }
  const spec = specValue;
  let gracePeriod: number | undefined;
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    errors.required(child(path, 'terminationGracePeriodSeconds'));
  } else if (isInteger(spec.terminationGracePeriodSeconds, child(path, 'terminationGracePeriodSeconds'), errors)) {
    gracePeriod = spec.terminationGracePeriodSeconds;
  }

  const volumes = validateVolumes(errors, spec.volumes, child(path, 'volumes'));
  const context: ContainerContext = { volumes, gracePeriod };
  validateContainers(errors, spec.containers, child(path, 'containers'), context);
  validateInitContainers(errors, spec.initContainers, spec.containers, child(path, 'initContainers'), context);
  validateHostNetworkPorts(errors, spec, path, opts);

  validateChoice(errors, spec.restartPolicy, child(path, 'restartPolicy'), ['Always', 'OnFailure', 'Never']);
  validateChoice(errors, spec.dnsPolicy, child(path, 'dnsPolicy'), ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']);
  validateLabels(errors, spec.nodeSelector, child(path, 'nodeSelector'));
  objectsOf(spec.imagePullSecrets).forEach((ref, i) => {
    if (Object.keys(ref).some((k) => k !== 'name')) errors.invalid(index(child(path, 'imagePullSecrets'), i), ref, 'only name may be set');
  });
  validateDnsConfig(errors, spec, child(path, 'dnsConfig'));
  for (const [field, rule] of [
    ['serviceAccountName', nameIsDnsSubdomain],
    ['nodeName', nameIsDnsSubdomain],
    ['priorityClassName', nameIsDnsSubdomain],
  ] as const) {
    const value = stringOf(spec[field]);
    if (value) for (const msg of rule(value, false)) errors.invalid(child(path, field), value, msg);
  }
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const deadlinePath = child(path, 'activeDeadlineSeconds');
    if (isInteger(spec.activeDeadlineSeconds, deadlinePath, errors) && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > MAX_INT32)) {
      errors.invalid(deadlinePath, spec.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32));
    }
  }
  for (const field of ['hostname', 'subdomain']) {
    const value = stringOf(spec[field]);
    if (value) for (const msg of isDns1123Label(value)) errors.invalid(child(path, field), value, msg);
  }
  validateTolerations(errors, spec.tolerations, child(path, 'tolerations'));
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null) {
    validateChoice(errors, spec.preemptionPolicy, child(path, 'preemptionPolicy'), ['PreemptLowerPriority', 'Never']);
  }
  for (const [name, q] of parseResourceList(errors, spec.overhead, child(path, 'overhead'))) {
    validateNonNegativeQuantity(errors, q, key(child(path, 'overhead'), name));
  }
  if (opts.isPod) {
    // Only a Pod is checked for stray whitespace around images (templates kept it for compatibility).
    for (const list of ['containers', 'initContainers'] as const) {
      objectsOf(spec[list]).forEach((container, i) => {
        const image = stringOf(container.image);
        if (image !== image.trim()) errors.invalid(child(index(child(path, list), i), 'image'), image, 'must not have leading or trailing whitespace');
      });
    }
  }
}

interface ContainerContext {
  volumes: Map<string, JsonObject>;
  gracePeriod: number | undefined;
}

function validateContainers(errors: FieldErrors, list: unknown, path: string, context: ContainerContext): void {
  const containers = Array.isArray(list) ? list : [];
  if (containers.length === 0) {
    errors.required(path);
    return;
  }
  const names = new Set<string>();
  containers.forEach((item, i) => {
    const containerPath = index(path, i);
    if (!isJsonObject(item)) {
      errors.typeInvalid(containerPath, item, 'must be an object');
      return;
    }
    validateContainerCommon(errors, item, containerPath, context);
    const name = stringOf(item.name);
    if (names.has(name)) errors.duplicate(child(containerPath, 'name'), name);
    else names.add(name);
    validateLifecycleAndProbes(errors, item, containerPath, context);
    if (item.restartPolicy !== undefined && item.restartPolicy !== null) {
      errors.forbidden(child(containerPath, 'restartPolicy'), 'may not be set for non-init containers');
    }
  });
  checkHostPortConflicts(errors, containers.filter(isJsonObject), path);
}

function validateInitContainers(errors: FieldErrors, list: unknown, regular: unknown, path: string, context: ContainerContext): void {
  const names = new Set(objectsOf(regular).map((c) => stringOf(c.name)));
  objectsOf(list).forEach((item, i) => {
    const containerPath = index(path, i);
    validateContainerCommon(errors, item, containerPath, context);
    let restartAlways = false;
    if (item.restartPolicy !== undefined && item.restartPolicy !== null) {
      if (item.restartPolicy === 'Always') restartAlways = true;
      else errors.notSupported(child(containerPath, 'restartPolicy'), item.restartPolicy, ['Always']);
    }
    const name = stringOf(item.name);
    if (names.has(name)) errors.duplicate(child(containerPath, 'name'), name);
    else if (name) names.add(name);
    checkHostPortConflicts(errors, [item], path);
    if (restartAlways) {
      validateLifecycleAndProbes(errors, item, containerPath, context);
    } else {
      for (const field of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (item[field] !== undefined && item[field] !== null) {
          errors.forbidden(child(containerPath, field), 'may not be set for init containers without restartPolicy=Always');
        }
      }
    }
  });
}

/** validateContainerCommon: what every kind of container must satisfy. */
function validateContainerCommon(errors: FieldErrors, container: JsonObject, path: string, context: ContainerContext): void {
  const name = stringOf(container.name);
  if (!name) errors.required(child(path, 'name'));
  else for (const msg of isDns1123Label(name)) errors.invalid(child(path, 'name'), name, msg);
  if (!stringOf(container.image)) errors.required(child(path, 'image'));
  validateChoice(errors, container.terminationMessagePolicy, child(path, 'terminationMessagePolicy'), ['File', 'FallbackToLogsOnError']);
  validateContainerPorts(errors, container.ports, child(path, 'ports'));
  validateEnv(errors, container.env, child(path, 'env'));
  validateEnvFrom(errors, container.envFrom, child(path, 'envFrom'));
  validateVolumeMounts(errors, container.volumeMounts, child(path, 'volumeMounts'), context.volumes);
  validateChoice(errors, container.imagePullPolicy, child(path, 'imagePullPolicy'), ['Always', 'IfNotPresent', 'Never']);
  validateResources(errors, container.resources, child(path, 'resources'));
}

function validateLifecycleAndProbes(errors: FieldErrors, container: JsonObject, path: string, context: ContainerContext): void {
  const lifecycle = asObject(container.lifecycle);
  if (lifecycle) {
    for (const hook of ['postStart', 'preStop']) {
      const handler = asObject(lifecycle[hook]);
      if (handler) validateHandler(errors, handler, child(path, 'lifecycle', hook), ['exec', 'httpGet', 'tcpSocket', 'sleep'], context.gracePeriod);
    }
  }
  for (const probeName of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = asObject(container[probeName]);
    if (!probe) continue;
    const probePath = child(path, probeName);
    validateHandler(errors, probe, probePath, ['exec', 'httpGet', 'tcpSocket', 'grpc'], context.gracePeriod);
    for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
      validateNonNegative(errors, probe[field], child(probePath, field));
    }
    const probeGrace = probe.terminationGracePeriodSeconds;
    if (probeGrace !== undefined && probeGrace !== null) {
      if (probeName === 'readinessProbe') {
        errors.invalid(child(probePath, 'terminationGracePeriodSeconds'), probeGrace, 'must not be set for readinessProbes');
      } else if (typeof probeGrace === 'number' && probeGrace <= 0) {
        errors.invalid(child(probePath, 'terminationGracePeriodSeconds'), probeGrace, 'must be greater than 0');
      }
    }
    if (probeName !== 'readinessProbe' && probe.successThreshold !== 1) {
      errors.invalid(child(probePath, 'successThreshold'), probe.successThreshold, 'must be 1');
    }
  }
}

/** validateHandler: exactly one action, each well formed. */
function validateHandler(errors: FieldErrors, handler: JsonObject, path: string, kinds: readonly string[], gracePeriod: number | undefined): void {
  let count = 0;
  for (const kind of kinds) {
    const action = handler[kind];
    if (action === undefined || action === null) continue;
    const actionPath = child(path, kind);
    if (count > 0) {
      errors.forbidden(actionPath, 'may not specify more than 1 handler type');
      continue;
    }
    count++;
    const body = asObject(action) ?? {};
    switch (kind) {
      case 'exec':
        if (!Array.isArray(body.command) || body.command.length === 0) errors.required(child(actionPath, 'command'));
        break;
      case 'httpGet':
        if (!stringOf(body.path)) errors.required(child(actionPath, 'path'));
        validatePortNumOrName(errors, body.port, child(actionPath, 'port'));
        if (body.scheme !== 'HTTP' && body.scheme !== 'HTTPS') errors.notSupported(child(actionPath, 'scheme'), body.scheme ?? '', ['HTTP', 'HTTPS']);
        for (const header of objectsOf(body.httpHeaders)) {
          const headerName = stringOf(header.name);
          if (!/^[-A-Za-z0-9]+$/.test(headerName)) {
            errors.invalid(
              child(actionPath, 'httpHeaders'),
              headerName,
              "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
            );
          }
        }
        break;
      case 'tcpSocket':
        validatePortNumOrName(errors, body.port, child(actionPath, 'port'));
        break;
      case 'grpc':
        validatePortNumOrName(errors, typeof body.port === 'number' ? body.port : 0, child(actionPath, 'port'));
        break;
      case 'sleep': {
        const seconds = typeof body.seconds === 'number' ? body.seconds : 0;
        if (gracePeriod !== undefined && (seconds < 0 || seconds > gracePeriod)) {
          errors.invalid(actionPath, seconds, `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`);
        }
        break;
      }
    }
  }
  if (count === 0) errors.required(path, 'must specify a handler type');
}

function validatePortNumOrName(errors: FieldErrors, port: unknown, path: string): void {
  if (typeof port === 'number') {
    for (const msg of isValidPortNum(port)) errors.invalid(path, port, msg);
  } else if (typeof port === 'string') {
    for (const msg of isValidPortName(port)) errors.invalid(path, port, msg);
  } else {
    errors.invalid(path, 0, inclusiveRangeError(1, 65535));
  }
}

function validateContainerPorts(errors: FieldErrors, list: unknown, path: string): void {
  const names = new Set<string>();
  objectsOf(list).forEach((port, i) => {
    const portPath = index(path, i);
    const name = stringOf(port.name);
    if (name) {
      const problems = isValidPortName(name);
      for (const msg of problems) errors.invalid(child(portPath, 'name'), name, msg);
      if (problems.length === 0) {
        if (names.has(name)) errors.duplicate(child(portPath, 'name'), name);
        else names.add(name);
      }
    }
    if (port.containerPort === undefined || port.containerPort === null || port.containerPort === 0) {
      errors.required(child(portPath, 'containerPort'));
    } else if (isInteger(port.containerPort, child(portPath, 'containerPort'), errors)) {
      for (const msg of isValidPortNum(port.containerPort)) errors.invalid(child(portPath, 'containerPort'), port.containerPort, msg);
    }
    if (port.hostPort !== undefined && port.hostPort !== null && port.hostPort !== 0 && isInteger(port.hostPort, child(portPath, 'hostPort'), errors)) {
      for (const msg of isValidPortNum(port.hostPort)) errors.invalid(child(portPath, 'hostPort'), port.hostPort, msg);
    }
    validateChoice(errors, port.protocol, child(portPath, 'protocol'), ['SCTP', 'TCP', 'UDP']);
  });
}

/** Host ports may not collide (protocol, host IP and port) across the given containers. */
function checkHostPortConflicts(errors: FieldErrors, containers: JsonObject[], path: string): void {
  const seen = new Set<string>();
  containers.forEach((container, ci) => {
    objectsOf(container.ports).forEach((port, pi) => {
      if (!port.hostPort) return;
      const id = `${stringOf(port.protocol)}/${stringOf(port.hostIP)}/${String(port.hostPort)}`;
      if (seen.has(id)) errors.duplicate(child(index(child(index(path, ci), 'ports'), pi), 'hostPort'), id);
      else seen.add(id);
    });
  });
}

function validateHostNetworkPorts(errors: FieldErrors, spec: JsonObject, path: string, opts: PodSpecOptions): void {
  if (spec.hostNetwork !== true) return;
  objectsOf(spec.containers).forEach((container, i) => {
    objectsOf(container.ports).forEach((port, j) => {
      const hostPort = typeof port.hostPort === 'number' ? port.hostPort : 0;
      if ((opts.isPod || hostPort !== 0) && hostPort !== port.containerPort) {
        errors.invalid(child(index(child(index(child(path, 'containers'), i), 'ports'), j), 'hostPort'), hostPort, 'must match `containerPort` when `hostNetwork` is true');
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

function validateEnv(errors: FieldErrors, list: unknown, path: string): void {
  objectsOf(list).forEach((env, i) => {
    const envPath = index(path, i);
    const name = stringOf(env.name);
    if (!name) errors.required(child(envPath, 'name'));
    else for (const msg of isRelaxedEnvVarName(name)) errors.invalid(child(envPath, 'name'), name, msg);
    const valueFrom = asObject(env.valueFrom);
    if (valueFrom) validateEnvVarSource(errors, valueFrom, stringOf(env.value), child(envPath, 'valueFrom'));
  });
}

function validateEnvVarSource(errors: FieldErrors, source: JsonObject, value: string, path: string): void {
  let sources = 0;
  const fieldRef = asObject(source.fieldRef);
  if (fieldRef) {
    sources++;
    validateFieldRef(errors, fieldRef, child(path, 'fieldRef'), ENV_FIELD_PATHS);
  }
  const resourceFieldRef = asObject(source.resourceFieldRef);
  if (resourceFieldRef) {
    sources++;
    const resource = stringOf(resourceFieldRef.resource);
    if (!resource) errors.required(child(path, 'resourceFieldRef', 'resource'));
    else if (!RESOURCE_FIELD_PATHS.includes(resource) && !/^(requests|limits)\.hugepages-/.test(resource)) {
      errors.notSupported(child(path, 'resourceFieldRef', 'resource'), resource, RESOURCE_FIELD_PATHS);
    }
  }
  for (const refKind of ['configMapKeyRef', 'secretKeyRef']) {
    const ref = asObject(source[refKind]);
    if (!ref) continue;
    sources++;
    const refPath = child(path, refKind);
    const name = stringOf(ref.name);
    for (const msg of nameIsDnsSubdomain(name, false)) errors.invalid(child(refPath, 'name'), name, msg);
    const refKey = stringOf(ref.key);
    if (!refKey) errors.required(child(refPath, 'key'));
    else for (const msg of isConfigMapKey(refKey)) errors.invalid(child(refPath, 'key'), refKey, msg);
  }
  if (sources === 0) {
    errors.invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
  } else if (value) {
    errors.invalid(path, '', 'may not be specified when `value` is not empty');
  } else if (sources > 1) {
    errors.invalid(path, '', 'may not have more than one field specified at a time');
  }
}

function validateFieldRef(errors: FieldErrors, ref: JsonObject, path: string, supported: readonly string[]): void {
  const apiVersion = stringOf(ref.apiVersion);
  const fieldPath = stringOf(ref.fieldPath);
  if (!apiVersion) {
    errors.required(child(path, 'apiVersion'));
    return;
  }
  if (!fieldPath) {
    errors.required(child(path, 'fieldPath'));
    return;
  }
  if (apiVersion !== 'v1') {
    errors.invalid(child(path, 'fieldPath'), fieldPath, `error converting fieldPath: unsupported pod version: ${apiVersion}`);
    return;
  }
  const subscripted = /^([^[]+)\['(.*)'\]$/.exec(fieldPath);
  if (subscripted) {
    const base = subscripted[1]!;
    const subscript = subscripted[2]!;
    if (base === 'metadata.labels' || base === 'metadata.annotations') {
      const name = base === 'metadata.annotations' ? subscript.toLowerCase() : subscript;
      for (const msg of isQualifiedName(name)) errors.invalid(path, name, msg);
    } else {
      errors.invalid(child(path, 'fieldPath'), fieldPath, `error converting fieldPath: field label does not support subscript: ${fieldPath}`);
    }
    return;
  }
  const converted = fieldPath === 'spec.host' ? 'spec.nodeName' : fieldPath;
  if (!DOWNWARD_API_LABELS.has(converted)) {
    errors.invalid(child(path, 'fieldPath'), fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`);
  } else if (!supported.includes(converted)) {
    errors.notSupported(child(path, 'fieldPath'), converted, supported);
  }
}

function validateEnvFrom(errors: FieldErrors, list: unknown, path: string): void {
  objectsOf(list).forEach((source, i) => {
    const sourcePath = index(path, i);
    const prefix = stringOf(source.prefix);
    if (prefix) for (const msg of isRelaxedEnvVarName(prefix)) errors.invalid(child(sourcePath, 'prefix'), prefix, msg);
    let count = 0;
    for (const refKind of ['configMapRef', 'secretRef']) {
      const ref = asObject(source[refKind]);
      if (!ref) continue;
      count++;
      const name = stringOf(ref.name);
      if (!name) errors.required(child(sourcePath, refKind, 'name'));
      else for (const msg of nameIsDnsSubdomain(name, true)) errors.invalid(child(sourcePath, refKind, 'name'), name, msg);
    }
    if (count === 0) errors.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`');
    else if (count > 1) errors.invalid(path, '', 'may not have more than one field specified at a time');
  });
}

// ---------------------------------------------------------------------------------------------
// Volumes and mounts
// ---------------------------------------------------------------------------------------------

/** The valid volumes by name; errors for the others. */
function validateVolumes(errors: FieldErrors, list: unknown, path: string): Map<string, JsonObject> {
  const volumes = new Map<string, JsonObject>();
  objectsOf(list).forEach((volume, i) => {
    const volumePath = index(path, i);
    const before = errors.size;
    validateVolumeSource(errors, volume, volumePath);
    const name = stringOf(volume.name);
    if (!name) errors.required(child(volumePath, 'name'));
    else for (const msg of isDns1123Label(name)) errors.invalid(child(volumePath, 'name'), name, msg);
    if (volumes.has(name)) errors.duplicate(child(volumePath, 'name'), name);
    if (errors.size === before) volumes.set(name, volume);
  });
  return volumes;
}

function validateVolumeSource(errors: FieldErrors, volume: JsonObject, path: string): void {
  let count = 0;
  for (const source of VOLUME_SOURCES) {
    const value = volume[source];
    if (value === undefined || value === null) continue;
    if (count > 0) {
      // Kubernetes misspells this one path.
      errors.forbidden(child(path, source === 'downwardAPI' ? 'downwarAPI' : source), 'may not specify more than 1 volume type');
      continue;
    }
    count++;
    const body = asObject(value) ?? {};
    const sourcePath = child(path, source);
    switch (source) {
      case 'hostPath':
        if (!stringOf(body.path)) {
          errors.required(child(sourcePath, 'path'));
          break;
        }
        validateNoBacksteps(errors, stringOf(body.path), child(sourcePath, 'path'));
        if (body.type !== undefined && body.type !== null && !HOST_PATH_TYPES.includes(stringOf(body.type))) {
          errors.notSupported(child(sourcePath, 'type'), body.type, HOST_PATH_TYPES);
        }
        break;
      case 'emptyDir':
        if (body.sizeLimit !== undefined && body.sizeLimit !== null) {
          const problem = quantityProblem(body.sizeLimit);
          if (problem) errors.invalid(child(sourcePath, 'sizeLimit'), body.sizeLimit, problem);
          else if (parseQuantityExact(body.sizeLimit as string | number).nanos < 0n) {
            errors.forbidden(child(sourcePath, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity');
          }
        }
        break;
      case 'secret':
        if (!stringOf(body.secretName)) errors.required(child(sourcePath, 'secretName'));
        validateFileModes(errors, body, sourcePath);
        break;
      case 'configMap':
        if (!stringOf(body.name)) errors.required(child(sourcePath, 'name'));
        validateFileModes(errors, body, sourcePath);
        break;
      case 'persistentVolumeClaim':
        if (!stringOf(body.claimName)) errors.required(child(sourcePath, 'claimName'));
        break;
      case 'nfs':
        if (!stringOf(body.server)) errors.required(child(sourcePath, 'server'));
        if (!stringOf(body.path)) errors.required(child(sourcePath, 'path'));
        if (!stringOf(body.path).startsWith('/')) errors.invalid(child(sourcePath, 'path'), stringOf(body.path), 'must be an absolute path');
        break;
      case 'downwardAPI':
      case 'projected':
        validateDefaultMode(errors, body.defaultMode, child(sourcePath, 'defaultMode'));
        break;
      default:
        break;
    }
  }
  if (count === 0) errors.required(path, 'must specify a volume type');
}

function validateFileModes(errors: FieldErrors, body: JsonObject, path: string): void {
  validateDefaultMode(errors, body.defaultMode, child(path, 'defaultMode'));
  objectsOf(body.items).forEach((item, i) => {
    const itemPath = index(child(path, 'items'), i);
    if (!stringOf(item.key)) errors.required(child(itemPath, 'key'));
    const target = stringOf(item.path);
    if (!target) errors.required(child(itemPath, 'path'));
    validateLocalDescendingPath(errors, target, child(itemPath, 'path'));
    if (target.startsWith('..') && !target.startsWith('../')) errors.invalid(child(itemPath, 'path'), target, "must not start with '..'");
    validateDefaultMode(errors, item.mode, child(itemPath, 'mode'));
  });
}

function validateDefaultMode(errors: FieldErrors, mode: unknown, path: string): void {
  if (mode === undefined || mode === null) return;
  if (typeof mode !== 'number' || mode < 0 || mode > 0o777) errors.invalid(path, mode, FILE_MODE_ERROR);
}

function validateVolumeMounts(errors: FieldErrors, list: unknown, path: string, volumes: Map<string, JsonObject>): void {
  const mountPaths = new Set<string>();
  objectsOf(list).forEach((mount, i) => {
    const mountPath = index(path, i);
    const name = stringOf(mount.name);
    if (!name) errors.required(child(mountPath, 'name'));
    if (!volumes.has(name)) errors.notFound(child(mountPath, 'name'), name);
    const target = stringOf(mount.mountPath);
    if (!target) errors.required(child(mountPath, 'mountPath'));
    if (mountPaths.has(target)) errors.invalid(child(mountPath, 'mountPath'), target, 'must be unique');
    mountPaths.add(target);
    // Kubernetes reports subPath problems on the list, not the item.
    const subPath = stringOf(mount.subPath);
    if (subPath) validateLocalDescendingPath(errors, subPath, child(path, 'subPath'));
    const subPathExpr = stringOf(mount.subPathExpr);
    if (subPathExpr) {
      if (subPath) errors.invalid(child(mountPath, 'subPathExpr'), subPathExpr, 'subPathExpr and subPath are mutually exclusive');
      validateLocalDescendingPath(errors, subPathExpr, child(path, 'subPathExpr'));
    }
  });
}

function validateLocalDescendingPath(errors: FieldErrors, target: string, path: string): void {
  if (target.startsWith('/')) errors.invalid(path, target, 'must be a relative path');
  validateNoBacksteps(errors, target, path);
}

function validateNoBacksteps(errors: FieldErrors, target: string, path: string): void {
  if (target.split('/').includes('..')) errors.invalid(path, target, "must not contain '..'");
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

/** ValidateContainerResourceRequirements: names, quantities, requests within limits. */
function validateResources(errors: FieldErrors, resourcesValue: unknown, path: string): void {
  const resources = asObject(resourcesValue);
  if (!resources) return;
  const limitsPath = child(path, 'limits');
  const requestsPath = child(path, 'requests');
  const limits = parseResourceList(errors, resources.limits, limitsPath);
  const requests = parseResourceList(errors, resources.requests, requestsPath);
  for (const [name, q] of limits) {
    validateContainerResourceName(errors, name, key(limitsPath, name));
    validateResourceQuantityValue(errors, name, q, key(limitsPath, name));
  }
  for (const [name, q] of requests) {
    validateContainerResourceName(errors, name, key(requestsPath, name));
    validateResourceQuantityValue(errors, name, q, key(requestsPath, name));
    const limit = limits.get(name);
    if (limit) {
      if (compareQuantities(q, limit) !== 0 && !overcommitAllowed(name)) {
        errors.invalid(requestsPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(limit)}`);
      } else if (compareQuantities(q, limit) > 0) {
        errors.invalid(requestsPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`);
      }
    } else if (!overcommitAllowed(name)) {
      errors.required(limitsPath, 'Limit must be set for non overcommitable resources');
    }
  }
}

function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

function overcommitAllowed(name: string): boolean {
  return isNativeResource(name) && !name.startsWith('hugepages-');
}

function validateContainerResourceName(errors: FieldErrors, name: string, path: string): void {
  for (const msg of isQualifiedName(name)) errors.invalid(path, name, msg);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith('hugepages-')) errors.invalid(path, name, 'must be a standard resource for containers');
  } else if (!isNativeResource(name) && isQualifiedName(`requests.${name}`).length > 0) {
    errors.invalid(path, name, "doesn't follow extended resource name standard");
  }
}

/** ValidateResourceQuantityValue: not negative; whole numbers for extended resources. */
function validateResourceQuantityValue(errors: FieldErrors, name: string, q: Quantity, path: string): void {
  validateNonNegativeQuantity(errors, q, path);
  if (!isNativeResource(name) && q.nanos % 1_000_000_000n !== 0n) errors.invalid(path, new GoValue(formatQuantity(q)), 'must be an integer');
}

// ---------------------------------------------------------------------------------------------
// Scheduling
// ---------------------------------------------------------------------------------------------

export function validateTolerations(errors: FieldErrors, list: unknown, path: string): void {
  objectsOf(list).forEach((toleration, i) => {
    const tolerationPath = index(path, i);
    const tolerationKey = stringOf(toleration.key);
    const operator = stringOf(toleration.operator);
    const effect = stringOf(toleration.effect);
    const value = stringOf(toleration.value);
    if (tolerationKey) for (const msg of isQualifiedName(tolerationKey)) errors.invalid(child(tolerationPath, 'key'), tolerationKey, msg);
    if (!tolerationKey && operator !== 'Exists') {
      errors.invalid(child(tolerationPath, 'operator'), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"');
    }
    if (toleration.tolerationSeconds !== undefined && toleration.tolerationSeconds !== null && effect !== 'NoExecute') {
      errors.invalid(child(tolerationPath, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    if (operator === 'Equal' || operator === '') {
      const problems = isValidLabelValue(value);
      if (problems.length > 0) errors.invalid(child(tolerationPath, 'operator'), value, problems.join(';'));
    } else if (operator === 'Exists') {
      if (value) errors.invalid(child(tolerationPath, 'operator'), value, "value must be empty when `operator` is 'Exists'");
    } else {
      errors.notSupported(child(tolerationPath, 'operator'), operator, ['Equal', 'Exists']);
    }
    if (effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
      errors.notSupported(child(tolerationPath, 'effect'), effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
    }
  });
}

function validateDnsConfig(errors: FieldErrors, spec: JsonObject, path: string): void {
  const config = asObject(spec.dnsConfig);
  if (spec.dnsPolicy === 'None') {
    if (!config) {
      errors.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None');
      return;
    }
    if (!Array.isArray(config.nameservers) || config.nameservers.length === 0) {
      errors.required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None');
      return;
    }
  }
  if (!config) return;
  const nameservers = Array.isArray(config.nameservers) ? config.nameservers : [];
  if (nameservers.length > 3) errors.invalid(child(path, 'nameservers'), nameservers, 'must not have more than 3 nameservers');
  nameservers.forEach((ns, i) => {
    if (typeof ns !== 'string' || !isValidIp(ns)) errors.invalid(index(child(path, 'nameservers'), i), ns, IP_ERROR);
  });
  const searches = Array.isArray(config.searches) ? config.searches : [];
  if (searches.length > 32) errors.invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths');
  searches.forEach((search, i) => {
    const text = stringOf(search);
    if (text === '.') return;
    const trimmed = text.endsWith('.') ? text.slice(0, -1) : text;
    // Relaxed DNS search validation (on by default since 1.32): underscores allowed.
    for (const msg of isDns1123Subdomain(trimmed.replace(/_/g, 'a'))) errors.invalid(index(child(path, 'searches'), i), trimmed, msg);
  });
}

/** A required enumeration: empty is Required, anything else outside the list NotSupported. */
function validateChoice(errors: FieldErrors, value: unknown, path: string, supported: readonly string[]): void {
  if (value === undefined || value === null || value === '') errors.required(path);
  else if (typeof value !== 'string' || !supported.includes(value)) errors.notSupported(path, value, supported);
}

// ---------------------------------------------------------------------------------------------
// Pod updates
// ---------------------------------------------------------------------------------------------

/**
 * ValidatePodUpdate: a Pod's spec stays as created, except container images, a shorter
 * activeDeadlineSeconds, added tolerations (and their tolerationSeconds) and removed
 * scheduling gates.
 */
export function validatePodUpdate(errors: FieldErrors, newSpecValue: unknown, oldSpecValue: unknown): void {
  const newSpec = asObject(newSpecValue) ?? {};
  const oldSpec = asObject(oldSpecValue) ?? {};
  for (const list of ['containers', 'initContainers'] as const) {
    const newContainers = objectsOf(newSpec[list]);
    const oldContainers = objectsOf(oldSpec[list]);
    if (newContainers.length !== oldContainers.length) {
      errors.forbidden(child('spec', list), 'pod updates may not add or remove containers');
      return;
    }
    newContainers.forEach((container, i) => {
      const image = stringOf(container.image);
      if (!image) errors.required(child(index(child('spec', list), i), 'image'));
      if (image !== image.trim()) errors.invalid(child(index(child('spec', list), i), 'image'), image, 'must not have leading or trailing whitespace');
    });
  }

  const newDeadline = newSpec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (typeof newDeadline === 'number') {
    if (newDeadline < 0 || newDeadline > MAX_INT32) {
      errors.invalid('spec.activeDeadlineSeconds', newDeadline, inclusiveRangeError(0, MAX_INT32));
      return;
    }
    if (typeof oldDeadline === 'number' && oldDeadline < newDeadline) {
      errors.invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value');
      return;
    }
  } else if (typeof oldDeadline === 'number') {
    errors.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value');
  }

  const oldTolerations = objectsOf(oldSpec.tolerations);
  const newTolerations = objectsOf(newSpec.tolerations);
  const kept = oldTolerations.every((old) =>
    newTolerations.some((candidate) => jsonEqual({ ...old, tolerationSeconds: candidate.tolerationSeconds }, candidate)),
  );
  if (!kept) errors.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds');

  const oldGates = new Set(objectsOf(oldSpec.schedulingGates).map((g) => stringOf(g.name)));
  objectsOf(newSpec.schedulingGates).forEach((gate, i) => {
    const name = stringOf(gate.name);
    if (!oldGates.has(name)) errors.forbidden(child(index('spec.schedulingGates', i), 'name'), `only deletion is allowed, but found new scheduling gate '${name}'`);
  });

  if (jsonEqual(newSpec, oldSpec)) return;
  // Put back what may change, then anything still different is a forbidden change.
  const munged: JsonObject = structuredClone(newSpec);
  for (const list of ['containers', 'initContainers'] as const) {
    const oldContainers = objectsOf(oldSpec[list]);
    objectsOf(munged[list]).forEach((container, i) => {
      container.image = oldContainers[i]?.image;
    });
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.tolerations = oldSpec.tolerations;
  munged.schedulingGates = oldSpec.schedulingGates;
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if (!jsonEqual(munged, oldSpec)) {
    errors.forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${describeChanges(oldSpec, munged, 'spec')}`);
  }
}

const MAX_CHANGE_LINES = 20;

/** What changed, one `-`/`+` pair per differing field (Kubernetes prints a Go diff here). */
export function describeChanges(before: unknown, after: unknown, path: string): string {
  const lines: string[] = [];
  collectChanges(before, after, path, lines);
  if (lines.length > MAX_CHANGE_LINES) return [...lines.slice(0, MAX_CHANGE_LINES), `  ... ${lines.length - MAX_CHANGE_LINES} more`].join('\n');
  return lines.join('\n');
}

function collectChanges(before: unknown, after: unknown, path: string, lines: string[]): void {
  if (jsonEqual(before, after)) return;
  if (isJsonObject(before) && isJsonObject(after)) {
    for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) collectChanges(before[k], after[k], child(path, k), lines);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, i) => collectChanges(item, after[i], index(path, i), lines));
    return;
  }
  if (before !== undefined) lines.push(`- ${path}: ${renderValue(before)}`);
  if (after !== undefined) lines.push(`+ ${path}: ${renderValue(after)}`);
}

