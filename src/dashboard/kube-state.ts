/**
 * Kubernetes objects (nodes, pods, deployments, events) as the dashboard's view, read the
 * way kubectl reads them (STATUS of `get pods`, `rollout status`). Pure.
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Event as KubeEvent, Node, Pod } from 'kubernetes-types/core/v1.js';
import { parseCpus, parseQuantityBytes } from '../cluster/quantity.js';
import type { OrchestratorNode, OrchestratorView } from './compose.js';
import type { CardView, TimelineEntry, Tone, WorkloadView } from './model.js';

const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

function quantity<T>(parse: (v: string) => T, value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch {
    return undefined;
  }
}

export function kubeNodeView(node: Node): OrchestratorNode {
  const name = node.metadata?.name ?? '';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const schedulable = !node.spec?.unschedulable;
  const word = ready === 'True' ? 'Ready' : ready === undefined ? 'Unknown' : 'NotReady';
  const view: OrchestratorNode = {
    name,
    health: ready === 'True' ? 'ready' : ready === undefined ? 'unknown' : 'down',
    status: schedulable ? word : `${word},SchedulingDisabled`,
    schedulable,
    role: node.metadata?.labels?.[CONTROL_PLANE_LABEL] !== undefined ? 'manager' : 'worker',
  };
  const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (address) view.address = address;
  const cpus = quantity(parseCpus, node.status?.capacity?.cpu);
  if (cpus !== undefined) view.cpus = cpus;
  const memory = quantity(parseQuantityBytes, node.status?.capacity?.memory);
  if (memory !== undefined) view.memoryBytes = memory;
  if (node.status?.nodeInfo?.kubeletVersion) view.version = node.status.nodeInfo.kubeletVersion;
  return view;
}

/** `namespace/name`, the way deployments are told apart across namespaces. */
export function workloadId(namespace: string | undefined, name: string): string {
  return `${namespace ?? 'default'}/${name}`;
}

/** The deployment a pod belongs to (through its ReplicaSet `<deployment>-<pod-template-hash>`), else its direct owner. */
export function podWorkload(pod: Pod): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  const name = owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name;
  return workloadId(pod.metadata?.namespace, name);
}

const FAILED_REASONS = /BackOff|Err|Error|OOMKilled|Invalid|Failed|Evicted|ContainerCannotRun|DeadlineExceeded/;

/** The STATUS column of `kubectl get pods`, and its colour. */
export function podState(pod: Pod): { state: string; tone: Tone; message?: string } {
  if (pod.metadata?.deletionTimestamp) return { state: 'Terminating', tone: 'gone' };
  const phase = pod.status?.phase ?? 'Pending';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      return { state: waiting.reason, tone: FAILED_REASONS.test(waiting.reason) ? 'failed' : 'starting', ...(waiting.message ? { message: waiting.message } : {}) };
    }
  }
  if (phase === 'Failed') return { state: pod.status?.reason ?? 'Failed', tone: 'failed', ...(pod.status?.message ? { message: pod.status.message } : {}) };
  if (phase === 'Succeeded') return { state: 'Completed', tone: 'gone' };
  const terminated = pod.status?.containerStatuses?.find((s) => s.state?.terminated)?.state?.terminated;
  if (terminated?.reason && phase === 'Running') return { state: terminated.reason, tone: 'failed' };
  if (phase === 'Running') {
    // The Ready condition also turns False when the pod's node stops answering.
    const condition = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const ready = condition ? condition.status === 'True' : (pod.status?.containerStatuses ?? []).every((s) => s.ready);
    return ready ? { state: 'Running', tone: 'ok' } : { state: 'Running', tone: 'warning', message: condition?.message ?? 'not ready' };
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return { state: phase, tone: 'starting', ...(unschedulable?.message ? { message: unschedulable.message } : {}) };
}

