/**
 * Makes the runtime match one pod and reports the result: applies computePodActions (sandbox,
 * image pulls, env and volumes, create/start, kills), then writes the computed status when it
 * changed. Also tears pods down on deletion and removes what belongs to no pod.
 */
import type { Container, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { Backoff, CONTAINER_BACKOFF, goDuration } from './backoff.js';
import { containerRequest, resolvConfBinds, sandboxRequest } from './container-config.js';
import { ContainerConfigError, resolveEnv, type ObjectSource, type PodRuntimeFields } from './env.js';
import { decidePull, effectivePullPolicy, imageMessages } from './image-policy.js';
import { computePodActions, type StartAction } from './pod-actions.js';
import { computePodStatus, currentSandbox, statusDiffers, statusPatch, type ContainerWaiting } from './pod-status.js';
import type { ProbeManager } from './probes.js';
import type { ContainerRuntime, RuntimeContainer } from './runtime.js';
import { bindsFor, VolumeError, type VolumeManager } from './volumes.js';

export type EventType = 'Normal' | 'Warning';

export interface PodSyncerDeps {
  runtime: ContainerRuntime;
  objects: ObjectSource;
  volumes: VolumeManager;
  probes: Pick<ProbeManager, 'track' | 'forgetPod' | 'isReady' | 'isStarted' | 'mustRestart'>;
  /** Records a core/v1 Event about the pod (best effort). */
  recordEvent(pod: Pod, type: EventType, reason: string, message: string): void;
  /** Merge-patches the pod's status subresource. */
  patchStatus(pod: Pod, patch: { status: Record<string, unknown> }): Promise<void>;
  /** Deletes the pod object for good (grace 0, precondition uid). */
  deletePod(pod: Pod): Promise<void>;
  /** The pod network; without it sandboxes join docker's default bridge (unit tests). */
  podNetwork?: PodNetworkAccess;
  nodeName: string;
  hostIP: string;
  log(line: string): void;
  now?: () => Date;
}

export interface PodNetworkAccess {
  /** Resolves with the docker network of the pods once the node's pod bridge exists. */
  ready(): Promise<string>;
  /** Writes the pod's resolv.conf (cluster DNS, by its dnsPolicy) and returns its path on the node. */
  writeResolvConf(pod: Pod): Promise<string>;
  /** Where writeResolvConf puts it. */
  resolvConfPath(pod: Pod): string;
}

export interface SyncResult {
  /** Sync again after this long (a back-off ends), if something is waiting for time. */
  resyncInMs?: number;
}

/** Retry a pod whose volumes could not be set up after this long. */
const VOLUME_RETRY_MS = 10_000;
/** How many apply-and-look-again rounds one sync may take (sandbox first, then containers). */
const MAX_ROUNDS = 3;

export class PodSyncer {
  /** pod uid -> container name -> why it waits */
  private readonly waiting = new Map<string, Map<string, ContainerWaiting>>();
  private readonly crashBackoff = new Backoff(CONTAINER_BACKOFF);
  private readonly pullBackoff = new Backoff(CONTAINER_BACKOFF);
  private readonly lastPullError = new Map<string, string>();
  /** pod uid -> the status last written (the informer's copy may lag behind it) */
  private readonly written = new Map<string, PodStatus>();
  private readonly now: () => Date;

  constructor(private readonly deps: PodSyncerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Brings one pod's containers to what its spec asks and writes its status. */
  async sync(podFromApi: Pod, containers: RuntimeContainer[]): Promise<SyncResult> {
    const uid = podFromApi.metadata?.uid ?? '';
    if (podFromApi.metadata?.deletionTimestamp) {
      await this.terminate(podFromApi, containers);
      return {};
    }
    const pod = this.withLatestStatus(podFromApi);
    const waiting = this.waitingOf(uid);
    let resyncInMs: number | undefined;
    const soonest = (ms: number): void => {
      resyncInMs = resyncInMs === undefined ? ms : Math.min(resyncInMs, ms);
    };

    let current = containers;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const actions = computePodActions(pod, current, {
        backoffRemainingMs: (name, finishedAtMs) => this.crashBackoff.remainingSince(backoffKey(uid, name), finishedAtMs, this.now().getTime()),
        mustRestart: (container) => this.deps.probes.mustRestart(container),
      });
      for (const waiter of actions.backingOff) {
        const delay = this.crashBackoff.currentDelay(backoffKey(uid, waiter.spec.name));
        this.setWaiting(pod, waiter.spec.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${goDuration(delay)} restarting failed container=${waiter.spec.name} pod=${podLabel(pod)}`,
        });
        this.deps.recordEvent(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${waiter.spec.name} in pod ${podLabel(pod)}`);
        soonest(waiter.remainingMs);
      }
      let changed = false;
      for (const { container, reason } of actions.kill) {
        changed = true;
        const message =
          reason === 'sandbox-changed'
            ? `Stopping container ${container.identity.container}`
            : `Container ${container.identity.container} failed ${reason} probe, will be restarted`;
        this.deps.recordEvent(pod, 'Normal', 'Killing', message);
        this.log(pod, `killing container ${container.identity.container} (${reason})`);
        await this.deps.runtime.stopContainer(container.id, this.graceSeconds(pod));
      }
      for (const container of actions.remove) await this.deps.runtime.removeContainer(container.id);
      if (actions.createSandbox) {
        await this.createSandbox(pod, actions.createSandbox.attempt);
        changed = true;
      } else if (actions.start.length > 0) {
        const sandbox = currentSandbox(current);
        const started = await this.startContainers(pod, actions.start, sandbox!, soonest);
        changed ||= started;
      }
      if (!changed) break;
      current = await this.listPodContainers(uid);
    }

    // A finished pod gives its address back: its sandbox stops (its containers stay for logs).
    const sandbox = currentSandbox(current);
    if (isTerminal(pod.status?.phase) && sandbox?.state === 'running') {
      await this.deps.runtime.stopContainer(sandbox.id, 0);
      current = await this.listPodContainers(uid);
    }

    const podIP = this.podIP(pod, current);
    this.deps.probes.track(uid, this.probeTargets(pod, current, podIP));
    await this.writeStatus(pod, current);
    return resyncInMs === undefined ? {} : { resyncInMs };
  }

  /** Stops the pod's containers within its grace period, removes everything, deletes the object. */
  async terminate(pod: Pod, containers: RuntimeContainer[]): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const grace = this.graceSeconds(pod);
    this.deps.probes.forgetPod(uid);
    await Promise.all(
      containers
        .filter((c) => !c.identity.sandbox && c.state === 'running')
        .map(async (container) => {
          this.deps.recordEvent(pod, 'Normal', 'Killing', `Stopping container ${container.identity.container}`);
          this.log(pod, `stopping container ${container.identity.container} (grace ${grace}s)`);
          await this.deps.runtime.stopContainer(container.id, grace);
        }),
    );
    await this.removeAll(uid, containers);
    await this.deps.deletePod(pod);
    this.log(pod, 'deleted');
  }

  /** Removes containers and files of a pod that no longer exists (deleted while we were away). */
  async cleanupOrphan(uid: string, containers: RuntimeContainer[]): Promise<void> {
    this.deps.probes.forgetPod(uid);
    for (const container of containers) {
      if (container.state === 'running') await this.deps.runtime.stopContainer(container.id, container.identity.sandbox ? 0 : 2);
    }
    await this.removeAll(uid, containers);
  }

  /** Forgets what the syncer remembered about a pod that is gone. */
  forget(uid: string): void {
    this.waiting.delete(uid);
    this.written.delete(uid);
    this.crashBackoff.forgetPrefix(`${uid}/`);
    this.pullBackoff.forgetPrefix(`${uid}/`);
    for (const key of [...this.lastPullError.keys()]) if (key.startsWith(`${uid}/`)) this.lastPullError.delete(key);
  }

  private async removeAll(uid: string, containers: RuntimeContainer[]): Promise<void> {
    for (const container of containers) if (!container.identity.sandbox) await this.deps.runtime.removeContainer(container.id);
    for (const container of containers) if (container.identity.sandbox) await this.deps.runtime.removeContainer(container.id);
    await this.deps.volumes.removePod(uid);
    this.forget(uid);
  }

  private async listPodContainers(uid: string): Promise<RuntimeContainer[]> {
    return this.deps.runtime.listPodContainers(uid);
  }

  private async createSandbox(pod: Pod, attempt: number): Promise<void> {
    await this.deps.runtime.ensurePauseImage();
    const podNetwork = this.deps.podNetwork;
    const network = podNetwork
      ? { network: pod.spec?.hostNetwork ? 'host' : await podNetwork.ready(), resolvConfPath: await podNetwork.writeResolvConf(pod) }
      : undefined;
    const request = sandboxRequest(pod, attempt, network);
    const id = await this.deps.runtime.createContainer(request);
    await this.deps.runtime.startContainer(id);
    this.log(pod, `started sandbox ${id.slice(0, 12)}${attempt > 0 ? ` (attempt ${attempt})` : ''}`);
  }

  /** Starts what the actions ask; true when anything was created. */
  private async startContainers(pod: Pod, starts: StartAction[], sandbox: RuntimeContainer, soonest: (ms: number) => void): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const fields = this.fields(pod, sandbox.ipAddress || undefined);
    let volumePaths: Map<string, string>;
    try {
      volumePaths = await this.deps.volumes.prepare(pod, fields);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.deps.recordEvent(pod, 'Warning', 'FailedMount', err.message);
      this.log(pod, err.message);
      soonest(VOLUME_RETRY_MS);
      return false;
    }
    let created = false;
    for (const action of starts) {
      if (action.restartOf) {
        const finished = Date.parse(action.restartOf.finishedAt ?? '') || this.now().getTime();
        this.crashBackoff.next(backoffKey(uid, action.spec.name), finished, this.now().getTime());
      }
      const outcome = await this.startContainer(pod, action, sandbox, fields, volumePaths);
      if (outcome === 'created') created = true;
      else if (typeof outcome === 'number') soonest(outcome);
    }
    return created;
  }

  /** 'created', or ms until it makes sense to try again, or 'failed'. */
  private async startContainer(
    pod: Pod,
    action: StartAction,
    sandbox: RuntimeContainer,
    fields: PodRuntimeFields,
    volumePaths: Map<string, string>,
  ): Promise<'created' | 'failed' | number> {
    const { spec } = action;
    const waiting = this.waitingOf(pod.metadata?.uid ?? '');
    const image = await this.ensureImage(pod, spec);
    if (image !== 'ready') return image;
    let env: Map<string, string>;
    try {
      env = await resolveEnv(pod, spec, this.deps.objects, fields);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.setWaiting(pod, spec.name, { reason: 'CreateContainerConfigError', message: err.message });
      this.deps.recordEvent(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return VOLUME_RETRY_MS;
    }
    const resolvConf = this.deps.podNetwork ? resolvConfBinds({ network: '', resolvConfPath: this.deps.podNetwork.resolvConfPath(pod) }) : [];
    const binds = [...bindsFor(spec, volumePaths), ...resolvConf];
    const request = containerRequest(pod, spec, { sandboxId: sandbox.id, attempt: action.attempt, init: action.init, env, binds });
    let id: string;
    try {
      id = await this.deps.runtime.createContainer(request);
    } catch (err) {
      const message = (err as Error).message;
      this.setWaiting(pod, spec.name, { reason: 'CreateContainerError', message });
      this.deps.recordEvent(pod, 'Warning', 'Failed', `Error: ${message}`);
      return VOLUME_RETRY_MS;
    }
    this.deps.recordEvent(pod, 'Normal', 'Created', `Created container: ${spec.name}`);
    waiting.delete(spec.name);
    try {
      await this.deps.runtime.startContainer(id);
      this.deps.recordEvent(pod, 'Normal', 'Started', `Started container ${spec.name}`);
      this.log(pod, `started container ${spec.name}${action.attempt > 0 ? ` (restart ${action.attempt})` : ''}`);
    } catch (err) {
      const message = (err as Error).message;
      this.deps.recordEvent(pod, 'Warning', 'Failed', `Error: failed to start container "${spec.name}": ${message}`);
      this.log(pod, `starting container ${spec.name} failed: ${message}`);
    }
    return 'created';
  }

  /** 'ready' when the image can be used; otherwise the container waits (reason recorded). */
  private async ensureImage(pod: Pod, spec: Container): Promise<'ready' | 'failed' | number> {
    const uid = pod.metadata?.uid ?? '';
    const image = spec.image ?? '';
    const waiting = this.waitingOf(uid);
    const key = `${uid}/${image}`;
    const present = (await this.deps.runtime.inspectImage(image)) !== undefined;
    const decision = decidePull(effectivePullPolicy(spec), present);
    if (decision.action === 'never-pull-missing') {
      const message = imageMessages.neverPull(image);
      this.setWaiting(pod, spec.name, { reason: 'ErrImageNeverPull', message });
      this.deps.recordEvent(pod, 'Warning', 'ErrImageNeverPull', message);
      this.deps.recordEvent(pod, 'Warning', 'Failed', 'Error: ErrImageNeverPull');
      return VOLUME_RETRY_MS;
    }
    if (decision.action === 'use-local') {
      this.deps.recordEvent(pod, 'Normal', 'Pulled', imageMessages.alreadyPresent(image));
      return 'ready';
    }
    const nowMs = this.now().getTime();
    const remaining = this.pullBackoff.remainingSinceUpdate(key, nowMs);
    if (remaining > 0 && !decision.presentLocally) {
      const lastError = this.lastPullError.get(key) ?? '';
      this.setWaiting(pod, spec.name, { reason: 'ImagePullBackOff', message: `${imageMessages.backOff(image)}: ErrImagePull: ${lastError}` });
      this.deps.recordEvent(pod, 'Normal', 'BackOff', imageMessages.backOff(image));
      this.deps.recordEvent(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      return remaining;
    }
    this.deps.recordEvent(pod, 'Normal', 'Pulling', imageMessages.pulling(image));
    const startedMs = Date.now();
    try {
      await this.deps.runtime.pullImage(image);
      const info = await this.deps.runtime.inspectImage(image);
      this.pullBackoff.reset(key);
      this.deps.recordEvent(pod, 'Normal', 'Pulled', imageMessages.pulled(image, Date.now() - startedMs, info?.sizeBytes ?? 0));
      this.log(pod, `pulled image ${image}`);
      return 'ready';
    } catch (err) {
      const message = (err as Error).message;
      if (decision.presentLocally) {
        this.deps.recordEvent(pod, 'Normal', 'Pulled', imageMessages.alreadyPresentPullFailed(image, message));
        this.log(pod, `pulling ${image} failed, using the local image: ${message}`);
        return 'ready';
      }
      const delay = this.pullBackoff.next(key, nowMs, nowMs);
      this.lastPullError.set(key, message);
      this.setWaiting(pod, spec.name, { reason: 'ErrImagePull', message });
      this.deps.recordEvent(pod, 'Warning', 'Failed', imageMessages.pullFailed(image, message));
      this.deps.recordEvent(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
      return delay;
    }
  }

  private async writeStatus(pod: Pod, containers: RuntimeContainer[]): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const status = computePodStatus({
      pod,
      containers,
      waiting: this.waitingOf(uid),
      isReady: (c, spec) => this.deps.probes.isReady(c, spec),
      isStarted: (c, spec) => this.deps.probes.isStarted(c, spec),
      hostIP: this.deps.hostIP,
      now: this.now(),
    });
    if (!statusDiffers(pod.status, status)) return;
    await this.deps.patchStatus(pod, statusPatch(pod.status, status));
    this.written.set(uid, status);
    if (status.phase !== pod.status?.phase) this.log(pod, `phase ${status.phase}`);
  }

  /** The pod with the status this agent last wrote, when the API's copy has not caught up yet. */
  private withLatestStatus(pod: Pod): Pod {
    const written = this.written.get(pod.metadata?.uid ?? '');
    if (!written) return pod;
    if (isTerminal(written.phase) && !isTerminal(pod.status?.phase)) return { ...pod, status: { ...pod.status, ...written } };
    return pod;
  }

  private probeTargets(pod: Pod, containers: RuntimeContainer[], podIP: string) {
    const specs = new Map((pod.spec?.containers ?? []).map((c) => [c.name, c]));
    return containers
      .filter((c) => !c.identity.sandbox && !c.identity.init && c.state === 'running')
      .flatMap((container) => {
        const spec = specs.get(container.identity.container);
        return spec && (spec.livenessProbe || spec.readinessProbe || spec.startupProbe) ? [{ container, spec, podIP }] : [];
      });
  }

  private podIP(pod: Pod, containers: RuntimeContainer[]): string {
    if (pod.spec?.hostNetwork) return this.deps.hostIP;
    const sandbox = currentSandbox(containers);
    return (sandbox?.state === 'running' ? sandbox.ipAddress : undefined) || pod.status?.podIP || '';
  }

  private fields(pod: Pod, sandboxIP: string | undefined): PodRuntimeFields {
    return { podIP: pod.spec?.hostNetwork ? this.deps.hostIP : (sandboxIP ?? ''), hostIP: this.deps.hostIP, nodeName: this.deps.nodeName };
  }

  /** Seconds left of the pod's grace period (from deletionTimestamp), else its terminationGracePeriodSeconds. */
  private graceSeconds(pod: Pod): number {
    const deadline = Date.parse(pod.metadata?.deletionTimestamp ?? '');
    if (!Number.isNaN(deadline)) return Math.max(0, Math.ceil((deadline - this.now().getTime()) / 1000));
    return pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** Records why a container waits; logs only when the reason changes (syncs repeat every few seconds). */
  private setWaiting(pod: Pod, container: string, waiting: ContainerWaiting): void {
    const map = this.waitingOf(pod.metadata?.uid ?? '');
    if (map.get(container)?.reason !== waiting.reason) this.log(pod, `container ${container}: ${waiting.reason}: ${waiting.message ?? ''}`);
    map.set(container, waiting);
  }

  private waitingOf(uid: string): Map<string, ContainerWaiting> {
    let map = this.waiting.get(uid);
    if (!map) {
      map = new Map();
      this.waiting.set(uid, map);
    }
    return map;
  }

  private log(pod: Pod, message: string): void {
    this.deps.log(`agent: pod ${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}: ${message}`);
  }
}

function isTerminal(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

function backoffKey(uid: string, container: string): string {
  return `${uid}/${container}`;
}

/** name_namespace(uid), as kubelet messages name pods. */
function podLabel(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${pod.metadata?.uid ?? ''})`;
}
