/**
 * The node agent: registers the node and keeps it alive (heartbeat), watches the pods bound
 * here and syncs each one on its own worker (one sync at a time per pod), triggered by pod
 * changes, container events from the runtime, back-off timers and a periodic resync that
 * also sweeps away containers of pods that no longer exist.
 */
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { ApiClient, Informer, isConflict, isNotFound, recordEvent } from '../shared/api-client.js';
import type { ObjectSource } from './env.js';
import { NodeHeartbeat } from './heartbeat.js';
import type { MachineInfo } from './machine-info.js';
import type { NodeIdentity } from './node-status.js';
import { PodSyncer, type EventType, type PodNetworkAccess } from './pod-syncer.js';
import { ProbeManager, runtimeProbeRunner, type ProbeRunner } from './probes.js';
import type { ContainerRuntime, NodeRuntimeInfo, RuntimeContainer } from './runtime.js';
import { VolumeManager } from './volumes.js';

export interface AgentOptions {
  node: NodeIdentity;
  client: ApiClient;
  runtime: ContainerRuntime & NodeRuntimeInfo;
  machine: MachineInfo;
  /** Pod volumes live under here (AGENT_STATE_DIR). */
  stateDir: string;
  /** Container start/exit notifications from the runtime (docker /events), if it has them. */
  watchContainerEvents?: (onChange: (podUid: string) => void, onEnd: (err?: Error) => void) => { stop(): void };
  log(line: string): void;
  /** Full resync period (default 10 s). */
  resyncMs?: number;
  /** Probe runner (tests replace it). */
  probeRunner?: ProbeRunner;
  /** The pod network (bridge, routes, Service rules, resolv.conf); none in unit tests. */
  network?: PodNetworkAccess & { start(): Promise<void>; stop(): void };
}

const DEFAULT_RESYNC_MS = 10_000;
const SYNC_ERROR_RETRY_MS = 5_000;
/**
 * Pods synced at once. Each sync talks to the node's dockerd; a burst of 50 pods synced all
 * at once makes dockerd (and the kernel's netns/veth work) thrash and every pod slower.
 */
const MAX_PARALLEL_SYNCS = 6;
const EVENTS_RECONNECT_MS = 2_000;

export class Agent {
  private readonly controller = new AbortController();
  private readonly heartbeat: NodeHeartbeat;
  private readonly syncer: PodSyncer;
  private readonly probes: ProbeManager;
  private readonly volumes: VolumeManager;
  private readonly informer: Informer<Pod>;
  /** pod uid -> { rerun requested while syncing } */
  private readonly inFlight = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly syncSlots = new Slots(MAX_PARALLEL_SYNCS);
  private eventsWatch: { stop(): void } | undefined;
  private registered = false;