export function podCard(pod: Pod, now: Date): CardView {
  const { state, tone, message } = podState(pod);
  const card: CardView = {
    id: pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`,
    name: pod.metadata?.name ?? '',
    image: (pod.spec?.containers ?? []).map((c) => c.image ?? '').join(', '),
    state,
    tone,
    restarts: (pod.status?.containerStatuses ?? []).reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    since: pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? now.toISOString(),
  };
  const workload = podWorkload(pod);
  if (workload) card.workload = workload;
  if (pod.spec?.nodeName) card.node = pod.spec.nodeName;
  if (message) card.message = message;
  if (pod.metadata?.namespace && pod.metadata.namespace !== 'default') card.namespace = pod.metadata.namespace;
  return card;
}

/** `kubectl rollout status` in a few words; undefined while nothing was ever rolled out. */
export function rolloutStatus(deployment: Deployment): string | undefined {
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if ((status.observedGeneration ?? 0) < generation) return 'waiting for the controller';
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return 'rollout failed: progress deadline exceeded';
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < desired) return `${updated} of ${desired} replicas updated`;
  if ((status.replicas ?? 0) > updated) return `${(status.replicas ?? 0) - updated} old replicas terminating`;
  if ((status.availableReplicas ?? 0) < updated) return `${status.availableReplicas ?? 0} of ${updated} updated replicas available`;
  return progressing ? 'rolled out' : undefined;
}

export function deploymentView(deployment: Deployment): WorkloadView {
  const namespace = deployment.metadata?.namespace ?? 'default';
  const name = deployment.metadata?.name ?? '';
  const view: WorkloadView = {
    id: workloadId(namespace, name),
    name: namespace === 'default' ? name : `${namespace}/${name}`,
    kind: 'deployment',
    namespace,
    image: (deployment.spec?.template.spec?.containers ?? []).map((c) => c.image ?? '').join(', '),
    desired: deployment.spec?.replicas ?? 1,
    ready: deployment.status?.readyReplicas ?? 0,
  };
  const rollout = rolloutStatus(deployment);
  if (rollout) view.rollout = rollout;
  return view;
}

export interface KubeObjects {
  nodes: Node[];
  pods: Pod[];
  deployments: Deployment[];
}

export function kubeView(objects: KubeObjects, now: Date): OrchestratorView {
  return {
    nodes: objects.nodes.map(kubeNodeView),
    workloads: objects.deployments.map(deploymentView),
    cards: objects.pods.filter((p) => p.status?.phase !== 'Succeeded').map((p) => podCard(p, now)),
  };
}

/**
 * Normal events worth a line of their own; the rest (Scheduled, Pulled, Created, Started,
 * SuccessfulCreate, Killing…) the timeline already tells from the pods' changes.
 * Warnings are always told.
 */
const NOTABLE_EVENTS: Record<string, TimelineEntry['kind']> = {
  NodeNotReady: 'node',
  NodeReady: 'node',
  RegisteredNode: 'node',
  TaintManagerEviction: 'pod',
  Evicted: 'pod',
  Preempted: 'pod',
  ScalingReplicaSet: 'rollout',
  DeploymentRollback: 'rollout',
};

/** A Kubernetes Event as a timeline entry (as `kubectl get events` tells it), if it is news. */
export function kubeEventEntry(event: KubeEvent, now: Date): TimelineEntry | undefined {
  const reason = event.reason ?? '';
  const warning = event.type === 'Warning';
  const object = event.involvedObject;
  const kind = NOTABLE_EVENTS[reason];
  if (!kind && !warning) return undefined;
  // Told once for the node; each of its pods turning not ready shows on its card.
  if (reason === 'NodeNotReady' && object.kind === 'Pod') return undefined;
  const what = `${(object.kind ?? 'object').toLowerCase()} ${object.namespace && object.namespace !== 'default' ? `${object.namespace}/` : ''}${object.name ?? ''}`;
  return {
    at: event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp ?? now.toISOString(),
    kind: kind ?? (object.kind === 'Node' ? 'node' : object.kind === 'Pod' ? 'pod' : 'event'),
    severity: reason === 'NodeNotReady' ? 'error' : warning ? 'warning' : 'info',
    text: `${what}: ${reason}${event.message ? ` – ${event.message}` : ''}`,
  };
}
