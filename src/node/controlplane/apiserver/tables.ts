/**
 * `kubectl get` tables (meta.k8s.io Table) for the kinds this server serves: the column sets,
 * cell formats and row conditions of kube-apiserver's printers
 * (kubernetes pkg/printers/internalversion/printers.go, 1.33), so that kubectl prints exactly
 * what it prints against a real cluster. Pure functions: the clock comes in as `now`.
 *
 * Like kube-apiserver, every row carries the wide (priority 1) cells too; kubectl drops them
 * unless asked for `-o wide`.
 */
import type { DaemonSet, Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type {
  ConfigMap,
  Container,
  ContainerStatus,
  Endpoints,
  Event,
  Namespace,
  Node,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { groupVersionOf, resourceForKind } from './resources.js';
import { formatLabelSelector } from './selectors.js';
import type { KubeObject } from './strategy.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  /** 0: always shown; 1: only with `kubectl get -o wide`. */
  priority: number;
}

/** Cells are final values: strings, or numbers and booleans where kube's printers put them. */
export type TableCell = string | number | boolean;

export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  object?: object;
}

export interface TableOptions {
  resourceVersion?: string;
  includeObject: 'None' | 'Metadata' | 'Object';
  now: Date;
  continue?: string;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export function toTable(kind: string, items: KubeObject[], opts: TableOptions): Table {
  const printer = PRINTERS[kind] ?? DEFAULT_PRINTER;
  const now = opts.now.getTime();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      ...(opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {}),
      ...(opts.continue ? { continue: opts.continue } : {}),
    },
    columnDefinitions: printer.columns,
    rows: items.map((obj) => {
      const printed = printer.print(obj, now);
      const object = rowObject(kind, obj, opts.includeObject);
      return {
        cells: printed.cells,
        ...(printed.conditions ? { conditions: printed.conditions } : {}),
        ...(object ? { object } : {}),
      };
    }),
  };
}

