/**
 * The API server's client of the node agents' kubelet API: HTTPS on the node's InternalIP at
 * its daemonEndpoints.kubeletEndpoint port, the agent's certificate checked against the
 * cluster CA, the control plane's client pair (O=system:masters) presented.
 *   GET /containerLogs/NS/POD/CONTAINER?...   text/plain, streamed
 *   GET /exec|attach/NS/POD/CONTAINER?...      WebSocket, v5.channel.k8s.io
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Node } from 'kubernetes-types/core/v1.js';
import WebSocket from 'ws';
import { KUBELET_PORT } from '../../../../common/node-config.js';
import { V5_CHANNEL_PROTOCOL } from './channels.js';

export interface KubeletClientOptions {
  /** PEM: the CA that signed the agents' serving certificates, and the pair the API server presents. Omit for plain HTTP (tests only). */
  tls?: { ca: string; cert: string; key: string };
  /** How long to wait for an agent to answer (connect and response headers); 15 s unless told. */
  connectTimeoutMs?: number;
}

export interface KubeletEndpoint {
  host: string;
  port: number;
}

/** The agent answered, but not with what was asked: its status code and plain-text message. */
export class KubeletResponseError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(body.trim() || `the node agent answered ${statusCode}`);
    this.name = 'KubeletResponseError';
  }
}

/** The agent could not be reached at all (refused, timed out, TLS failure). */
export class KubeletUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'KubeletUnreachableError';
  }
}

/** Where a node's agent listens, from its Node object (as kube-apiserver's NodeConnectionInfo). */
export function kubeletEndpoint(node: Node): KubeletEndpoint | undefined {
  const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!host) return undefined;
  return { host, port: node.status?.daemonEndpoints?.kubeletEndpoint?.Port || KUBELET_PORT };
}

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const MAX_ERROR_BODY = 64 * 1024;

export class KubeletClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: KubeletClientOptions = {}) {
    this.timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  url(endpoint: KubeletEndpoint, path: string, query: URLSearchParams, websocket = false): string {
    const scheme = websocket ? (this.options.tls ? 'wss' : 'ws') : this.options.tls ? 'https' : 'http';
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    const search = query.toString();
    return `${scheme}://${host}:${endpoint.port}${path}${search ? `?${search}` : ''}`;
  }

  /** The container's log stream (status 200), or KubeletResponseError with the agent's message. */
  containerLogs(endpoint: KubeletEndpoint, namespace: string, pod: string, container: string, query: URLSearchParams): Promise<IncomingMessage> {
    const url = this.url(endpoint, `/containerLogs/${enc(namespace)}/${enc(pod)}/${enc(container)}`, query);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const transport = this.options.tls ? https : http;
      const req = transport.request(url, { method: 'GET', headers: { Accept: 'text/plain' }, ...this.tlsOptions() }, (res) => {
        clearTimeout(timer);
        if (res.statusCode === 200) {
          resolve(res);
          return;
        }
        readLimited(res).then((body) => reject(new KubeletResponseError(res.statusCode ?? 500, body)), reject);
      });
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(new KubeletUnreachableError(url, err));
      });
      req.end();
    });
  }

  /** An open exec or attach WebSocket (v5.channel.k8s.io) to the agent. */
  openChannelStream(
    endpoint: KubeletEndpoint,
    kind: 'exec' | 'attach',
    namespace: string,
    pod: string,
    container: string,
    query: URLSearchParams,
  ): Promise<AgentChannelStream> {
    const url = this.url(endpoint, `/${kind}/${enc(namespace)}/${enc(pod)}/${enc(container)}`, query, true);
    return new Promise<AgentChannelStream>((resolve, reject) => {
      const ws = new WebSocket(url, [V5_CHANNEL_PROTOCOL], { handshakeTimeout: this.timeoutMs, perMessageDeflate: false, ...this.tlsOptions() });
      // Listening starts now: the agent may speak (and even finish) before the caller is ready.
      const stream = new AgentChannelStream(ws);
      let settled = false;
      ws.once('open', () => {
        settled = true;
        resolve(stream);
      });
      ws.once('unexpected-response', (_req, res) => {
        settled = true;
        // The body is the agent's message; the connection is dropped once it has been read.
        readLimited(res)
          .then(
            (body) => reject(new KubeletResponseError(res.statusCode ?? 500, body)),
            (err: unknown) => reject(new KubeletUnreachableError(url, err)),
          )
          .finally(() => ws.terminate());
      });
      ws.on('error', (err) => {
        if (settled) return;
        settled = true;
        reject(new KubeletUnreachableError(url, err));
      });
    });
  }

  private tlsOptions(): { ca?: string; cert?: string; key?: string } {
    const tls = this.options.tls;
    return tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {};
  }
}

/**
 * The agent's side of an exec/attach session. What the agent sends before a listener is set
 * (a fast command can finish before the client's side is switched) is kept and replayed.
 */
export class AgentChannelStream {
  private readonly early: Array<{ data: Buffer; isBinary: boolean }> = [];
  private messageListener: ((data: Buffer, isBinary: boolean) => void) | undefined;
  private closedWith: { code: number; reason: Buffer } | undefined;
  private closeListener: ((code: number, reason: Buffer) => void) | undefined;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (this.messageListener) this.messageListener(buffer, isBinary);
      else this.early.push({ data: buffer, isBinary });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closedWith = { code, reason };
      this.closeListener?.(code, reason);
    });
    // Failures end in 'close'; without a listener an 'error' would throw.
    ws.on('error', () => ws.terminate());
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Delivers what arrived so far, then every further message. */
  onMessage(listener: (data: Buffer, isBinary: boolean) => void): void {
    this.messageListener = listener;
    for (const message of this.early.splice(0)) listener(message.data, message.isBinary);
  }

  /** Called once the agent's WebSocket is closed (at once if it already is), after every message. */
  onClose(listener: (code: number, reason: Buffer) => void): void {
    this.closeListener = listener;
    if (this.closedWith) listener(this.closedWith.code, this.closedWith.reason);
  }

  send(data: Buffer, isBinary = true): void {
    if (this.isOpen) this.ws.send(data, { binary: isBinary });
  }

  close(code = 1000, reason?: Buffer): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

async function readLimited(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const buf = chunk as Buffer;
    if (size < MAX_ERROR_BODY) chunks.push(buf.subarray(0, MAX_ERROR_BODY - size));
    size += buf.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
