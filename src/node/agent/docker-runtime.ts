/** ContainerRuntime on the node's dockerd (Engine API over its unix socket). */
import fs from 'node:fs';
import { PAUSE_IMAGE } from './container-config.js';
import { DockerClient, DockerError, isDockerNotFound, type DockerEvent } from './docker-client.js';
import { identityFromLabels, LABELS } from './labels.js';
import type { ContainerRuntime, CreateRequest, ExecResult, ImageInfo, NodeRuntimeInfo, RuntimeContainer, RuntimeState } from './runtime.js';
import { createTar } from './tar.js';

const PAUSE_REPO = 'clusterlab/pause';
const PAUSE_TAG = '1';
const BUSYBOX_PATH = '/bin/busybox';
/** busybox sleep takes seconds as a signed 32-bit number on some builds: stay below 2^31. */
const PAUSE_ENTRYPOINT = ['/bin/busybox', 'sleep', '2147483647'];

interface InspectedContainer {
  Id: string;
  Name?: string;
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null; Tty?: boolean };
  State?: { Status?: string; Running?: boolean; ExitCode?: number; OOMKilled?: boolean; StartedAt?: string; FinishedAt?: string; Error?: string };
  NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> | null };
}

interface InspectedImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size?: number;
}

export class DockerRuntime implements ContainerRuntime, NodeRuntimeInfo {
  constructor(
    private readonly docker: DockerClient,
    private readonly busyboxPath: string = BUSYBOX_PATH,
  ) {}

  async listPodContainers(podUid?: string): Promise<RuntimeContainer[]> {
    // Filtered by dockerd: a pod's sync must not inspect every container on the node.
    const label = podUid === undefined ? LABELS.podUid : `${LABELS.podUid}=${podUid}`;
    const summaries = await this.docker.json<{ Id: string }[]>({
      method: 'GET',
      path: '/containers/json',
      query: { all: 1, filters: JSON.stringify({ label: [label] }) },
    });
    const result: RuntimeContainer[] = [];
    for (const summary of summaries) {
      try {
        const inspected = await this.docker.json<InspectedContainer>({ method: 'GET', path: `/containers/${summary.Id}/json` });
        const container = toRuntimeContainer(inspected);
        if (container) result.push(container);
      } catch (err) {
        if (!isDockerNotFound(err)) throw err; // removed between list and inspect
      }
    }
    return result;
  }

