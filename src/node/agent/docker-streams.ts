/**
 * ContainerStreams on the node's dockerd: container logs, and exec/attach over hijacked
 * connections, with docker's stream framing undone (8-byte headers unless the process has a
 * TTY). Knows docker, not Kubernetes: the kubelet server speaks the client's protocols.
 */
import type { Socket } from 'node:net';
import type { DockerClient } from './docker-client.js';
import type {
  ContainerStreams,
  InteractiveSession,
  LogRequest,
  LogSession,
  OutputListener,
  OutputStream,
  SessionEnd,
  StreamSelection,
} from './runtime.js';

/** How often, and how long, to ask dockerd whether an exec's process has started / has ended. */
const EXEC_POLL_MS = 20;
const EXEC_START_WAIT_MS = 5_000;
const EXEC_EXIT_WAIT_MS = 5_000;

const HEADER_SIZE = 8;
/** stdcopy's stream numbers: 0 stdin, 1 stdout, 2 stderr, 3 an error of dockerd's own. */
const SYSTEM_ERROR_STREAM = 3;

/**
 * Undoes docker's multiplexed framing ([stream, 0, 0, 0, size uint32 BE] + payload) across
 * chunk boundaries. dockerd's own errors (stream 3) come out as stderr.
 */
export class MultiplexedStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { stream: OutputStream; data: Buffer }[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: { stream: OutputStream; data: Buffer }[] = [];
    let offset = 0;
    while (this.pending.length - offset >= HEADER_SIZE) {
      const size = this.pending.readUInt32BE(offset + 4);
      if (this.pending.length - offset - HEADER_SIZE < size) break;
      const kind = this.pending[offset]!;
      const data = this.pending.subarray(offset + HEADER_SIZE, offset + HEADER_SIZE + size);
      offset += HEADER_SIZE + size;
      if (size === 0) continue;
      frames.push({ stream: kind === 2 || kind === SYSTEM_ERROR_STREAM ? 2 : 1, data });
    }
    this.pending = this.pending.subarray(offset);
    return frames;
  }
}

/** A reader of docker output chunks: raw (TTY: everything is stdout) or multiplexed. */
function outputReader(tty: boolean, onOutput: OutputListener): (chunk: Buffer) => void {
  if (tty) return (chunk) => onOutput(1, chunk);
  const decoder = new MultiplexedStreamDecoder();
  return (chunk) => {
    for (const frame of decoder.push(chunk)) onOutput(frame.stream, frame.data);
  };
}

interface ExecInspect {
  Running?: boolean;
  ExitCode?: number | null;
  /** 0 until the process has started; stays 0 when it never could. */
  Pid?: number;
}

export class DockerStreams implements ContainerStreams {
  constructor(private readonly docker: DockerClient) {}

  async logs(id: string, request: LogRequest, onOutput: OutputListener): Promise<LogSession> {
    const res = await this.docker.stream({
      method: 'GET',
      path: `/containers/${encodeURIComponent(id)}/logs`,
      query: {
        stdout: 1,
        stderr: 1,
        follow: request.follow ? 1 : undefined,
        tail: request.tailLines === undefined ? 'all' : request.tailLines,
        since: request.since ? unixSeconds(request.since) : undefined,
        // dockerd writes RFC3339Nano with nine digits and a space, exactly what the kubelet writes
        timestamps: request.timestamps ? 1 : undefined,
      },
    });
    const read = outputReader(request.tty, onOutput);
    const finished = new Promise<void>((resolve) => {
      res.on('data', (chunk: Buffer) => read(chunk));
      res.once('end', () => resolve());
      res.once('close', () => resolve());
      res.once('error', () => resolve());
    });
    return { finished, pause: () => res.pause(), resume: () => res.resume(), close: () => res.destroy() };
  }

  async exec(id: string, command: string[], selection: StreamSelection, onOutput: OutputListener): Promise<InteractiveSession> {
    const created = await this.docker.json<{ Id: string }>({
      method: 'POST',
      path: `/containers/${encodeURIComponent(id)}/exec`,
      body: {
        AttachStdin: selection.stdin,
        AttachStdout: selection.stdout,
        AttachStderr: selection.stderr && !selection.tty,
        Tty: selection.tty,
        Cmd: command,
      },
    });
    const execId = created.Id;
    const inspect = (): Promise<ExecInspect> => this.docker.json<ExecInspect>({ method: 'GET', path: `/exec/${execId}/json` });
    const gate = new StartGate(onOutput);
    const { socket, head } = await this.docker.hijack({ method: 'POST', path: `/exec/${execId}/start`, body: { Detach: false, Tty: selection.tty } });
    const session = new HijackedSession(socket, head, outputReader(selection.tty, gate.listener), (width, height) =>
      this.docker.json({ method: 'POST', path: `/exec/${execId}/resize`, query: { h: height, w: width } }),
    );
    void gate.confirmWhenStarted(inspect, session.streamEnded);
    // Nobody waits for the exit code of a session the client left.
    const finished = session.streamEnded.then(() => (session.left ? {} : execOutcome(inspect, gate)));
    return session.withFinished(finished);
  }