  constructor(private readonly opts: AgentOptions) {
    const { client, node, log } = opts;
    this.heartbeat = new NodeHeartbeat({ client, node, machine: opts.machine, runtime: opts.runtime, log, signal: this.controller.signal });
    const objects: ObjectSource = {
      getConfigMap: (ns, name) => client.getOrUndefined<ConfigMap>(`/api/v1/namespaces/${ns}/configmaps/${name}`),
      getSecret: (ns, name) => client.getOrUndefined<Secret>(`/api/v1/namespaces/${ns}/secrets/${name}`),
    };
    this.volumes = new VolumeManager(opts.stateDir, objects);
    this.probes = new ProbeManager(opts.probeRunner ?? runtimeProbeRunner(opts.runtime), (report) => {
      const pod = this.podByUid(report.podUid);
      if (pod && !report.outcome.ok) {
        const kind = report.kind[0]!.toUpperCase() + report.kind.slice(1);
        this.recordPodEvent(pod, 'Warning', 'Unhealthy', `${kind} probe failed: ${report.outcome.message}`);
      }
      if (report.changed) {
        if (pod) log(`agent: pod ${pod.metadata?.namespace}/${pod.metadata?.name}: ${report.kind} probe of ${report.container.identity.container}: ${report.result}`);
        this.enqueue(report.podUid);
      }
    });
    this.syncer = new PodSyncer({
      runtime: opts.runtime,
      objects,
      volumes: this.volumes,
      probes: this.probes,
      recordEvent: (pod, type, reason, message) => this.recordPodEvent(pod, type, reason, message),
      patchStatus: async (pod, patch) => {
        try {
          await client.patch(`${podPath(pod)}/status`, patch, 'merge');
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      },
      deletePod: async (pod) => {
        try {
          await client.delete(podPath(pod), { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? '' } });
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      },
      ...(opts.network ? { podNetwork: opts.network } : {}),
      nodeName: node.name,
      hostIP: node.ip,
      log,
    });
    this.informer = new Informer<Pod>(client, '/api/v1/pods', { fieldSelector: `spec.nodeName=${node.name}`, log });
    const onPod = (pod: Pod): void => {
      if (pod.metadata?.uid) this.enqueue(pod.metadata.uid);
    };
    this.informer.onAdd(onPod).onUpdate(onPod).onDelete(onPod);
  }

  /** Healthy once the node is registered (the supervisor waits for it). */
  isHealthy(): boolean {
    return this.registered;
  }

  /** Registers the node, then runs until stop(). Resolves once running (or stopped first). */
  async start(): Promise<void> {
    const signal = this.controller.signal;
    if (!(await this.heartbeat.register())) return;
    this.registered = true;
    this.heartbeat.start();
    this.opts.network?.start().catch((err: Error) => this.opts.log(`agent: pod network: ${err.message}`));
    this.opts.runtime.ensurePauseImage().catch((err: Error) => this.opts.log(`agent: building the pause image failed (retried at the first pod): ${err.message}`));
    this.watchEvents();
    try {
      await this.informer.start();
    } catch {
      return; // stopped before the first list
    }
    if (signal.aborted) return;
    this.opts.log(`agent: watching pods on ${this.opts.node.name}`);
    await this.syncAll();
    const resync = (): void => {
      this.resyncTimer = setTimeout(() => {
        void this.syncAll().finally(() => {
          if (!signal.aborted) resync();
        });
      }, this.opts.resyncMs ?? DEFAULT_RESYNC_MS);
    };
    resync();
  }

  /** Stops watching and syncing; containers keep running (a restarted agent adopts them). */
  async stop(): Promise<void> {
    this.controller.abort();
    this.informer.stop();
    this.opts.network?.stop();
    this.eventsWatch?.stop();
    this.probes.stopAll();
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.all([...this.inFlight.values()].map((w) => w.done));
  }

  /** Syncs every pod bound here and every pod that only the runtime or the disk remembers. */
  async syncAll(): Promise<void> {
    let containers: RuntimeContainer[];
    try {
      containers = await this.opts.runtime.listPodContainers();
    } catch (err) {
      this.opts.log(`agent: listing containers failed: ${(err as Error).message}`);
      return;
    }
    const uids = new Set<string>();
    for (const pod of this.informer.list()) if (pod.metadata?.uid) uids.add(pod.metadata.uid);
    for (const container of containers) uids.add(container.identity.uid);
    for (const uid of this.volumes.listPodUids()) uids.add(uid);
    await Promise.all([...uids].map((uid) => this.enqueue(uid)));
  }

  /** Queues a sync of one pod; resolves when a sync that started after this call has finished. */
  enqueue(uid: string): Promise<void> {
    if (this.controller.signal.aborted) return Promise.resolve();
    const running = this.inFlight.get(uid);
    if (running) {
      running.again = true;
      return running.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      do {
        entry.again = false;
        await this.syncSlots.run(() => this.syncOnce(uid));
      } while (entry.again && !this.controller.signal.aborted);
      this.inFlight.delete(uid);
    })();
    this.inFlight.set(uid, entry);
    return entry.done;
  }

  private async syncOnce(uid: string): Promise<void> {
    try {
      const pod = this.podByUid(uid);
      const containers = await this.opts.runtime.listPodContainers(uid);
      if (!pod) {
        if (containers.length > 0) this.opts.log(`agent: removing ${containers.length} container(s) of pod ${uid}, which no longer exists`);
        await this.syncer.cleanupOrphan(uid, containers);
        return;
      }
      const result = await this.syncer.sync(pod, containers);
      if (result.resyncInMs !== undefined) this.retryLater(uid, result.resyncInMs);
    } catch (err) {
      this.opts.log(`agent: syncing pod ${this.describe(uid)} failed: ${(err as Error).message}`);
      this.retryLater(uid, SYNC_ERROR_RETRY_MS);
    }
  }

  private retryLater(uid: string, delayMs: number): void {
    if (this.controller.signal.aborted) return;
    const existing = this.retryTimers.get(uid);
    if (existing) clearTimeout(existing);
    this.retryTimers.set(
      uid,
      setTimeout(() => {
        this.retryTimers.delete(uid);
        void this.enqueue(uid);
      }, Math.max(100, delayMs)),
    );
  }

  private watchEvents(): void {
    if (!this.opts.watchContainerEvents || this.controller.signal.aborted) return;
    this.eventsWatch = this.opts.watchContainerEvents(
      (uid) => void this.enqueue(uid),
      (err) => {
        if (this.controller.signal.aborted) return;
        if (err) this.opts.log(`agent: container events stream ended: ${err.message}`);
        setTimeout(() => this.watchEvents(), EVENTS_RECONNECT_MS);
      },
    );
  }

  /** A pod bound to this node, by name (the kubelet API's lookup). */
  findPod(namespace: string, name: string): Pod | undefined {
    return this.informer.list().find((pod) => pod.metadata?.namespace === namespace && pod.metadata?.name === name);
  }

  private podByUid(uid: string): Pod | undefined {
    return this.informer.list().find((pod) => pod.metadata?.uid === uid);
  }

  private describe(uid: string): string {
    const pod = this.podByUid(uid);
    return pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : uid;
  }

  private recordPodEvent(pod: Pod, type: EventType, reason: string, message: string): void {
    void recordEvent(
      this.opts.client,
      { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', uid: pod.metadata?.uid ?? '' },
      type,
      reason,
      message,
      'kubelet',
      this.opts.node.name,
    );
  }
}

function podPath(pod: Pod): string {
  return `/api/v1/namespaces/${pod.metadata?.namespace ?? 'default'}/pods/${pod.metadata?.name ?? ''}`;
}

/** A counting semaphore: at most `size` tasks run at once, the rest wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