/** What a row embeds, as kube-apiserver's `includeObject` asks: metadata only by default. */
function rowObject(kind: string, obj: KubeObject, include: TableOptions['includeObject']): object | undefined {
  switch (include) {
    case 'None':
      return undefined;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    case 'Object': {
      // Items of a list may be stored without their type; the embedded object always has it.
      const res = resourceForKind(kind);
      return { apiVersion: obj.apiVersion ?? (res ? groupVersionOf(res) : undefined), kind: obj.kind ?? kind, ...obj };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Durations and timestamps, as k8s.io/apimachinery/pkg/util/duration.HumanDuration prints them
// ---------------------------------------------------------------------------------------------

/** About two significant figures: 5s, 2m10s, 10m, 3h5m, 2d3h, 45d, 3y10d. */
export function humanDuration(ms: number): string {
  // Go truncates toward zero; a clock up to 2s behind still reads as "0s".
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

function timeOf(timestamp: string | undefined | null): number | undefined {
  if (!timestamp) return undefined;
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? undefined : t;
}

/** kube's translateTimestampSince: age of a timestamp, `<unknown>` without one. */
function since(timestamp: string | undefined | null, now: number): string {
  const t = timeOf(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}

function age(obj: { metadata?: { creationTimestamp?: string } }, now: number): string {
  return since(obj.metadata?.creationTimestamp, now);
}

// ---------------------------------------------------------------------------------------------
// Labels, selectors and containers
// ---------------------------------------------------------------------------------------------

/** labels.FormatLabels: `k=v` pairs sorted as whole strings, `<none>` when empty. */
function formatLabels(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length === 0 ? '<none>' : pairs.sort().join(',');
}

/** metav1.FormatLabelSelector: `<none>` for no or an empty selector, `<error>` for a broken one. */
function formatSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '<none>';
  try {
    return formatLabelSelector(selector) || '<none>';
  } catch {
    return '<error>';
  }
}

function containerCells(containers: Container[] | undefined): [names: string, images: string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

function workloadWideCells(containers: Container[] | undefined, selector: string): TableCell[] {
  return [...containerCells(containers), selector];
}

// ---------------------------------------------------------------------------------------------
// Column definitions, with the descriptions kube-apiserver 1.33 sends (from the API's docs)
// ---------------------------------------------------------------------------------------------

const DOC = {
  name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  creationTimestamp:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  containers: 'Names of each container in the template.',
  images: 'Images referenced by each container in the template.',
  podIP: 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
  podNodeName:
    'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
  nominatedNodeName:
    'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
  readinessGates:
    'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
  nodeSelector:
    "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
  serviceType:
    'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
  clusterIP:
    'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  externalIPs:
    'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
  servicePorts: 'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  serviceSelector:
    'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
  subsets:
    'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
  kubeletVersion: 'Kubelet Version reported by the node.',
  nodeAddresses:
    "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
  osImage: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
  kernelVersion: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
  containerRuntimeVersion: 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
  eventLastTimestamp: 'The time at which the most recent occurrence of this event was recorded.',
  eventType: 'Type of this event (Normal, Warning), new types could be added in the future',
  eventReason: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
  involvedObject: 'The object that this event is about.',
  fieldPath:
    'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
  eventSource: 'The component reporting this event. Should be a short machine understandable string.',
  eventMessage: 'A human-readable description of the status of this operation.',
  eventFirstTimestamp: 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
  eventCount: 'The number of times this event has occurred.',
  secretType: 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
  secretData:
    "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
  serviceAccountSecrets:
    'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
  configMapData:
    "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
  // Deployment, ReplicaSet and DaemonSet columns take their docs from extensions/v1beta1, as kube does.
  deploymentUpdated: 'Total number of non-terminating pods targeted by this deployment that have the desired template spec.',
  deploymentAvailable: 'Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.',
  deploymentSelector: 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
  replicaSetDesired:
    'Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
  replicaSetCurrent: 'Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
  replicaSetReady: 'The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.',
  replicaSetSelector:
    'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  daemonSetDesired:
    'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
  daemonSetCurrent:
    'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
  daemonSetReady: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
  daemonSetUpdated: 'The total number of nodes that are running updated daemon pod',
  daemonSetAvailable:
    'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
  daemonSetSelector:
    'A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  jobSucceeded:
    'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.',
  jobSelector:
    'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  // CronJob columns take their docs from batch/v1beta1, as kube does.
  cronJobSchedule: 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.',
  cronJobTimeZone:
    'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones',
  cronJobSuspend: 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.',
  cronJobActive: 'A list of pointers to currently running jobs.',
  cronJobLastSchedule: 'Information when was the last time the job was successfully scheduled.',
  leaseHolder:
    'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
} as const;

type ColumnType = 'string' | 'integer' | 'boolean' | 'date';

function column(name: string, type: ColumnType, description: string, wide: boolean = false): TableColumnDefinition {
  return { name, type, format: '', description, priority: wide ? 1 : 0 };
}

function wideColumn(name: string, type: ColumnType, description: string): TableColumnDefinition {
  return column(name, type, description, true);
}

const NAME: TableColumnDefinition = { name: 'Name', type: 'string', format: 'name', description: DOC.name, priority: 0 };
const AGE = column('Age', 'string', DOC.creationTimestamp);
const CONTAINERS = wideColumn('Containers', 'string', DOC.containers);
const IMAGES = wideColumn('Images', 'string', DOC.images);

// ---------------------------------------------------------------------------------------------
// Printers: one per kind, the columns and a function from an object to its row
// ---------------------------------------------------------------------------------------------

interface PrintedRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
}

interface Printer {
  columns: TableColumnDefinition[];
  print(obj: KubeObject, now: number): PrintedRow;
}

/** Objects come from storage as JSON of the kind's shape; printers read them through its type. */
function printer<T>(columns: TableColumnDefinition[], print: (obj: T, now: number) => TableCell[] | PrintedRow): Printer {
  return {
    columns,
    print(obj, now) {
      const printed = print(obj as unknown as T, now);
      return Array.isArray(printed) ? { cells: printed } : printed;
    },
  };
}

// --- Pod ---------------------------------------------------------------------------------------

const POD_SUCCEEDED: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const POD_FAILED: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

function later(current: number | undefined, timestamp: string | undefined): number | undefined {
  const t = timeOf(timestamp);
  return t !== undefined && (current === undefined || current < t) ? t : current;
}

function conditionStatus(conditions: Array<{ type: string; status: string }> | undefined, type: string): string | undefined {
  return conditions?.find((c) => c.type === type)?.status;
}

function terminationReason(term: NonNullable<NonNullable<ContainerStatus['state']>['terminated']>): string {
  if (term.reason) return term.reason;
  return term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
}

/** The STATUS, READY and RESTARTS logic of kube's printPod. */
function printPod(pod: Pod, now: number): PrintedRow {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  if (status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initContainers = spec?.initContainers ?? [];
  // Sidecars (init containers that restart always) count as the pod's own containers.
  const sidecars = new Set(initContainers.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const totalContainers = (spec?.containers?.length ?? 0) + sidecars.size;
  let readyContainers = 0;
  let restarts = 0;
  let lastRestart: number | undefined;
  let sidecarRestarts = 0;
  let lastSidecarRestart: number | undefined;

  let initializing = false;
  for (const [index, cs] of (status.initContainerStatuses ?? []).entries()) {
    const finishedAt = cs.lastState?.terminated?.finishedAt;
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, finishedAt);
    const isSidecar = sidecars.has(cs.name);
    if (isSidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, finishedAt);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (isSidecar && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      reason = `Init:${terminationReason(terminated)}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${index}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionStatus(status.conditions, 'Initialized') === 'True') {
    // Once initialized, only sidecar restarts are counted alongside the containers'.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // From last to first, so that the first container's state wins.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated) reason = terminationReason(terminated);
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose first container completed while another still runs is not "Completed".
    if (reason === 'Completed' && hasRunning) {
      reason = conditionStatus(status.conditions, 'Ready') === 'True' ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsCell = restarts !== 0 && lastRestart !== undefined ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);

  const gates = spec?.readinessGates ?? [];
  const readinessGates =
    gates.length === 0 ? '<none>' : `${gates.filter((g) => conditionStatus(status.conditions, g.conditionType) === 'True').length}/${gates.length}`;

  const cells: TableCell[] = [
    pod.metadata?.name ?? '',
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsCell,
    age(pod, now),
    // The legacy podIP field is authoritative over podIPs, as in kube's conversion.
    status.podIP || status.podIPs?.[0]?.ip || '<none>',
    spec?.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    readinessGates,
  ];
  const conditions = phase === 'Succeeded' ? POD_SUCCEEDED : phase === 'Failed' ? POD_FAILED : undefined;
  return conditions ? { cells, conditions } : { cells };
}

const POD = printer<Pod>(
  [
    NAME,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    wideColumn('IP', 'string', DOC.podIP),
    wideColumn('Node', 'string', DOC.podNodeName),
    wideColumn('Nominated Node', 'string', DOC.nominatedNodeName),
    wideColumn('Readiness Gates', 'string', DOC.readinessGates),
  ],
  printPod,
);

// --- Node --------------------------------------------------------------------------------------

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (key.startsWith(ROLE_LABEL_PREFIX)) {
      const role = key.slice(ROLE_LABEL_PREFIX.length);
      if (role) roles.add(role);
    } else if (key === LEGACY_ROLE_LABEL && value) {
      roles.add(value);
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function printNode(node: Node, now: number): TableCell[] {
  const status = node.status ?? {};
  // The last Ready condition counts, as kube reads them into a map.
  const ready = status.conditions?.filter((c) => c.type === 'Ready').at(-1);
  const states = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) states.push('SchedulingDisabled');
  const address = (type: string) => status.addresses?.find((a) => a.type === type)?.address ?? '<none>';
  const info = status.nodeInfo;
  return [
    node.metadata?.name ?? '',
    states.join(','),
    nodeRoles(node.metadata?.labels),
    age(node, now),
    info?.kubeletVersion ?? '',
    address('InternalIP'),
    address('ExternalIP'),
    info?.osImage || '<unknown>',
    info?.kernelVersion || '<unknown>',
    info?.containerRuntimeVersion || '<unknown>',
  ];
}

const NODE = printer<Node>(
  [
    NAME,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    AGE,
    column('Version', 'string', DOC.kubeletVersion),
    wideColumn('Internal-IP', 'string', DOC.nodeAddresses),
    wideColumn('External-IP', 'string', DOC.nodeAddresses),
    wideColumn('OS-Image', 'string', DOC.osImage),
    wideColumn('Kernel-Version', 'string', DOC.kernelVersion),
    wideColumn('Container-Runtime', 'string', DOC.containerRuntimeVersion),
  ],
  printNode,
);

// --- Namespace, ConfigMap, Secret, ServiceAccount, Lease -----------------------------------------

const NAMESPACE = printer<Namespace>([NAME, column('Status', 'string', 'The status of the namespace'), AGE], (ns, now) => [
  ns.metadata?.name ?? '',
  ns.status?.phase ?? '',
  age(ns, now),
]);

const CONFIG_MAP = printer<ConfigMap>([NAME, column('Data', 'string', DOC.configMapData), AGE], (cm, now) => [
  cm.metadata?.name ?? '',
  Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
  age(cm, now),
]);

const SECRET = printer<Secret>([NAME, column('Type', 'string', DOC.secretType), column('Data', 'string', DOC.secretData), AGE], (secret, now) => [
  secret.metadata?.name ?? '',
  // kube defaults the type to Opaque on write.
  secret.type || 'Opaque',
  // kube folds stringData into data on write; count both in case it was stored unfolded.
  new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})]).size,
  age(secret, now),
]);

const SERVICE_ACCOUNT = printer<ServiceAccount>([NAME, column('Secrets', 'string', DOC.serviceAccountSecrets), AGE], (sa, now) => [
  sa.metadata?.name ?? '',
  sa.secrets?.length ?? 0,
  age(sa, now),
]);

const LEASE = printer<Lease>([NAME, column('Holder', 'string', DOC.leaseHolder), AGE], (lease, now) => [
  lease.metadata?.name ?? '',
  lease.spec?.holderIdentity ?? '',
  age(lease, now),
]);

// --- Service and Endpoints -----------------------------------------------------------------------

function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const externalIPs = spec.externalIPs ?? [];
  switch (spec.type || 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      // Tables are built wide, so the ingress list is never shortened here.
      const ingress = new Set<string>();
      for (const i of svc.status?.loadBalancer?.ingress ?? []) {
        if (i.ip) ingress.add(i.ip);
        else if (i.hostname) ingress.add(i.hostname);
      }
      const all = [...[...ingress].sort(), ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(svc: Service): string {
  const ports = (svc.spec?.ports ?? []).map((p) => {
    // kube defaults the protocol to TCP on write.
    const protocol = p.protocol || 'TCP';
    return p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
  });
  return ports.length > 0 ? ports.join(',') : '<none>';
}

const SERVICE = printer<Service>(
  [
    NAME,
    column('Type', 'string', DOC.serviceType),
    column('Cluster-IP', 'string', DOC.clusterIP),
    column('External-IP', 'string', DOC.externalIPs),
    column('Port(s)', 'string', DOC.servicePorts),
    AGE,
    wideColumn('Selector', 'string', DOC.serviceSelector),
  ],
  (svc, now) => [
    svc.metadata?.name ?? '',
    // kube defaults the type to ClusterIP on write.
    svc.spec?.type || 'ClusterIP',
    // The legacy clusterIP field is authoritative over clusterIPs, as in kube's conversion.
    svc.spec?.clusterIP || svc.spec?.clusterIPs?.[0] || '<none>',
    serviceExternalIP(svc),
    servicePorts(svc),
    age(svc, now),
    formatLabels(svc.spec?.selector),
  ],
);

const MAX_LISTED_ENDPOINTS = 3;

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** `ip:port` for every ready address and port, the first three of them and "+ N more...". */
function formatEndpoints(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const listed: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    // A headless service may have no ports: its addresses are listed bare.
    const ports = subset.ports && subset.ports.length > 0 ? subset.ports.map((p) => p.port) : [undefined];
    for (const port of ports) {
      count += addresses.length;
      for (const address of addresses) {
        if (listed.length === MAX_LISTED_ENDPOINTS) break;
        listed.push(port === undefined ? address.ip : hostPort(address.ip, port));
      }
    }
  }
  const shown = listed.join(',');
  return count > MAX_LISTED_ENDPOINTS ? `${shown} + ${count - MAX_LISTED_ENDPOINTS} more...` : shown;
}

const ENDPOINTS = printer<Endpoints>([NAME, column('Endpoints', 'string', DOC.subsets), AGE], (ep, now) => [
  ep.metadata?.name ?? '',
  formatEndpoints(ep),
  age(ep, now),
]);

// --- Event ---------------------------------------------------------------------------------------

function printEvent(event: Event, now: number): TableCell[] {
  const firstSeen = timeOf(event.firstTimestamp) !== undefined ? since(event.firstTimestamp, now) : since(event.eventTime, now);
  let lastSeen = timeOf(event.lastTimestamp) !== undefined ? since(event.lastTimestamp, now) : firstSeen;
  let count = event.count ?? 0;
  if (event.series) {
    lastSeen = since(event.series.lastObservedTime, now);
    count = event.series.count ?? 0;
  } else if (count === 0) {
    // Events of the events.k8s.io API that happened once carry no count.
    count = 1;
  }
  const involved = event.involvedObject;
  const kind = (involved?.kind ?? '').toLowerCase();
  const target = involved?.name ? `${kind}/${involved.name}` : kind;
  const component = event.source?.component || event.reportingComponent || '';
  const instance = event.source?.host || event.reportingInstance || '';
  const source = instance ? `${component}, ${instance}` : component;
  return [
    lastSeen,
    event.type ?? '',
    event.reason ?? '',
    target,
    involved?.fieldPath ?? '',
    source,
    (event.message ?? '').trim(),
    firstSeen,
    count,
    event.metadata?.name ?? '',
  ];
}

const EVENT = printer<Event>(
  [
    column('Last Seen', 'string', DOC.eventLastTimestamp),
    column('Type', 'string', DOC.eventType),
    column('Reason', 'string', DOC.eventReason),
    column('Object', 'string', DOC.involvedObject),
    wideColumn('Subobject', 'string', DOC.fieldPath),
    wideColumn('Source', 'string', DOC.eventSource),
    column('Message', 'string', DOC.eventMessage),
    wideColumn('First Seen', 'string', DOC.eventFirstTimestamp),
    wideColumn('Count', 'string', DOC.eventCount),
    { ...NAME, priority: 1 },
  ],
  printEvent,
);

// --- Workloads -----------------------------------------------------------------------------------

/** Deployment's SELECTOR differs from the other workloads': empty when none, `<invalid>` when broken. */
function deploymentSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  try {
    return formatLabelSelector(selector);
  } catch {
    return '<invalid>';
  }
}

const DEPLOYMENT = printer<Deployment>(
  [
    NAME,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', DOC.deploymentUpdated),
    column('Available', 'string', DOC.deploymentAvailable),
    AGE,
    CONTAINERS,
    IMAGES,
    wideColumn('Selector', 'string', DOC.deploymentSelector),
  ],
  (deploy, now) => [
    deploy.metadata?.name ?? '',
    // spec.replicas defaults to 1 on write.
    `${deploy.status?.readyReplicas ?? 0}/${deploy.spec?.replicas ?? 1}`,
    deploy.status?.updatedReplicas ?? 0,
    deploy.status?.availableReplicas ?? 0,
    age(deploy, now),
    ...workloadWideCells(deploy.spec?.template?.spec?.containers, deploymentSelector(deploy.spec?.selector)),
  ],
);

const REPLICA_SET = printer<ReplicaSet>(
  [
    NAME,
    column('Desired', 'integer', DOC.replicaSetDesired),
    column('Current', 'integer', DOC.replicaSetCurrent),
    column('Ready', 'integer', DOC.replicaSetReady),
    AGE,
    CONTAINERS,
    IMAGES,
    wideColumn('Selector', 'string', DOC.replicaSetSelector),
  ],
  (rs, now) => [
    rs.metadata?.name ?? '',
    // spec.replicas defaults to 1 on write.
    rs.spec?.replicas ?? 1,
    rs.status?.replicas ?? 0,
    rs.status?.readyReplicas ?? 0,
    age(rs, now),
    ...workloadWideCells(rs.spec?.template?.spec?.containers, formatSelector(rs.spec?.selector)),
  ],
);

const DAEMON_SET = printer<DaemonSet>(
  [
    NAME,
    column('Desired', 'integer', DOC.daemonSetDesired),
    column('Current', 'integer', DOC.daemonSetCurrent),
    column('Ready', 'integer', DOC.daemonSetReady),
    column('Up-to-date', 'integer', DOC.daemonSetUpdated),
    column('Available', 'integer', DOC.daemonSetAvailable),
    column('Node Selector', 'string', DOC.nodeSelector),
    AGE,
    CONTAINERS,
    IMAGES,
    wideColumn('Selector', 'string', DOC.daemonSetSelector),
  ],
  (ds, now) => [
    ds.metadata?.name ?? '',
    ds.status?.desiredNumberScheduled ?? 0,
    ds.status?.currentNumberScheduled ?? 0,
    ds.status?.numberReady ?? 0,
    ds.status?.updatedNumberScheduled ?? 0,
    ds.status?.numberAvailable ?? 0,
    formatLabels(ds.spec?.template?.spec?.nodeSelector),
    age(ds, now),
    ...workloadWideCells(ds.spec?.template?.spec?.containers, formatSelector(ds.spec?.selector)),
  ],
);

/** The STATUS column of kube 1.33's printJob: the first matching condition, in this order. */
function jobStatus(job: Job): string {
  const holds = (type: string) => conditionStatus(job.status?.conditions, type) === 'True';
  if (holds('Complete')) return 'Complete';
  if (holds('Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (holds('Suspended')) return 'Suspended';
  if (holds('FailureTarget')) return 'FailureTarget';
  if (holds('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: number): string {
  const start = timeOf(job.status?.startTime);
  if (start === undefined) return '';
  const end = timeOf(job.status?.completionTime) ?? now;
  return humanDuration(end - start);
}

const JOB = printer<Job>(
  [
    NAME,
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', DOC.jobSucceeded),
    column('Duration', 'string', 'Time required to complete the job.'),
    AGE,
    CONTAINERS,
    IMAGES,
    wideColumn('Selector', 'string', DOC.jobSelector),
  ],
  (job, now) => [
    job.metadata?.name ?? '',
    jobStatus(job),
    jobCompletions(job),
    jobDuration(job, now),
    age(job, now),
    ...workloadWideCells(job.spec?.template?.spec?.containers, formatSelector(job.spec?.selector)),
  ],
);

function printBool(value: boolean | undefined): string {
  if (value === undefined || value === null) return '<unset>';
  return value ? 'True' : 'False';
}

const CRON_JOB = printer<CronJob>(
  [
    NAME,
    column('Schedule', 'string', DOC.cronJobSchedule),
    column('Timezone', 'string', DOC.cronJobTimeZone),
    column('Suspend', 'boolean', DOC.cronJobSuspend),
    column('Active', 'integer', DOC.cronJobActive),
    column('Last Schedule', 'string', DOC.cronJobLastSchedule),
    AGE,
    CONTAINERS,
    IMAGES,
    wideColumn('Selector', 'string', DOC.jobSelector),
  ],
  (cj, now) => {
    const jobSpec = cj.spec?.jobTemplate?.spec;
    return [
      cj.metadata?.name ?? '',
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      printBool(cj.spec?.suspend),
      cj.status?.active?.length ?? 0,
      cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : '<none>',
      age(cj, now),
      ...workloadWideCells(jobSpec?.template?.spec?.containers, formatSelector(jobSpec?.selector)),
    ];
  },
);

const POD_DISRUPTION_BUDGET = printer<PodDisruptionBudget>(
  [
    NAME,
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    AGE,
  ],
  (pdb, now) => {
    const intOrString = (v: number | string | undefined) => (v === undefined || v === null ? 'N/A' : String(v));
    return [
      pdb.metadata?.name ?? '',
      intOrString(pdb.spec?.minAvailable),
      intOrString(pdb.spec?.maxUnavailable),
      pdb.status?.disruptionsAllowed ?? 0,
      age(pdb, now),
    ];
  },
);

/** Kinds without a printer of their own: name and age, as for a custom resource without columns. */
const DEFAULT_PRINTER = printer<KubeObject>([NAME, column('Age', 'date', DOC.creationTimestamp)], (obj, now) => [
  obj.metadata.name ?? '',
  age(obj, now),
]);

const PRINTERS: Readonly<Record<string, Printer>> = {
  Pod: POD,
  Node: NODE,
  Namespace: NAMESPACE,
  Service: SERVICE,
  Endpoints: ENDPOINTS,
  ConfigMap: CONFIG_MAP,
  Secret: SECRET,
  ServiceAccount: SERVICE_ACCOUNT,
  Event: EVENT,
  Deployment: DEPLOYMENT,
  ReplicaSet: REPLICA_SET,
  DaemonSet: DAEMON_SET,
  Job: JOB,
  CronJob: CRON_JOB,
  Lease: LEASE,
  PodDisruptionBudget: POD_DISRUPTION_BUDGET,
};