  async attach(id: string, selection: StreamSelection, onOutput: OutputListener): Promise<InteractiveSession> {
    const container = encodeURIComponent(id);
    const { socket, head } = await this.docker.hijack({
      method: 'POST',
      path: `/containers/${container}/attach`,
      query: { stream: 1, stdin: selection.stdin ? 1 : 0, stdout: selection.stdout ? 1 : 0, stderr: selection.stderr ? 1 : 0 },
    });
    const session = new HijackedSession(socket, head, outputReader(selection.tty, onOutput), (width, height) =>
      this.docker.json({ method: 'POST', path: `/containers/${container}/resize`, query: { h: height, w: width } }),
    );
    return session.withFinished(session.streamEnded.then(() => ({})));
  }
}

/** docker's `since`: Unix seconds with nanoseconds after the dot. */
function unixSeconds(time: Date): string {
  const ms = time.getTime();
  const seconds = Math.floor(ms / 1000);
  return `${seconds}.${String(ms - seconds * 1000).padStart(3, '0')}000000`;
}

/**
 * Holds an exec's output back until dockerd says its process started. When it never does
 * (executable not found, …), what dockerd wrote into the stream is its error message, which
 * becomes the session's error instead of output.
 */
class StartGate {
  private held: { stream: OutputStream; data: Buffer }[] | undefined = [];

  constructor(private readonly onOutput: OutputListener) {}

  readonly listener: OutputListener = (stream, data) => {
    if (this.held) this.held.push({ stream, data });
    else this.onOutput(stream, data);
  };

  get open(): boolean {
    return this.held === undefined;
  }

  /** Lets held output through, in order. */
  release(): void {
    const held = this.held;
    this.held = undefined;
    for (const { stream, data } of held ?? []) this.onOutput(stream, data);
  }

  /** What was held, as text: dockerd's message about a start that failed. */
  heldText(): string {
    return Buffer.concat((this.held ?? []).map((piece) => piece.data))
      .toString('utf8')
      .trim();
  }

  async confirmWhenStarted(inspect: () => Promise<ExecInspect>, streamEnded: Promise<void>): Promise<void> {
    let ended = false;
    void streamEnded.then(() => (ended = true));
    const deadline = Date.now() + EXEC_START_WAIT_MS;
    while (!this.open && !ended) {
      let state: ExecInspect;
      try {
        state = await inspect();
      } catch {
        this.release();
        return;
      }
      // No Pid field at all (an engine that does not report it): nothing to wait for.
      if (state.Pid === undefined || state.Pid > 0 || Date.now() > deadline) {
        this.release();
        return;
      }
      await sleep(EXEC_POLL_MS);
    }
  }
}

/** After the stream ended: the exit code (dockerd may record it a moment later), or the start error. */
async function execOutcome(inspect: () => Promise<ExecInspect>, gate: StartGate): Promise<SessionEnd> {
  const deadline = Date.now() + EXEC_EXIT_WAIT_MS;
  for (;;) {
    let state: ExecInspect;
    try {
      state = await inspect();
    } catch (err) {
      gate.release();
      return { error: (err as Error).message };
    }
    const exited = state.Running !== true && state.ExitCode !== null && state.ExitCode !== undefined;
    if (exited || Date.now() > deadline) {
      if (!gate.open && state.Pid === 0) return { error: gate.heldText() || `the command could not be started (exit code ${state.ExitCode ?? 'unknown'})` };
      gate.release();
      if (!exited) return { error: 'the command ended but its exit code is unknown' };
      return { exitCode: state.ExitCode! };
    }
    await sleep(EXEC_POLL_MS);
  }
}

/** One hijacked docker connection: output is read into `read`, stdin written back on the same socket. */
class HijackedSession {
  readonly streamEnded: Promise<void>;
  /** close() was called: the client left before the stream ended. */
  left = false;
  private stdinClosed = false;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    read: (chunk: Buffer) => void,
    private readonly resizeTo: (width: number, height: number) => Promise<unknown>,
  ) {
    socket.setNoDelay(true);
    this.streamEnded = new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.once('error', () => resolve());
    });
    if (head.length > 0) read(head);
    socket.on('data', read);
    // dockerd half-closes when the process's output ends; we close our side too.
    socket.once('end', () => socket.destroy());
  }

  withFinished(finished: Promise<SessionEnd>): InteractiveSession {
    return {
      writeStdin: (data) => {
        if (!this.stdinClosed && !this.socket.destroyed) this.socket.write(data);
      },
      closeStdin: () => {
        if (this.stdinClosed || this.socket.destroyed) return;
        this.stdinClosed = true;
        this.socket.end();
      },
      resize: async (width, height) => {
        // Before the process runs (or after it ended) dockerd refuses a resize: harmless.
        await this.resizeTo(width, height).catch(() => undefined);
      },
      pause: () => this.socket.pause(),
      resume: () => this.socket.resume(),
      close: () => {
        this.left = true;
        this.socket.destroy();
      },
      finished,
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
