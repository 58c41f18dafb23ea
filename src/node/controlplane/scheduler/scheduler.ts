/**
 * The scheduler loop: watches nodes and pods, places each pending pod of the default
 * scheduler on a node and binds it, or reports why it cannot (event + PodScheduled
 * condition) and tries again when the cluster changes.
 *
 * `Scheduler` holds the queue and the accounting and talks to the outside only through a
 * ClusterView and a SchedulerIO, so it is tested without a server; runScheduler wires it to
 * informers and the API client.
 */
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { ApiClient, Informer, isNotFound, recordEvent } from '../../shared/api-client.js';
import { schedulePod, type Decision } from './algorithm.js';
import { buildNodeInfos, podKey } from './node-info.js';
import { isFinished } from './resources.js';

export const SCHEDULER_NAME = 'default-scheduler';
/** Unschedulable pods are retried at least this often even when nothing seems to change. */
export const RETRY_UNSCHEDULABLE_MS = 10_000;
/** An unchanged FailedScheduling is reported again at most this often. */
export const REPEAT_REPORT_MS = 60_000;
/** An assumed placement the pod informer never confirmed is dropped after this long. */
export const ASSUME_TTL_MS = 30_000;
const MAX_BINDS_IN_FLIGHT = 16;
const BIND_RETRY_MS = 1_000;

export interface ClusterView {
  nodes(): Node[];
  pods(): Pod[];
  pod(key: string): Pod | undefined;
}

export interface SchedulerIO {
  bind(pod: Pod, nodeName: string): Promise<void>;
  reportScheduled(pod: Pod, nodeName: string): Promise<void>;
  reportUnschedulable(pod: Pod, message: string): Promise<void>;
}

/** A pod this scheduler should place: ours, not bound, not going away, not finished. */
export function isPendingForUs(pod: Pod): boolean {
  const schedulerName = pod.spec?.schedulerName;
  return (
    !pod.spec?.nodeName &&
    (schedulerName === undefined || schedulerName === '' || schedulerName === SCHEDULER_NAME) &&
    !pod.metadata?.deletionTimestamp &&
    !isFinished(pod)
  );
}

/** Queue order: higher priority first, then older first, then by key. */
function queueOrder(a: Pod, b: Pod): number {
  const priority = (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0);
  if (priority !== 0) return priority;
  const created = (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '');
  if (created !== 0) return created;
  return podKey(a).localeCompare(podKey(b));
}

export class Scheduler {
  /** Pods to try on the next pass. */
  private readonly active = new Set<string>();
  /** Pods that fit nowhere last time: retried when the cluster changes. */
  private readonly unschedulable = new Set<string>();
  private readonly lastReport = new Map<string, { message: string; atMs: number }>();
  /** Binds sent (or queued) that the pod informer has not shown yet, for accounting. */
  private readonly assumed = new Map<string, { pod: Pod; nodeName: string; atMs: number }>();
  private readonly bindQueue: { pod: Pod; nodeName: string }[] = [];
  private bindsInFlight = 0;

  constructor(
    private readonly view: ClusterView,
    private readonly io: SchedulerIO,
    private readonly opts: { log: (line: string) => void; wake: () => void; now?: () => number; later?: (fn: () => void, ms: number) => void },
  ) {}

  /** A pod was added or changed (or deleted: pod undefined). */
  podChanged(key: string, pod: Pod | undefined, old?: Pod): void {
    if (pod?.spec?.nodeName) {
      this.assumed.delete(key);
      this.forget(key);
    }
    if (pod === undefined) {
      this.assumed.delete(key);
      this.forget(key);
    } else if (isPendingForUs(pod) && !this.unschedulable.has(key)) {
      this.active.add(key);
    }
    // Something freed or moved: a pod left a node, finished, or was bound by someone else.
    const freed = pod === undefined || (old !== undefined && !isFinished(old) && isFinished(pod)) || (pod.spec?.nodeName && !old?.spec?.nodeName);
    if (freed) this.retryUnschedulable();
    else if (pod !== undefined && this.active.has(key)) this.opts.wake();
  }

