/**
 * A pod's status computed from what the runtime reports (pure): phase as the kubelet's
 * getPhase decides it, container states with their reasons, conditions, QoS class.
 */
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from './quantity.js';
import { kubeContainerId, type RuntimeContainer } from './runtime.js';

/** Why a container is not running, as the agent knows it (image pulls, back-off, config errors). */
export interface ContainerWaiting {
  reason: string;
  message?: string;
}

export interface StatusInputs {
  pod: Pod;
  /** This pod's containers in the runtime (sandboxes included). */
  containers: RuntimeContainer[];
  /** Container name -> why it waits; only consulted for containers not running. */
  waiting: ReadonlyMap<string, ContainerWaiting>;
  /** Readiness probe verdict for a running container (true when it has no readiness probe). */
  isReady(container: RuntimeContainer, spec: Container): boolean;
  /** Startup probe verdict for a running container (true when it has no startup probe). */
  isStarted(container: RuntimeContainer, spec: Container): boolean;
  hostIP: string;
  now: Date;
}

/** The status fields the agent owns: compared to decide whether to write, nulled when gone. */
export const OWNED_STATUS_FIELDS = [
  'phase',
  'conditions',
  'hostIP',
  'hostIPs',
  'podIP',
  'podIPs',
  'startTime',
  'qosClass',
  'containerStatuses',
  'initContainerStatuses',
  'reason',
  'message',
] as const;

const AGENT_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready']);

