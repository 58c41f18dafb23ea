/**
 * Kubernetes' defaulting, so an object read back looks as it would on a real cluster: the
 * v1/apps/v1/batch/v1 SetDefaults_* functions, the admission plugins every cluster runs on
 * pods (ServiceAccount, Priority, DefaultTolerationSeconds), the conversions that reshape a
 * body on the way in (Secret stringData, Service clusterIPs), and quantities in canonical form.
 * Mutates the object in place; never removes what a client set, and leaves invalid values for
 * validation to report.
 */
import { isJsonObject, type JsonObject } from './json-value.js';
import { CONTAINER_LISTS, VOLUME_SOURCES, asObject, getPath, objectsOf, podTemplatePath, stringOf } from './pod-spec.js';
import { canonicalQuantity } from './quantity.js';
import type { KubeObject } from './strategy.js';

const DEFAULT_FILE_MODE = 0o644;
/** kube-apiserver's --default-{not-ready,unreachable}-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 300;

export interface DefaultsOptions {
  /** tolerationSeconds of the not-ready/unreachable tolerations every pod gets (labs shorten it). */
  defaultTolerationSeconds?: number;
}
const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
/** The built-in PriorityClasses every cluster has. */
const SYSTEM_PRIORITIES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

export function applyDefaults(kind: string, obj: KubeObject, opts: DefaultsOptions = {}): void {
  switch (kind) {
    case 'Pod':
      defaultPod(obj, opts.defaultTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS);
      return;
    case 'Deployment':
      defaultDeployment(obj);
      break;
    case 'ReplicaSet':
      setIfUnset(specOf(obj), 'replicas', 1);
      break;
    case 'DaemonSet':
      defaultDaemonSet(obj);
      break;
    case 'Job':
      defaultJob(obj);
      break;
    case 'CronJob':
      defaultCronJob(obj);
      break;
    case 'Service':
      defaultService(obj);
      return;
    case 'Endpoints':
      for (const subset of objectsOf(obj.subsets)) for (const port of objectsOf(subset.ports)) setIfEmpty(port, 'protocol', 'TCP');
      return;
    case 'Secret':
      defaultSecret(obj);
      return;
    case 'Namespace':
      defaultNamespace(obj);
      return;
    case 'Node':
      defaultNode(obj);
      return;
    default:
      return;
  }
  const templatePath = podTemplatePath(kind);
  if (templatePath) {
    const template = ensureObjectAt(obj, templatePath);
    if (!template) return;
    defaultPodSpec(ensureObject(template, 'spec'));
    // `kubectl create` sends `creationTimestamp: null` in templates; dropping it keeps a
    // Deployment's template equal to its ReplicaSets' whoever wrote them.
    const metadata = asObject(template.metadata);
    if (metadata && metadata.creationTimestamp === null) delete metadata.creationTimestamp;
  }
}

// ---------------------------------------------------------------------------------------------
// Pods and pod templates
// ---------------------------------------------------------------------------------------------

