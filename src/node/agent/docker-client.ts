/**
 * A small Docker Engine API client: JSON over HTTP on the node's unix socket, plus the few
 * streams the agent needs (pull progress, /events, exec output, long responses such as logs,
 * and hijacked connections for interactive exec/attach). Nothing here knows pods.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../shared/api-client.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

const REQUEST_TIMEOUT_MS = 60_000;
/** Pulls may be slow (big images); the stream must still show progress this often. */
const PULL_IDLE_TIMEOUT_MS = 5 * 60_000;

/** A non-2xx answer from dockerd, with its message. */
export class DockerError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly request: string,
  ) {
    super(`${request}: ${message} (HTTP ${statusCode})`);
    this.name = 'DockerError';
  }
}

export function isDockerNotFound(err: unknown): boolean {
  return err instanceof DockerError && err.statusCode === 404;
}

export interface RequestSpec {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON-encoded unless a Buffer or stream. */
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

export class DockerClient {
  constructor(private readonly socketPath: string = DEFAULT_DOCKER_SOCKET) {}

  /** A JSON answer (undefined for an empty body); DockerError on non-2xx. */
  async json<T>(spec: RequestSpec): Promise<T> {
    const res = await this.open(spec);
    const text = await readText(res);
    if ((res.statusCode ?? 0) >= 300) throw new DockerError(res.statusCode ?? 0, errorMessage(text), describe(spec));
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /**
   * A stream of JSON lines (pull/load progress): resolves when it ends, rejecting with the first
   * `{"error": …}` line, which is how dockerd reports a failure after answering 200.
   */
  async progress(spec: RequestSpec): Promise<void> {
    const res = await this.open({ timeoutMs: PULL_IDLE_TIMEOUT_MS, ...spec });
    if ((res.statusCode ?? 0) >= 300) throw new DockerError(res.statusCode ?? 0, errorMessage(await readText(res)), describe(spec));
    const text = await readText(res);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let parsed: { error?: string; errorDetail?: { message?: string } };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        continue;
      }
      const failure = parsed.errorDetail?.message ?? parsed.error;
      if (failure) throw new DockerError(200, failure, describe(spec));
    }
  }