  /** Nodes changed (or it is time to retry): unschedulable pods get another chance. */
  retryUnschedulable(): void {
    if (this.unschedulable.size === 0) return;
    for (const key of this.unschedulable) this.active.add(key);
    this.unschedulable.clear();
    this.opts.wake();
  }

  hasUnschedulable(): boolean {
    return this.unschedulable.size > 0;
  }

  /** Puts every pending pod of the view in the queue (after the informers' first list). */
  enqueueAllPending(): void {
    for (const pod of this.view.pods()) if (isPendingForUs(pod)) this.active.add(podKey(pod));
    this.opts.wake();
  }

  /** One pass over the queue: decide every active pod against one snapshot, assuming each placement. */
  runOnce(): Map<string, Decision> {
    const now = this.now();
    for (const [key, entry] of this.assumed) if (now - entry.atMs > ASSUME_TTL_MS) this.assumed.delete(key);
    const pods: Pod[] = [];
    for (const key of this.active) {
      const pod = this.view.pod(key);
      if (pod !== undefined && isPendingForUs(pod) && !this.assumed.has(key)) pods.push(pod);
    }
    this.active.clear();
    const decisions = new Map<string, Decision>();
    if (pods.length === 0) return decisions;
    pods.sort(queueOrder);
    const infos = buildNodeInfos(this.view.nodes(), this.view.pods(), this.assumed);
    for (const pod of pods) {
      const key = podKey(pod);
      const decision = schedulePod(pod, infos.values());
      decisions.set(key, decision);
      if ('nodeName' in decision) {
        infos.get(decision.nodeName)!.addPod(pod);
        this.assumed.set(key, { pod, nodeName: decision.nodeName, atMs: now });
        this.bindQueue.push({ pod, nodeName: decision.nodeName });
      } else {
        this.unschedulable.add(key);
        this.report(pod, decision.unschedulable, now);
      }
    }
    this.pumpBinds();
    return decisions;
  }

  /** Placements not yet confirmed by the informer (tests, diagnostics). */
  assumedPlacements(): Map<string, string> {
    return new Map([...this.assumed].map(([key, entry]) => [key, entry.nodeName]));
  }

  private report(pod: Pod, message: string, now: number): void {
    const key = podKey(pod);
    const last = this.lastReport.get(key);
    if (last !== undefined && last.message === message && now - last.atMs < REPEAT_REPORT_MS) return;
    this.lastReport.set(key, { message, atMs: now });
    this.opts.log(`cannot schedule ${key}: ${message}`);
    this.io.reportUnschedulable(pod, message).catch((err: Error) => this.opts.log(`reporting ${key} unschedulable failed: ${err.message}`));
  }

  private forget(key: string): void {
    this.unschedulable.delete(key);
    this.lastReport.delete(key);
  }

  private pumpBinds(): void {
    while (this.bindsInFlight < MAX_BINDS_IN_FLIGHT && this.bindQueue.length > 0) {
      const { pod, nodeName } = this.bindQueue.shift()!;
      this.bindsInFlight++;
      void this.bindOne(pod, nodeName).finally(() => {
        this.bindsInFlight--;
        this.pumpBinds();
      });
    }
  }

