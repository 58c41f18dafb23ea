/** An in-memory ContainerRuntime for the agent's tests: containers run until a test ends them. */
import { identityFromLabels } from '../../src/node/agent/labels.js';
import type { ContainerRuntime, CreateRequest, ExecResult, ImageInfo, NodeRuntimeInfo, RuntimeContainer } from '../../src/node/agent/runtime.js';

export interface FakeContainer extends RuntimeContainer {
  name: string;
  request: CreateRequest;
}

export class FakeRuntime implements ContainerRuntime, NodeRuntimeInfo {
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, ImageInfo>();
  /** Images a pull would succeed for (there is no registry: empty by default). */
  readonly pullable = new Set<string>();
  readonly calls: string[] = [];
  pauseImageBuilt = 0;
  execResult: ExecResult = { exitCode: 0, output: '' };
  private nextId = 1;
  private nextIp = 2;
  /** Containers that exit at once with this code when started (by container name label). */
  readonly exitOnStart = new Map<string, number>();
  private listeners: ((uid: string) => void)[] = [];

  addImage(ref: string): void {
    this.images.set(ref, { id: `sha256:${ref.replace(/[^a-z0-9]/g, '').padEnd(12, '0')}`, repoTags: [ref], repoDigests: [], sizeBytes: 1000 });
  }

  async listPodContainers(podUid?: string): Promise<RuntimeContainer[]> {
    return [...this.containers.values()].filter((c) => podUid === undefined || c.identity.uid === podUid).map((c) => ({ ...c, identity: { ...c.identity } }));
  }

  async createContainer(request: CreateRequest): Promise<string> {
    for (const existing of this.containers.values()) if (existing.name === request.name) throw new Error(`name ${request.name} in use`);
    const id = `c${String(this.nextId++).padStart(11, '0')}${'0'.repeat(52)}`;
    const identity = identityFromLabels(request.config.Labels)!;
    this.containers.set(id, {
      id,
      name: request.name,
      request,
      identity,
      state: 'created',
      exitCode: 0,
      oomKilled: false,
      image: request.config.Image,
      imageId: this.images.get(request.config.Image)?.id ?? 'sha256:pause',
    });
    this.calls.push(`create ${request.name}`);
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const container = this.mustGet(id);
    container.state = 'running';
    container.startedAt = new Date().toISOString();
    if (container.identity.sandbox) container.ipAddress = `10.244.1.${this.nextIp++}`;
    this.calls.push(`start ${container.name}`);
    const code = this.exitOnStart.get(container.identity.container);
    if (code !== undefined) this.exit(id, code);
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    const container = this.containers.get(id);
    if (!container) return;
    this.calls.push(`stop ${container.name} ${graceSeconds}`);
    if (container.state === 'running') this.exit(id, graceSeconds > 0 ? 143 : 137, false);
  }

  async removeContainer(id: string): Promise<void> {
    const container = this.containers.get(id);
    if (!container) return;
    this.calls.push(`remove ${container.name}`);
    this.containers.delete(id);
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.images.get(ref);
  }

  async pullImage(ref: string): Promise<void> {
    this.calls.push(`pull ${ref}`);
    if (!this.pullable.has(ref)) throw new Error(`Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`);
    this.addImage(ref);
  }

  async ensurePauseImage(): Promise<void> {
    this.pauseImageBuilt++;
  }

  async exec(): Promise<ExecResult> {
    return this.execResult;
  }

  async version(): Promise<string> {
    return '20.10.24';
  }

  async listImages(): Promise<ImageInfo[]> {
    return [...this.images.values()];
  }

  watch(onChange: (uid: string) => void): { stop(): void } {
    this.listeners.push(onChange);
    return { stop: () => (this.listeners = this.listeners.filter((l) => l !== onChange)) };
  }

  /** Ends a running container as if its process exited. */
  exit(id: string, exitCode: number, notify = true, oomKilled = false): void {
    const container = this.mustGet(id);
    container.state = 'exited';
    container.exitCode = exitCode;
    container.oomKilled = oomKilled;
    container.finishedAt = new Date().toISOString();
    if (notify) for (const listener of this.listeners) listener(container.identity.uid);
  }

  byContainerName(name: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.identity.container === name).sort((a, b) => b.identity.attempt - a.identity.attempt);
  }

  private mustGet(id: string): FakeContainer {
    const container = this.containers.get(id);
    if (!container) throw new Error(`no container ${id}`);
    return container;
  }
}