  /** Follows /events until stop() or the stream ends (onEnd is then called once, unless stopped). */
  events(filters: Record<string, string[]>, onEvent: (event: DockerEvent) => void, onEnd: (err?: Error) => void): { stop(): void } {
    let stopped = false;
    let request: http.ClientRequest | undefined;
    const end = (err?: Error): void => {
      if (stopped) return;
      stopped = true;
      request?.destroy();
      onEnd(err);
    };
    this.open({ method: 'GET', path: '/events', query: { filters: JSON.stringify(filters) }, timeoutMs: 0 }, (req) => (request = req)).then(
      (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          void readText(res).then((text) => end(new DockerError(res.statusCode ?? 0, errorMessage(text), 'GET /events')));
          return;
        }
        const lines = new LineSplitter();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          for (const line of lines.push(chunk)) {
            if (stopped) return;
            try {
              onEvent(JSON.parse(line) as DockerEvent);
            } catch {
              // a line we cannot read is skipped; the periodic resync covers what it said
            }
          }
        });
        res.on('end', () => end());
        res.on('error', (err) => end(err));
        res.on('close', () => end());
      },
      (err: Error) => end(err),
    );
    return {
      stop: () => {
        stopped = true;
        request?.destroy();
      },
    };
  }

  /** Runs a command in a running container; output is stdout and stderr together (capped). */
  async exec(containerId: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const created = await this.json<{ Id: string }>({
      method: 'POST',
      path: `/containers/${encodeURIComponent(containerId)}/exec`,
      body: { AttachStdout: true, AttachStderr: true, Cmd: command },
    });
    const res = await this.open({ method: 'POST', path: `/exec/${created.Id}/start`, body: { Detach: false, Tty: false }, timeoutMs });
    if ((res.statusCode ?? 0) >= 300) throw new DockerError(res.statusCode ?? 0, errorMessage(await readText(res)), 'POST /exec/start');
    const raw = await readBuffer(res);
    const inspected = await this.json<{ ExitCode?: number | null; Running?: boolean }>({ method: 'GET', path: `/exec/${created.Id}/json` });
    return { exitCode: inspected.ExitCode ?? -1, output: demultiplex(raw).slice(0, 10_000) };
  }

  /**
   * A long response (e.g. logs) once dockerd answered 2xx; no timeout, the caller reads it
   * and destroys it when done. DockerError (with dockerd's message) otherwise.
   */
  async stream(spec: RequestSpec): Promise<http.IncomingMessage> {
    const res = await this.open({ ...spec, timeoutMs: spec.timeoutMs ?? 0 });
    if ((res.statusCode ?? 0) >= 300) throw new DockerError(res.statusCode ?? 0, errorMessage(await readText(res)), describe(spec));
    return res;
  }

  /**
   * A hijacked connection (exec start, attach): the request carries `Upgrade: tcp`, dockerd
   * answers 101 and the socket then carries the raw or multiplexed stream both ways. `head` is
   * what arrived after the 101 before the caller could listen.
   */
  hijack(spec: RequestSpec): Promise<{ socket: Socket; head: Buffer }> {
    return new Promise((resolve, reject) => {
      const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
      const headers: http.OutgoingHttpHeaders = { Connection: 'Upgrade', Upgrade: 'tcp' };
      if (payload) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = payload.length;
      }
      const req = http.request({ socketPath: this.socketPath, method: spec.method, path: withQuery(spec.path, spec.query), headers });
      const timeoutMs = spec.timeoutMs ?? REQUEST_TIMEOUT_MS;
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${describe(spec)}: dockerd did not answer within ${timeoutMs} ms`)));
      req.once('upgrade', (_res, socket: Socket, head: Buffer) => {
        req.setTimeout(0);
        socket.setTimeout(0);
        resolve({ socket, head });
      });
      req.once('response', (res) => {
        void readText(res).then(
          (text) => {
            const status = res.statusCode ?? 0;
            reject(new DockerError(status, status >= 300 ? errorMessage(text) : 'dockerd did not upgrade the connection', describe(spec)));
          },
          (err: Error) => reject(err),
        );
      });
      req.once('error', (err) => reject(new Error(`${describe(spec)}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }

  private open(spec: RequestSpec, onRequest?: (req: http.ClientRequest) => void): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {};
      let payload: Buffer | Readable | undefined;
      if (spec.body !== undefined) {
        if (Buffer.isBuffer(spec.body)) payload = spec.body;
        else if (isReadable(spec.body)) payload = spec.body;
        else payload = Buffer.from(JSON.stringify(spec.body));
        headers['Content-Type'] = spec.contentType ?? 'application/json';
        if (Buffer.isBuffer(payload)) headers['Content-Length'] = payload.length;
      }
      const req = http.request({ socketPath: this.socketPath, method: spec.method, path: withQuery(spec.path, spec.query), headers });
      onRequest?.(req);
      const timeoutMs = spec.timeoutMs ?? REQUEST_TIMEOUT_MS;
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${describe(spec)}: dockerd did not answer within ${timeoutMs} ms`)));
      req.once('response', resolve);
      req.once('error', (err) => reject(new Error(`${describe(spec)}: ${err.message}`, { cause: err })));
      if (payload === undefined || Buffer.isBuffer(payload)) req.end(payload);
      else payload.pipe(req);
    });
  }
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function';
}

function withQuery(path: string, query: RequestSpec['query']): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

function describe(spec: RequestSpec): string {
  return `${spec.method} ${spec.path}`;
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500) || 'no message';
}

function readBuffer(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

async function readText(res: http.IncomingMessage): Promise<string> {
  return (await readBuffer(res)).toString('utf8');
}

/**
 * Docker's multiplexed stream (no TTY): frames of [stream, 0, 0, 0, size as uint32 BE, payload].
 * Anything not framed that way is returned as it is.
 */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const stream = raw[offset]!;
    if (stream > 2 || raw[offset + 1] !== 0 || raw[offset + 2] !== 0 || raw[offset + 3] !== 0) return raw.toString('utf8');
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  if (offset < raw.length && parts.length === 0) return raw.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}