/** RFC 3339 in whole seconds (what Kubernetes shows) from any precision. */
export function kubeTime(value: string | Date): string {
  if (typeof value === 'string') {
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(value);
    if (match) return `${match[1]}Z`;
    value = new Date(value);
  }
  return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Instances of each container by name, newest attempt first; sandboxes under their own key. */
export function instancesByName(containers: RuntimeContainer[]): Map<string, RuntimeContainer[]> {
  const byName = new Map<string, RuntimeContainer[]>();
  for (const container of containers) {
    const key = container.identity.sandbox ? '' : container.identity.container;
    const list = byName.get(key) ?? [];
    list.push(container);
    byName.set(key, list);
  }
  for (const list of byName.values()) list.sort((a, b) => b.identity.attempt - a.identity.attempt || (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
  return byName;
}

/** The pod's newest sandbox (running or not). */
export function currentSandbox(containers: RuntimeContainer[]): RuntimeContainer | undefined {
  return instancesByName(containers).get('')?.[0];
}

export function terminatedState(container: RuntimeContainer): ContainerStateTerminated {
  return {
    exitCode: container.exitCode,
    reason: container.oomKilled ? 'OOMKilled' : container.error && !container.startedAt ? 'StartError' : container.exitCode === 0 ? 'Completed' : 'Error',
    ...(container.error ? { message: container.error } : {}),
    ...(container.startedAt ? { startedAt: kubeTime(container.startedAt) } : {}),
    ...(container.finishedAt ? { finishedAt: kubeTime(container.finishedAt) } : {}),
    containerID: kubeContainerId(container.id),
  };
}

/** Init containers are done once each has exited 0 — or once any app container exists (they were pruned). */
export function initContainersDone(pod: Pod, byName: Map<string, RuntimeContainer[]>): boolean {
  if ((pod.spec?.containers ?? []).some((c) => (byName.get(c.name)?.length ?? 0) > 0)) return true;
  return (pod.spec?.initContainers ?? []).every((c) => {
    const latest = byName.get(c.name)?.[0];
    return latest !== undefined && latest.state === 'exited' && latest.exitCode === 0;
  });
}

/** An init container failed and the pod's policy does not restart it. */
export function initContainerFailedForGood(pod: Pod, byName: Map<string, RuntimeContainer[]>): boolean {
  if ((pod.spec?.restartPolicy ?? 'Always') !== 'Never') return false;
  return (pod.spec?.initContainers ?? []).some((c) => {
    const latest = byName.get(c.name)?.[0];
    return latest !== undefined && latest.state === 'exited' && latest.exitCode !== 0;
  });
}

function containerStatus(
  spec: Container,
  instances: RuntimeContainer[],
  waiting: ContainerWaiting | undefined,
  defaultReason: string,
  inputs: StatusInputs,
): ContainerStatus {
  const [latest, previous] = instances;
  const waitingState = (fallback: string): ContainerState => ({
    waiting: { reason: waiting?.reason ?? fallback, ...(waiting?.message ? { message: waiting.message } : {}) },
  });
  let state: ContainerState;
  let lastState: ContainerState = previous ? { terminated: terminatedState(previous) } : {};
  let ready = false;
  let started = false;
  if (latest === undefined) {
    state = waitingState(defaultReason);
  } else if (latest.state === 'running') {
    state = { running: { startedAt: kubeTime(latest.startedAt ?? inputs.now) } };
    started = inputs.isStarted(latest, spec);
    ready = started && inputs.isReady(latest, spec);
  } else if (latest.state === 'exited') {
    if (waiting) {
      state = waitingState(waiting.reason);
      lastState = { terminated: terminatedState(latest) };
    } else {
      state = { terminated: terminatedState(latest) };
    }
  } else {
    state = waitingState('ContainerCreating');
  }
  return {
    name: spec.name,
    image: spec.image ?? '',
    imageID: latest?.imageId ?? '',
    ...(latest ? { containerID: kubeContainerId(latest.id) } : {}),
    ready,
    started,
    restartCount: latest?.identity.attempt ?? 0,
    state,
    lastState,
  };
}

type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** The kubelet's getPhase over the app containers' statuses. */
export function phaseFromStatuses(restartPolicy: string, statuses: ContainerStatus[]): Phase {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of statuses) {
    if (status.state?.running) running++;
    else if (status.state?.terminated) {
      stopped++;
      if (status.state.terminated.exitCode === 0) succeeded++;
    } else if (status.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'OnFailure') return 'Running';
    return 'Failed';
  }
  return 'Pending';
}

export function qosClass(pod: Pod): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const limits = container.resources?.limits ?? {};
    const requests = container.resources?.requests ?? {};
    for (const resource of ['cpu', 'memory']) {
      const limit = parseQuantity(limits[resource]);
      const request = parseQuantity(requests[resource]) ?? limit;
      if ((limit ?? 0) > 0 || (request ?? 0) > 0) any = true;
      if (limit === undefined || limit <= 0 || request !== limit) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function condition(type: string, ok: boolean, old: PodCondition[], now: Date, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const previous = old.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null as unknown as string, // Kubernetes writes null here; kubectl shows it as <nil>
    lastTransitionTime: previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : kubeTime(now),
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
  };
}

export function computePodStatus(inputs: StatusInputs): PodStatus {
  const { pod, now } = inputs;
  const old = pod.status ?? {};
  const byName = instancesByName(inputs.containers);
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const initDone = initContainersDone(pod, byName);
  const sandbox = byName.get('')?.[0];
  const sandboxReady = sandbox?.state === 'running';

  const initStatuses = (pod.spec?.initContainers ?? []).map((spec) =>
    containerStatus(spec, byName.get(spec.name) ?? [], inputs.waiting.get(spec.name), 'PodInitializing', inputs),
  );
  const statuses = (pod.spec?.containers ?? []).map((spec) =>
    containerStatus(spec, byName.get(spec.name) ?? [], inputs.waiting.get(spec.name), initDone ? 'ContainerCreating' : 'PodInitializing', inputs),
  );

  let phase: Phase;
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  else if (!initDone) phase = initContainerFailedForGood(pod, byName) ? 'Failed' : 'Pending';
  else phase = phaseFromStatuses(restartPolicy, statuses);

  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const incompleteInit = initStatuses.filter((s) => s.state?.terminated?.exitCode !== 0).map((s) => s.name);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const oldConditions = old.conditions ?? [];
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandboxReady, oldConditions, now),
    condition('Initialized', initDone, oldConditions, now, terminal ? 'PodCompleted' : 'ContainersNotInitialized', terminal ? undefined : `containers with incomplete status: [${incompleteInit.join(' ')}]`),
    condition('Ready', unready.length === 0 && !terminal, oldConditions, now, notReadyReason, notReadyMessage),
    condition('ContainersReady', unready.length === 0 && !terminal, oldConditions, now, notReadyReason, notReadyMessage),
    ...oldConditions.filter((c) => !AGENT_CONDITIONS.has(c.type)),
  ];
  if (!conditions.some((c) => c.type === 'PodScheduled')) conditions.push(condition('PodScheduled', true, oldConditions, now));

  const podIP = pod.spec?.hostNetwork ? inputs.hostIP : sandboxReady && sandbox?.ipAddress ? sandbox.ipAddress : old.podIP;
  return {
    phase,
    conditions,
    hostIP: inputs.hostIP,
    hostIPs: [{ ip: inputs.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: old.startTime ?? kubeTime(now),
    qosClass: qosClass(pod),
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
  };
}

/** Sorted-key JSON, so equal statuses compare equal whatever order their fields came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function ownedPart(status: PodStatus | undefined): Record<string, unknown> {
  const part: Record<string, unknown> = {};
  for (const field of OWNED_STATUS_FIELDS) part[field] = (status as Record<string, unknown> | undefined)?.[field];
  return part;
}

/** Whether the agent's part of the status differs (only then is it written). */
export function statusDiffers(current: PodStatus | undefined, computed: PodStatus): boolean {
  return canonical(ownedPart(current)) !== canonical(ownedPart(computed));
}

/** A merge patch that makes the pod's status the computed one (owned fields it lacks are nulled). */
export function statusPatch(current: PodStatus | undefined, computed: PodStatus): { status: Record<string, unknown> } {
  const status: Record<string, unknown> = { ...computed };
  for (const field of OWNED_STATUS_FIELDS) {
    if ((current as Record<string, unknown> | undefined)?.[field] !== undefined && status[field] === undefined) status[field] = null;
  }
  return { status };
}