function defaultPod(pod: KubeObject, tolerationSeconds: number): void {
  const spec = specOf(pod);
  if (!spec) return;
  defaultPodSpec(spec);
  // SetDefaults_Pod: only a Pod, never a template.
  setIfUnset(spec, 'enableServiceLinks', true);
  for (const list of ['containers', 'initContainers'] as const) {
    for (const container of objectsOf(spec[list])) copyLimitsToRequests(container);
  }
  if (spec.hostNetwork === true) {
    for (const list of ['containers', 'initContainers'] as const) {
      for (const container of objectsOf(spec[list])) {
        for (const port of objectsOf(container.ports)) {
          if (!port.hostPort && typeof port.containerPort === 'number') port.hostPort = port.containerPort;
        }
      }
    }
  }
  // Admission plugins on pod create: ServiceAccount, Priority, DefaultTolerationSeconds.
  if (!stringOf(spec.serviceAccountName)) {
    spec.serviceAccountName = 'default';
    spec.serviceAccount = 'default';
  }
  const priorityClass = stringOf(spec.priorityClassName);
  if (spec.priority === undefined) {
    if (!priorityClass) spec.priority = 0;
    else if (SYSTEM_PRIORITIES[priorityClass] !== undefined) spec.priority = SYSTEM_PRIORITIES[priorityClass];
  }
  setIfEmpty(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  addDefaultTolerations(spec, tolerationSeconds);
}

/** SetDefaults_PodSpec and what it reaches: applies to Pods and pod templates alike. */
function defaultPodSpec(spec: JsonObject): void {
  setIfEmpty(spec, 'dnsPolicy', 'ClusterFirst');
  setIfEmpty(spec, 'restartPolicy', 'Always');
  if (spec.securityContext === undefined || spec.securityContext === null) spec.securityContext = {};
  setIfUnset(spec, 'terminationGracePeriodSeconds', 30);
  setIfEmpty(spec, 'schedulerName', 'default-scheduler');
  // v1 conversion keeps the deprecated serviceAccount field in step with serviceAccountName.
  const serviceAccount = stringOf(spec.serviceAccountName) || stringOf(spec.serviceAccount);
  if (serviceAccount) {
    spec.serviceAccountName = serviceAccount;
    spec.serviceAccount = serviceAccount;
  }
  for (const list of CONTAINER_LISTS) for (const container of objectsOf(spec[list])) defaultContainer(container);
  for (const volume of objectsOf(spec.volumes)) defaultVolume(volume);
  canonicalizeQuantities(spec.overhead);
}

function defaultContainer(container: JsonObject): void {
  if (!stringOf(container.imagePullPolicy)) {
    container.imagePullPolicy = imageTag(stringOf(container.image)) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  setIfEmpty(container, 'terminationMessagePath', '/dev/termination-log');
  setIfEmpty(container, 'terminationMessagePolicy', 'File');
  for (const port of objectsOf(container.ports)) setIfEmpty(port, 'protocol', 'TCP');
  if (container.resources === undefined || container.resources === null) container.resources = {};
  const resources = asObject(container.resources);
  if (resources) {
    canonicalizeQuantities(resources.limits);
    canonicalizeQuantities(resources.requests);
  }
  for (const probeName of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = asObject(container[probeName]);
    if (!probe) continue;
    setIfZero(probe, 'timeoutSeconds', 1);
    setIfZero(probe, 'periodSeconds', 10);
    setIfZero(probe, 'successThreshold', 1);
    setIfZero(probe, 'failureThreshold', 3);
    defaultHandler(probe);
  }
  const lifecycle = asObject(container.lifecycle);
  if (lifecycle) {
    for (const hook of ['postStart', 'preStop']) {
      const handler = asObject(lifecycle[hook]);
      if (handler) defaultHandler(handler);
    }
  }
  for (const env of objectsOf(container.env)) {
    const valueFrom = asObject(env.valueFrom);
    if (!valueFrom) continue;
    const fieldRef = asObject(valueFrom.fieldRef);
    if (fieldRef) setIfEmpty(fieldRef, 'apiVersion', 'v1');
    const resourceFieldRef = asObject(valueFrom.resourceFieldRef);
    if (resourceFieldRef) defaultResourceFieldRef(resourceFieldRef);
  }
}

function defaultHandler(handler: JsonObject): void {
  const httpGet = asObject(handler.httpGet);
  if (httpGet) {
    setIfEmpty(httpGet, 'path', '/');
    setIfEmpty(httpGet, 'scheme', 'HTTP');
  }
  const grpc = asObject(handler.grpc);
  if (grpc && (grpc.service === undefined || grpc.service === null)) grpc.service = '';
}

function defaultResourceFieldRef(ref: JsonObject): void {
  // A zero Quantity still serializes: Kubernetes shows `divisor: "0"`.
  if (ref.divisor === undefined || ref.divisor === null) ref.divisor = '0';
  else ref.divisor = canonicalQuantity(ref.divisor) ?? ref.divisor;
}

function defaultVolume(volume: JsonObject): void {
  if (!VOLUME_SOURCES.some((source) => volume[source] !== undefined && volume[source] !== null)) volume.emptyDir = {};
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const body = asObject(volume[source]);
    if (body) setIfUnset(body, 'defaultMode', DEFAULT_FILE_MODE);
  }
  const hostPath = asObject(volume.hostPath);
  if (hostPath) setIfUnset(hostPath, 'type', '');
  const emptyDir = asObject(volume.emptyDir);
  if (emptyDir && emptyDir.sizeLimit !== undefined) emptyDir.sizeLimit = canonicalQuantity(emptyDir.sizeLimit) ?? emptyDir.sizeLimit;
  for (const item of objectsOf(asObject(volume.downwardAPI)?.items)) defaultDownwardApiItem(item);
  for (const projection of objectsOf(asObject(volume.projected)?.sources)) {
    const token = asObject(projection.serviceAccountToken);
    if (token) setIfUnset(token, 'expirationSeconds', 3600);
    for (const item of objectsOf(asObject(projection.downwardAPI)?.items)) defaultDownwardApiItem(item);
  }
}

function defaultDownwardApiItem(item: JsonObject): void {
  const fieldRef = asObject(item.fieldRef);
  if (fieldRef) setIfEmpty(fieldRef, 'apiVersion', 'v1');
  const resourceFieldRef = asObject(item.resourceFieldRef);
  if (resourceFieldRef) defaultResourceFieldRef(resourceFieldRef);
}

/** A Pod's container asking limits only gets the same requests (only on Pods, as in Kubernetes). */
function copyLimitsToRequests(container: JsonObject): void {
  const resources = asObject(container.resources);
  const limits = asObject(resources?.limits);
  if (!resources || !limits) return;
  const requests = asObject(resources.requests) ?? {};
  for (const [name, value] of Object.entries(limits)) if (requests[name] === undefined) requests[name] = value;
  resources.requests = requests;
}

/** DefaultTolerationSeconds: pods ride out a node's short unavailability (five minutes in kube). */
function addDefaultTolerations(spec: JsonObject, tolerationSeconds: number): void {
  const tolerations = objectsOf(spec.tolerations);
  const tolerates = (taint: string) =>
    tolerations.some((t) => (stringOf(t.key) === taint || !stringOf(t.key)) && (stringOf(t.effect) === 'NoExecute' || !stringOf(t.effect)));
  const added: JsonObject[] = [];
  for (const taint of [NOT_READY_TAINT, UNREACHABLE_TAINT]) {
    if (!tolerates(taint)) added.push({ key: taint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds });
  }
  if (added.length === 0) return;
  spec.tolerations = [...(Array.isArray(spec.tolerations) ? spec.tolerations : []), ...added];
}

/**
 * The tag of an image reference as Kubernetes' parser sees it: `latest` when none is given,
 * '' when the image is pinned by digest only (or is not a valid reference).
 */
export function imageTag(image: string): string {
  if (image === '' || /\s/.test(image)) return '';
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const tag = colon > lastSlash ? name.slice(colon + 1) : '';
  const repository = colon > lastSlash ? name.slice(0, colon) : name;
  // A first component that looks like a host (dots, a port, localhost, capitals) is the
  // registry; the repository path after it must be lower case.
  const slash = repository.indexOf('/');
  const first = slash >= 0 ? repository.slice(0, slash) : '';
  const isRegistry = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  const path = isRegistry ? repository.slice(slash + 1) : repository;
  if (path === '' || path !== path.toLowerCase()) return '';
  if (tag) return tag;
  return at >= 0 ? '' : 'latest';
}

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

function defaultDeployment(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec) return;
  setIfUnset(spec, 'replicas', 1);
  const strategy = ensureObject(spec, 'strategy');
  setIfEmpty(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = ensureObject(strategy, 'rollingUpdate');
    setIfUnset(rollingUpdate, 'maxUnavailable', '25%');
    setIfUnset(rollingUpdate, 'maxSurge', '25%');
  }
  setIfUnset(spec, 'revisionHistoryLimit', 10);
  setIfUnset(spec, 'progressDeadlineSeconds', 600);
}