  async createContainer(request: CreateRequest): Promise<string> {
    const query = { name: request.name };
    try {
      const created = await this.docker.json<{ Id: string }>({ method: 'POST', path: '/containers/create', query, body: request.config });
      return created.Id;
    } catch (err) {
      // A leftover of the same name (an agent that died mid-create) is replaced.
      if (!(err instanceof DockerError) || err.statusCode !== 409) throw err;
      await this.removeContainer(request.name);
      const created = await this.docker.json<{ Id: string }>({ method: 'POST', path: '/containers/create', query, body: request.config });
      return created.Id;
    }
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.json({ method: 'POST', path: `/containers/${id}/start` });
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.json({ method: 'POST', path: `/containers/${id}/stop`, query: { t: Math.max(0, Math.floor(graceSeconds)) }, timeoutMs: (graceSeconds + 30) * 1000 });
    } catch (err) {
      if (!isDockerNotFound(err)) throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.json({ method: 'DELETE', path: `/containers/${encodeURIComponent(id)}`, query: { force: true, v: true } });
    } catch (err) {
      if (!isDockerNotFound(err)) throw err;
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const image = await this.docker.json<InspectedImage>({ method: 'GET', path: `/images/${encodeURIComponent(ref)}/json` });
      return toImageInfo(image);
    } catch (err) {
      if (isDockerNotFound(err)) return undefined;
      throw err;
    }
  }

  async pullImage(ref: string): Promise<void> {
    const hasTagOrDigest = ref.includes('@') || /:[^/]+$/.test(ref);
    await this.docker.progress({ method: 'POST', path: '/images/create', query: { fromImage: ref, tag: hasTagOrDigest ? undefined : 'latest' } });
  }

  async ensurePauseImage(): Promise<void> {
    if (await this.inspectImage(PAUSE_IMAGE)) return;
    const busybox = fs.readFileSync(this.busyboxPath);
    const rootfs = createTar([
      { path: 'bin/', mode: 0o755 },
      { path: 'bin/busybox', mode: 0o755, content: busybox },
    ]);
    const params = new URLSearchParams({ fromSrc: '-', repo: PAUSE_REPO, tag: PAUSE_TAG });
    params.append('changes', `ENTRYPOINT ${JSON.stringify(PAUSE_ENTRYPOINT)}`);
    await this.docker.progress({ method: 'POST', path: `/images/create?${params.toString()}`, body: rootfs, contentType: 'application/x-tar' });
  }

  exec(id: string, command: string[], timeoutMs: number): Promise<ExecResult> {
    return this.docker.exec(id, command, timeoutMs);
  }

  async version(): Promise<string> {
    const version = await this.docker.json<{ Version?: string }>({ method: 'GET', path: '/version' });
    return version.Version ?? 'unknown';
  }

  async listImages(): Promise<ImageInfo[]> {
    const images = await this.docker.json<InspectedImage[]>({ method: 'GET', path: '/images/json' });
    return images.map(toImageInfo);
  }

  /** Container starts/exits of pod containers, as they happen: calls onChange with the pod uid. */
  watchContainerEvents(onChange: (podUid: string) => void, onEnd: (err?: Error) => void): { stop(): void } {
    return this.docker.events(
      { type: ['container'], label: [LABELS.podUid] },
      (event: DockerEvent) => {
        const uid = event.Actor?.Attributes?.[LABELS.podUid];
        if (uid && event.Action && WATCHED_ACTIONS.has(event.Action)) onChange(uid);
      },
      onEnd,
    );
  }
}

const WATCHED_ACTIONS = new Set(['start', 'die', 'oom', 'destroy', 'kill', 'stop']);

function toRuntimeContainer(inspected: InspectedContainer): RuntimeContainer | undefined {
  const identity = identityFromLabels(inspected.Config?.Labels ?? undefined);
  if (!identity) return undefined;
  const state = inspected.State ?? {};
  return {
    id: inspected.Id,
    identity,
    // A container whose start failed stays 'created' with an error: it ran and ended, as far as restarts go.
    state: state.Status === 'created' && state.Error ? 'exited' : runtimeState(state.Status),
    exitCode: state.ExitCode ?? 0,
    oomKilled: state.OOMKilled === true,
    startedAt: dockerTime(state.StartedAt),
    finishedAt: dockerTime(state.FinishedAt),
    image: inspected.Config?.Image ?? '',
    imageId: inspected.Image ?? '',
    // The pods' bridge is a user-defined network: its address is under Networks, not IPAddress.
    ipAddress: inspected.NetworkSettings?.IPAddress || Object.values(inspected.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress || '',
    ...(state.Error ? { error: state.Error } : {}),
    ...(inspected.Config?.Tty ? { tty: true } : {}),
  };
}

function runtimeState(status: string | undefined): RuntimeState {
  if (status === 'running' || status === 'paused' || status === 'restarting') return 'running';
  if (status === 'created') return 'created';
  return 'exited';
}

/** Docker reports "0001-01-01T00:00:00Z" for never. */
function dockerTime(value: string | undefined): string | undefined {
  if (!value || value.startsWith('0001-')) return undefined;
  return value;
}

function toImageInfo(image: InspectedImage): ImageInfo {
  return { id: image.Id, repoTags: image.RepoTags ?? [], repoDigests: image.RepoDigests ?? [], sizeBytes: image.Size ?? 0 };
}
