/**
 * The container runtime as the pod logic sees it: a narrow interface (docker in production,
 * a fake in tests) speaking in the agent's own terms, not docker's.
 */
import type { ContainerIdentity } from './labels.js';

export type RuntimeState = 'created' | 'running' | 'exited';

/** One container the agent created, as the runtime reports it now. */
export interface RuntimeContainer {
  id: string;
  identity: ContainerIdentity;
  state: RuntimeState;
  exitCode: number;
  oomKilled: boolean;
  /** RFC 3339 (any precision); undefined when never started. */
  startedAt?: string;
  finishedAt?: string;
  /** The image reference it was created from, and the image's id (sha256:…). */
  image: string;
  imageId: string;
  /** Sandboxes only: the pod's address on the node's bridge ('' with host networking). */
  ipAddress?: string;
  /** Why the runtime could not run it (e.g. a failed start), if it says. */
  error?: string;
  /** Created with a TTY: its output (logs, attach) is one raw stream, not stdout and stderr apart. */
  tty?: boolean;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  sizeBytes: number;
}

/** What the agent asks the runtime to create; `config` is the Engine API's create body. */
export interface CreateRequest {
  name: string;
  identity: ContainerIdentity;
  // The Engine API's container create body: a large, loosely typed JSON document built in container-config.ts.
  config: DockerCreateConfig;
}

export interface DockerCreateConfig {
  Image: string;
  Hostname?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Labels: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig: {
    NetworkMode?: string;
    IpcMode?: string;
    Binds?: string[];
    Memory?: number;
    NanoCpus?: number;
    CpuShares?: number;
    PortBindings?: Record<string, { HostIp?: string; HostPort: string }[]>;
    RestartPolicy?: { Name: string };
    Privileged?: boolean;
    ReadonlyRootfs?: boolean;
    CapAdd?: string[];
    CapDrop?: string[];
  };
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface ContainerRuntime {
  /** Every container that carries the agent's pod labels (running or not); only one pod's with podUid. */
  listPodContainers(podUid?: string): Promise<RuntimeContainer[]>;
  createContainer(request: CreateRequest): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after graceSeconds (0 = kill at once). A missing container is not an error. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Removes a stopped container (forcibly if still running). A missing one is not an error. */
  removeContainer(id: string): Promise<void>;
  /** undefined when the image is not on this node. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Rejects with the runtime's message when the pull fails. */
  pullImage(ref: string): Promise<void>;
  /** Makes sure the sandbox image exists locally (built once). */
  ensurePauseImage(): Promise<void>;
  exec(id: string, command: string[], timeoutMs: number): Promise<ExecResult>;
}

/** A container's output stream, as the kubelet's stream protocols number them (1 stdout, 2 stderr). */
export type OutputStream = 1 | 2;

export interface LogRequest {
  follow: boolean;
  /** The last N lines only (stdout and stderr together); all when undefined. */
  tailLines?: number;
  /** Only what was written at or after this time. */
  since?: Date;
  /** Prefix every line with its time (RFC 3339, nanoseconds). */
  timestamps: boolean;
  /** The container has a TTY (one raw stream). */
  tty: boolean;
}

/** An open log stream: output arrives through the callback given when it was opened. */
export interface LogSession {
  /** Resolves when the log ends: all read, or (follow) the container stopped. */
  readonly finished: Promise<void>;
  /** Flow control: stop and restart reading while the client is slow. */
  pause(): void;
  resume(): void;
  /** Stops reading now (the client went away). */
  close(): void;
}

/** Which of a process's streams an exec or attach session carries. */
export interface StreamSelection {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Exec: run with a TTY. Attach: the container's own TTY setting (it decides the framing). */
  tty: boolean;
}

/** How an interactive session ended: the exec's exit code, or why the command never ran. Attach has neither. */
export interface SessionEnd {
  exitCode?: number;
  error?: string;
}

/** A running exec or attach: output arrives through the callback given when it was opened. */
export interface InteractiveSession {
  writeStdin(data: Buffer): void;
  /** End of input: the process reads EOF (output keeps coming). */
  closeStdin(): void;
  resize(width: number, height: number): Promise<void>;
  /** Flow control: stop and restart reading output while the client is slow. */
  pause(): void;
  resume(): void;
  /** Leaves at once (the client went away); the process itself is not stopped. */
  close(): void;
  readonly finished: Promise<SessionEnd>;
}

export type OutputListener = (stream: OutputStream, data: Buffer) => void;

/** The kubelet API's streams (logs, exec, attach) on the runtime's containers. */
export interface ContainerStreams {
  /** Rejects before any output when the runtime refuses (e.g. the container is gone). */
  logs(id: string, request: LogRequest, onOutput: OutputListener): Promise<LogSession>;
  exec(id: string, command: string[], selection: StreamSelection, onOutput: OutputListener): Promise<InteractiveSession>;
  attach(id: string, selection: StreamSelection, onOutput: OutputListener): Promise<InteractiveSession>;
}

/** What the node status needs from the runtime. */
export interface NodeRuntimeInfo {
  /** e.g. '20.10.24' */
  version(): Promise<string>;
  listImages(): Promise<ImageInfo[]>;
}

/** The container's id as Kubernetes shows it. */
export function kubeContainerId(id: string): string {
  return `docker://${id}`;
}