function defaultDaemonSet(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec) return;
  const strategy = ensureObject(spec, 'updateStrategy');
  setIfEmpty(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = ensureObject(strategy, 'rollingUpdate');
    setIfUnset(rollingUpdate, 'maxUnavailable', 1);
    setIfUnset(rollingUpdate, 'maxSurge', 0);
  }
  setIfUnset(spec, 'revisionHistoryLimit', 10);
}

function defaultJob(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec) return;
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  setIfUnset(spec, 'parallelism', 1);
  setIfUnset(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
  setIfEmpty(spec, 'completionMode', 'NonIndexed');
  setIfUnset(spec, 'suspend', false);
  setIfEmpty(spec, 'podReplacementPolicy', spec.podFailurePolicy !== undefined ? 'Failed' : 'TerminatingOrFailed');
  // A Job without labels takes its pods' labels.
  const templateLabels = asObject(getPath(spec, ['template', 'metadata', 'labels']));
  const labels = obj.metadata.labels;
  if (templateLabels && (!labels || Object.keys(labels).length === 0)) obj.metadata.labels = { ...(templateLabels as Record<string, string>) };
}

function defaultCronJob(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec) return;
  setIfEmpty(spec, 'concurrencyPolicy', 'Allow');
  setIfUnset(spec, 'suspend', false);
  setIfUnset(spec, 'successfulJobsHistoryLimit', 3);
  setIfUnset(spec, 'failedJobsHistoryLimit', 1);
}