  private async bindOne(pod: Pod, nodeName: string): Promise<void> {
    const key = podKey(pod);
    try {
      await this.io.bind(pod, nodeName);
      this.opts.log(`bound ${key} to ${nodeName}`);
      this.io.reportScheduled(pod, nodeName).catch(() => undefined);
    } catch (err) {
      this.assumed.delete(key);
      if (isNotFound(err)) return; // the pod is gone
      this.opts.log(`binding ${key} to ${nodeName} failed: ${(err as Error).message}`);
      // Let the informer catch up (a 409 usually means it is bound already), then try again.
      this.later(() => {
        this.active.add(key);
        this.opts.wake();
      }, BIND_RETRY_MS);
    }
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private later(fn: () => void, ms: number): void {
    if (this.opts.later) this.opts.later(fn, ms);
    else setTimeout(fn, ms);
  }
}

/** The PodScheduled=False condition list for a pod that fits nowhere (other conditions kept). */
export function unschedulableConditions(pod: Pod, message: string, nowIso: string): PodCondition[] {
  const others = (pod.status?.conditions ?? []).filter((condition) => condition.type !== 'PodScheduled');
  const previous = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
  const unchanged = previous?.status === 'False' && previous.reason === 'Unschedulable';
  return [
    ...others,
    {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      // lastProbeTime is null in Kubernetes' own condition; the type has no null, so omit it.
      lastTransitionTime: unchanged && previous.lastTransitionTime ? previous.lastTransitionTime : nowIso,
    },
  ];
}

/** SchedulerIO over the API: the binding subresource, events and the pod status. */
export function apiSchedulerIO(client: ApiClient): SchedulerIO {
  const podPath = (pod: Pod): string => `/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}`;
  const involved = (pod: Pod) => ({
    kind: 'Pod',
    apiVersion: 'v1',
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? 'default',
    ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
  });
  return {
    async bind(pod, nodeName) {
      await client.create(`${podPath(pod)}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
    },
    async reportScheduled(pod, nodeName) {
      const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      await recordEvent(client, involved(pod), 'Normal', 'Scheduled', `Successfully assigned ${name} to ${nodeName}`, SCHEDULER_NAME);
    },
    async reportUnschedulable(pod, message) {
      await recordEvent(client, involved(pod), 'Warning', 'FailedScheduling', message, SCHEDULER_NAME);
      const nowIso = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      // A merge patch with the whole list: only PodScheduled changes, the rest is sent back as read.
      await client.patch(`${podPath(pod)}/status`, { status: { conditions: unschedulableConditions(pod, message, nowIso) } }, 'merge');
    },
  };
}

/** Runs the scheduler until the signal aborts. */
export async function runScheduler(client: ApiClient, opts: { signal: AbortSignal; log: (line: string) => void }): Promise<void> {
  const { signal, log } = opts;
  if (signal.aborted) return;
  const informerLog = (line: string): void => log(`scheduler ${line}`);
  const nodes = new Informer<Node>(client, '/api/v1/nodes', { log: informerLog });
  const pods = new Informer<Pod>(client, '/api/v1/pods', { log: informerLog });

  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  const wake = (): void => {
    pendingWake = true;
    wakeUp?.();
  };
  const scheduler = new Scheduler({ nodes: () => nodes.list(), pods: () => pods.list(), pod: (key) => pods.get(key) }, apiSchedulerIO(client), {
    log: (line) => log(`scheduler: ${line}`),
    wake,
  });

  pods
    .onAdd((pod) => scheduler.podChanged(podKey(pod), pod))
    .onUpdate((pod, old) => scheduler.podChanged(podKey(pod), pod, old))
    .onDelete((pod) => scheduler.podChanged(podKey(pod), undefined, pod));
  nodes
    .onAdd(() => scheduler.retryUnschedulable())
    .onUpdate((node, old) => {
      // Heartbeats only bump timestamps; any spec, label or condition status change may let pods fit.
      if (nodeSchedulingFacts(node) !== nodeSchedulingFacts(old)) scheduler.retryUnschedulable();
    })
    .onDelete(() => scheduler.retryUnschedulable());

  const stopAll = (): void => {
    nodes.stop();
    pods.stop();
    wakeUp?.();
  };
  signal.addEventListener('abort', stopAll, { once: true });
  const retryTimer = setInterval(() => scheduler.retryUnschedulable(), RETRY_UNSCHEDULABLE_MS);
  try {
    await Promise.all([nodes.start(), pods.start()]);
    log('scheduler: caches synced, scheduling');
    scheduler.enqueueAllPending();
    while (!signal.aborted) {
      if (!pendingWake) await new Promise<void>((resolve) => (wakeUp = resolve));
      wakeUp = undefined;
      if (signal.aborted) break;
      // Let a burst of informer events land so one pass sees them all.
      await new Promise((resolve) => setTimeout(resolve, 5));
      pendingWake = false;
      scheduler.runOnce();
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    clearInterval(retryTimer);
    signal.removeEventListener('abort', stopAll);
    stopAll();
  }
}

/** The parts of a Node that decide what fits on it. */
function nodeSchedulingFacts(node: Node): string {
  return JSON.stringify([
    node.metadata?.labels,
    node.spec?.unschedulable,
    node.spec?.taints,
    node.status?.allocatable,
    node.status?.conditions?.map((condition) => [condition.type, condition.status]),
  ]);
}
