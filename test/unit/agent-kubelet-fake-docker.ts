/**
 * A fake Docker Engine API on a unix socket, for the kubelet API tests: container logs
 * (tail, since, timestamps, follow), exec and attach over hijacked connections answered with
 * docker's real framing (101 UPGRADED, 8-byte frame headers unless TTY, half-close for stdin
 * EOF), exec inspect with Pid and ExitCode, and resizes. Only what those tests need.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';

export type FakeStream = 1 | 2;

interface LogEntry {
  stream: FakeStream;
  text: string;
  time: Date;
}

/** docker's stdcopy frame: [stream, 0, 0, 0, size uint32 BE] + payload. */
export function dockerFrame(stream: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** docker's RFC3339NanoFixed. */
export function dockerTimestamp(time: Date): string {
  return time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** An exec'd process as a test program sees it. */
export class FakeProcess {
  readonly stdin: Buffer[] = [];
  stdinEnded = false;
  onStdin: ((data: Buffer) => void) | undefined;
  onStdinEnd: (() => void) | undefined;

  constructor(
    private readonly out: (stream: FakeStream, data: string) => void,
    private readonly end: (code: number) => void,
  ) {}

  write(stream: FakeStream, text: string): void {
    this.out(stream, text);
  }

  exit(code: number): void {
    this.end(code);
  }
}

export type ExecProgram = (proc: FakeProcess) => void;

interface FakeExec {
  id: string;
  containerId: string;
  cmd: string[];
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  resizes: { w: number; h: number }[];
  process?: FakeProcess;
  socket?: Socket;
}

export class FakeContainer {
  readonly logs: LogEntry[] = [];
  readonly followers = new Set<(entry: LogEntry | null) => void>();
  readonly attached = new Set<{ socket: Socket; stdout: boolean; stderr: boolean }>();
  /** Every attach connection ever made (to see that a client's leave closed it). */
  readonly attachSockets: Socket[] = [];
  readonly resizes: { w: number; h: number }[] = [];
  /** What attach sessions write to the container's stdin. */
  readonly stdin: Buffer[] = [];
  stdinEnded = false;

  constructor(
    readonly id: string,
    readonly tty: boolean,
    public running: boolean,
  ) {}

  log(stream: FakeStream, text: string, time: Date = new Date()): void {
    const entry = { stream, text, time };
    this.logs.push(entry);
    for (const follower of this.followers) follower(entry);
    for (const session of this.attached) {
      if ((stream === 1 && !session.stdout) || (stream === 2 && !session.stderr)) continue;
      session.socket.write(this.tty ? Buffer.from(text) : dockerFrame(stream, text));
    }
  }

  stop(): void {
    this.running = false;
    for (const follower of [...this.followers]) follower(null);
    for (const session of this.attached) session.socket.end();
    this.attached.clear();
  }
}

export class FakeDockerEngine {
  readonly containers = new Map<string, FakeContainer>();
  /** Exec programs by command line (joined with spaces); other commands are "not found". */
  readonly programs = new Map<string, ExecProgram>();
  readonly execs = new Map<string, FakeExec>();
  readonly requests: string[] = [];
  /** dockerd records an exec's exit code a little after its stream closes: this long. */
  exitCodeDelayMs = 30;
  private nextExec = 1;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly socketPath: string,
    private readonly server: http.Server,
  ) {}

  static async start(dir: string): Promise<FakeDockerEngine> {
    const socketPath = path.join(dir, 'docker.sock');
    const server = http.createServer();
    const engine = new FakeDockerEngine(socketPath, server);
    server.on('request', (req, res) => engine.onRequest(req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => engine.onUpgrade(req, socket, head));
    server.on('connection', (socket: Socket) => {
      engine.sockets.add(socket);
      socket.once('close', () => engine.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return engine;
  }

  addContainer(id: string, options: { tty?: boolean; running?: boolean } = {}): FakeContainer {
    const container = new FakeContainer(id, options.tty ?? false, options.running ?? true);
    this.containers.set(id, container);
    return container;
  }

  execsOf(containerId: string): FakeExec[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://docker');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      let match: RegExpExecArray | null;
      if (req.method === 'GET' && (match = /^\/containers\/([^/]+)\/logs$/.exec(url.pathname))) return this.logs(decodeURIComponent(match[1]!), url.searchParams, res);
      if (req.method === 'POST' && (match = /^\/containers\/([^/]+)\/exec$/.exec(url.pathname))) return this.createExec(decodeURIComponent(match[1]!), body, res);
      if (req.method === 'GET' && (match = /^\/exec\/([^/]+)\/json$/.exec(url.pathname))) {
        const exec = this.execs.get(match[1]!);
        if (!exec) return sendJson(res, 404, { message: `No such exec instance: ${match[1]}` });
        return sendJson(res, 200, { ID: exec.id, Running: exec.running, ExitCode: exec.exitCode, Pid: exec.pid, ContainerID: exec.containerId });
      }
      if (req.method === 'POST' && (match = /^\/exec\/([^/]+)\/resize$/.exec(url.pathname))) {
        const exec = this.execs.get(match[1]!);
        if (!exec) return sendJson(res, 404, { message: `No such exec instance: ${match[1]}` });
        exec.resizes.push(size(url.searchParams));
        return sendJson(res, 201, undefined);
      }
      if (req.method === 'POST' && (match = /^\/containers\/([^/]+)\/resize$/.exec(url.pathname))) {
        const container = this.containers.get(decodeURIComponent(match[1]!));
        if (!container) return sendJson(res, 404, { message: `No such container: ${match[1]}` });
        container.resizes.push(size(url.searchParams));
        return sendJson(res, 200, undefined);
      }
      sendJson(res, 404, { message: 'page not found' });
    });
  }

  private logs(id: string, query: URLSearchParams, res: http.ServerResponse): void {
    const container = this.containers.get(id);
    if (!container) return sendJson(res, 404, { message: `No such container: ${id}` });
    const since = query.get('since');
    const sinceMs = since ? Number.parseFloat(since) * 1000 : undefined;
    const timestamps = query.get('timestamps') === '1';
    let entries = container.logs.filter((e) => sinceMs === undefined || e.time.getTime() >= sinceMs);
    const tail = query.get('tail');
    if (tail !== null && tail !== 'all') entries = Number(tail) === 0 ? [] : entries.slice(-Number(tail));
    const encode = (entry: LogEntry): Buffer => {
      const text = `${timestamps ? `${dockerTimestamp(entry.time)} ` : ''}${entry.text}`;
      return container.tty ? Buffer.from(text) : dockerFrame(entry.stream, text);
    };
    res.writeHead(200, { 'Content-Type': container.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    for (const entry of entries) res.write(encode(entry));
    if (query.get('follow') !== '1' || !container.running) {
      res.end();
      return;
    }
    const follower = (entry: LogEntry | null): void => {
      if (entry) res.write(encode(entry));
      else {
        container.followers.delete(follower);
        res.end();
      }
    };
    container.followers.add(follower);
    res.once('close', () => container.followers.delete(follower));
  }

  private createExec(containerId: string, body: string, res: http.ServerResponse): void {
    const container = this.containers.get(containerId);
    if (!container) return sendJson(res, 404, { message: `No such container: ${containerId}` });
    if (!container.running) return sendJson(res, 409, { message: `Container ${containerId} is not running` });
    const config = JSON.parse(body) as { Cmd?: string[]; Tty?: boolean; AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean };
    if (!config.Cmd || config.Cmd.length === 0) return sendJson(res, 400, { message: 'No exec command specified' });
    const id = `exec${this.nextExec++}`;
    this.execs.set(id, {
      id,
      containerId,
      cmd: config.Cmd,
      tty: config.Tty === true,
      attachStdin: config.AttachStdin === true,
      attachStdout: config.AttachStdout === true,
      attachStderr: config.AttachStderr === true,
      running: false,
      exitCode: null,
      pid: 0,
      resizes: [],
    });
    sendJson(res, 201, { Id: id });
  }

  /** Reads the request body (Content-Length) off the socket, then hands the socket over. */
  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://docker');
    this.requests.push(`${req.method} ${url.pathname}${url.search} (upgrade ${req.headers.upgrade ?? ''})`);
    const length = Number(req.headers['content-length'] ?? 0);
    let buffered = head;
    const take = (): void => {
      if (buffered.length < length) return;
      socket.off('data', onData);
      // The body (exec start's {"Detach":false,"Tty":…}) is not needed: the exec was created with its settings.
      this.hijacked(url, socket, buffered.subarray(length));
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      take();
    };
    socket.on('data', onData);
    take();
  }

  private hijacked(url: URL, socket: Socket, rest: Buffer): void {
    let match: RegExpExecArray | null;
    const upgraded = (): void => {
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    };
    if ((match = /^\/exec\/([^/]+)\/start$/.exec(url.pathname))) {
      const exec = this.execs.get(match[1]!);
      if (!exec) return refuse(socket, 404, `No such exec instance: ${match[1]}`);
      upgraded();
      return this.runExec(exec, socket, rest);
    }
    if ((match = /^\/containers\/([^/]+)\/attach$/.exec(url.pathname))) {
      const container = this.containers.get(decodeURIComponent(match[1]!));
      if (!container) return refuse(socket, 404, `No such container: ${match[1]}`);
      upgraded();
      const session = { socket, stdout: url.searchParams.get('stdout') === '1', stderr: url.searchParams.get('stderr') === '1' };
      container.attached.add(session);
      container.attachSockets.push(socket);
      const onStdin = (chunk: Buffer): void => {
        if (url.searchParams.get('stdin') === '1') container.stdin.push(chunk);
      };
      if (rest.length > 0) onStdin(rest);
      socket.on('data', onStdin);
      socket.on('end', () => (container.stdinEnded = true));
      socket.on('close', () => container.attached.delete(session));
      return;
    }
    refuse(socket, 404, 'page not found');
  }

  private runExec(exec: FakeExec, socket: Socket, rest: Buffer): void {
    exec.socket = socket;
    const program = this.programs.get(exec.cmd.join(' '));
    const send = (stream: FakeStream, text: string): void => {
      if (socket.destroyed) return;
      if ((stream === 1 && !exec.attachStdout) || (stream === 2 && !exec.attachStderr && !exec.tty)) return;
      socket.write(exec.tty ? Buffer.from(text) : dockerFrame(stream, text));
    };
    if (!program) {
      // What dockerd 20.10 does when the runtime cannot start the process: its error on stdout, then 126.
      send(1, `OCI runtime exec failed: exec failed: unable to start container process: exec: "${exec.cmd[0]}": executable file not found in $PATH: unknown\r\n`);
      exec.exitCode = 126;
      socket.end();
      return;
    }
    exec.running = true;
    exec.pid = 4242;
    let ended = false;
    const proc = new FakeProcess(send, (code) => {
      if (ended) return;
      ended = true;
      socket.end();
      setTimeout(() => {
        exec.running = false;
        exec.exitCode = code;
      }, this.exitCodeDelayMs);
    });
    exec.process = proc;
    const onStdin = (chunk: Buffer): void => {
      if (!exec.attachStdin) return;
      proc.stdin.push(chunk);
      proc.onStdin?.(chunk);
    };
    socket.on('data', onStdin);
    socket.on('end', () => {
      proc.stdinEnded = true;
      proc.onStdinEnd?.();
    });
    program(proc);
    if (rest.length > 0) onStdin(rest);
  }
}

function size(query: URLSearchParams): { w: number; h: number } {
  return { w: Number(query.get('w')), h: Number(query.get('h')) };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
}

function refuse(socket: Socket, status: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}