// ---------------------------------------------------------------------------------------------
// Core kinds
// ---------------------------------------------------------------------------------------------

function defaultService(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec) return;
  setIfEmpty(spec, 'type', 'ClusterIP');
  setIfEmpty(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = getPath(spec, ['sessionAffinityConfig', 'clientIP', 'timeoutSeconds']);
    if (timeout === undefined || timeout === null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  for (const port of objectsOf(spec.ports)) {
    setIfEmpty(port, 'protocol', 'TCP');
    if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '') {
      if (port.port !== undefined) port.targetPort = port.port;
    }
  }
  const type = spec.type;
  const externallyAccessible = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
  if (externallyAccessible) setIfEmpty(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'ClusterIP' || type === 'NodePort' || type === 'LoadBalancer') setIfUnset(spec, 'internalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer') setIfUnset(spec, 'allocateLoadBalancerNodePorts', true);
  // clusterIP and clusterIPs[0] are one value written twice (the service strategy syncs them).
  const clusterIP = stringOf(spec.clusterIP);
  const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  if (clusterIP && clusterIPs.length === 0) spec.clusterIPs = [clusterIP];
  else if (!clusterIP && typeof clusterIPs[0] === 'string' && clusterIPs[0]) spec.clusterIP = clusterIPs[0];
  if (type === 'ExternalName') return;
  // The address family fields the allocation would set; a selectorless headless Service asks
  // for every family the cluster has.
  const selectorless = clusterIP === 'None' && (!isJsonObject(spec.selector) || Object.keys(spec.selector).length === 0);
  setIfUnset(spec, 'ipFamilyPolicy', selectorless ? 'RequireDualStack' : 'SingleStack');
  if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
}

function defaultSecret(obj: KubeObject): void {
  if (typeof obj.type !== 'string' || obj.type === '') obj.type = 'Opaque';
  // v1 conversion: stringData is write-only, merged into data (and wins over it).
  const stringData = asObject(obj.stringData);
  if (stringData) {
    const data = asObject(obj.data) ?? {};
    for (const [key, value] of Object.entries(stringData)) {
      if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
    }
    obj.data = data;
    delete obj.stringData;
  }
}

function defaultNamespace(obj: KubeObject): void {
  const name = obj.metadata.name;
  if (name) obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': name };
  const spec = ensureObject(obj, 'spec');
  if (spec.finalizers === undefined || spec.finalizers === null) spec.finalizers = ['kubernetes'];
}

function defaultNode(obj: KubeObject): void {
  const status = asObject(obj.status);
  if (!status) return;
  canonicalizeQuantities(status.capacity);
  canonicalizeQuantities(status.allocatable);
  if ((status.allocatable === undefined || status.allocatable === null) && isJsonObject(status.capacity)) {
    status.allocatable = { ...status.capacity };
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** obj.spec, created when absent (a Go struct field is never missing); undefined if not an object. */
function specOf(obj: KubeObject): JsonObject | undefined {
  if (obj.spec === undefined || obj.spec === null) obj.spec = {};
  return asObject(obj.spec);
}

function ensureObject(parent: JsonObject, key: string): JsonObject {
  const current = parent[key];
  if (isJsonObject(current)) return current;
  const created: JsonObject = {};
  // A value of the wrong type stays for validation to report; defaults then land nowhere.
  if (current === undefined || current === null) parent[key] = created;
  return created;
}

function ensureObjectAt(root: JsonObject, path: readonly string[]): JsonObject | undefined {
  let current = root;
  for (const key of path) {
    if (current[key] !== undefined && current[key] !== null && !isJsonObject(current[key])) return undefined;
    current = ensureObject(current, key);
  }
  return current;
}

function setIfUnset(target: JsonObject | undefined, key: string, value: unknown): void {
  if (target && (target[key] === undefined || target[key] === null)) target[key] = value;
}

function setIfEmpty(target: JsonObject, key: string, value: string): void {
  if (target[key] === undefined || target[key] === null || target[key] === '') target[key] = value;
}

function setIfZero(target: JsonObject, key: string, value: number): void {
  if (target[key] === undefined || target[key] === null || target[key] === 0) target[key] = value;
}

/** Valid quantities in a resource list take their canonical text, as Kubernetes stores them. */
function canonicalizeQuantities(list: unknown): void {
  if (!isJsonObject(list)) return;
  for (const [name, value] of Object.entries(list)) {
    const canonical = canonicalQuantity(value);
    if (canonical !== undefined) list[name] = canonical;
  }
}
