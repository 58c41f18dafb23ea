/**
 * The in-node Kubernetes API client: JSON over HTTPS with the node's client certificate,
 * several API servers tried in order, and watch streams of newline-delimited JSON events.
 *
 * The Informer (list + watch with a local cache) and recordEvent live in their own modules
 * and are re-exported here, so callers import everything from this one place.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { KUBE_PKI_FILES, NODE_PKI_DIR } from '../../common/node-config.js';
import { ApiError, isNotFound, statusFromBody } from './api-error.js';

export { ApiError, isConflict, isGone, isNotFound } from './api-error.js';
export { Informer, objectKey } from './informer.js';
export type { InformerOptions } from './informer.js';
export { recordEvent } from './event-recorder.js';

export interface ApiClientOptions {
  /** API server base URLs, tried in order; a connection failure moves to the next. */
  servers: string[];
  /** PEM text (client-certificate auth). Ignored for http:// servers (tests). */
  ca: string;
  cert: string;
  key: string;
  /** e.g. 'clusterlab-agent/worker1' */
  userAgent: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size: list() follows `continue` tokens and returns every page. */
  limit?: number;
  resourceVersion?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  allowWatchBookmarks?: boolean;
  /** Asks the server to end the stream after this long (default: 5 to 10 minutes, random). */
  timeoutSeconds?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string };
}

export type PatchType = 'merge' | 'strategic' | 'json';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

/** A plain request gives up (and tries the next server when that is safe) after this long idle. */
const REQUEST_TIMEOUT_MS = 30_000;
/** After falling back to a later server, try the first (local) one again after this long. */
const RETURN_TO_FIRST_SERVER_MS = 30_000;
/** Client-side idle limit on a watch beyond the timeoutSeconds the server was asked for. */
const WATCH_IDLE_MARGIN_MS = 30_000;

/** Errors that mean the request never reached a server's handler, so any method may go elsewhere. */
const NOT_SENT_ERROR_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const IDEMPOTENT_METHODS = new Set(['GET', 'PUT', 'DELETE']);

interface OpenedResponse {
  req: http.ClientRequest;
  res: http.IncomingMessage;
}

interface RequestSpec {
  method: string;
  apiPath: string;
  body?: string;
  contentType?: string;
  timeoutMs: number;
}

export class ApiClient {
  private readonly servers: string[];
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;
  private readonly userAgent: string;
  private preferredServer = 0;
  private preferredSince = 0;

  constructor(opts: ApiClientOptions) {
    if (opts.servers.length === 0) throw new Error('ApiClient needs at least one API server URL');
    this.servers = [...opts.servers];
    this.userAgent = opts.userAgent;
    this.httpsAgent = new https.Agent({ keepAlive: true, ca: opts.ca, cert: opts.cert, key: opts.key });
    this.httpAgent = new http.Agent({ keepAlive: true });
  }

  /** ApiError 404 when absent. */
  async get<T>(apiPath: string): Promise<T> {
    return this.requestJson<T>({ method: 'GET', apiPath, timeoutMs: REQUEST_TIMEOUT_MS });
  }

  async getOrUndefined<T>(apiPath: string): Promise<T | undefined> {
    try {
      return await this.get<T>(apiPath);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Every page of a collection (follows `continue`); resourceVersion is the first page's. */
  async list<T>(apiPath: string, opts: ListOptions = {}): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let continueToken: string | undefined;
    do {
      const page = await this.requestJson<{ items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string } }>({
        method: 'GET',
        apiPath: withQuery(apiPath, {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          limit: opts.limit,
          // A continued page must not repeat resourceVersion (the token carries it).
          resourceVersion: continueToken === undefined ? opts.resourceVersion : undefined,
          continue: continueToken,
        }),
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      items.push(...(page.items ?? []));
      resourceVersion ??= page.metadata?.resourceVersion ?? '';
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken !== undefined);
    return { items, metadata: { resourceVersion: resourceVersion ?? '' } };
  }

  /** POST to the collection path. */
  async create<T>(apiPath: string, body: T): Promise<T> {
    return this.requestJson<T>({ method: 'POST', apiPath, body: JSON.stringify(body), contentType: 'application/json', timeoutMs: REQUEST_TIMEOUT_MS });
  }

  /** PUT (409 on a stale resourceVersion). */
  async update<T>(apiPath: string, body: T): Promise<T> {
    return this.requestJson<T>({ method: 'PUT', apiPath, body: JSON.stringify(body), contentType: 'application/json', timeoutMs: REQUEST_TIMEOUT_MS });
  }

  async patch<T>(apiPath: string, body: unknown, type: PatchType): Promise<T> {
    return this.requestJson<T>({
      method: 'PATCH',
      apiPath,
      body: JSON.stringify(body),
      contentType: PATCH_CONTENT_TYPES[type],
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  }

  async delete<T = unknown>(apiPath: string, opts?: DeleteOptions): Promise<T> {
    const body = opts === undefined ? undefined : JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', ...opts });
    return this.requestJson<T>({
      method: 'DELETE',
      apiPath,
      ...(body !== undefined ? { body, contentType: 'application/json' } : {}),
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  }

  /**
   * One watch stream. onEvent gets every event, BOOKMARK and ERROR included (an ERROR's object
   * is a Status). onClose is called once when the stream ends: err undefined = the server closed
   * it normally; an ApiError when the server refused the watch (410 = re-list). After stop()
   * neither callback is called again.
   */
  watch<T>(
    apiPath: string,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, object: T) => void,
    onClose: (err?: Error) => void,
  ): { stop(): void } {
    const timeoutSeconds = opts.timeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const url = withQuery(apiPath, {
      watch: 'true',
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks === false ? undefined : 'true',
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      timeoutSeconds,
    });
    let stopped = false;
    let closed = false;
    let activeRequest: http.ClientRequest | undefined;
    const close = (err?: Error): void => {
      if (closed) return;
      closed = true;
      activeRequest?.destroy();
      if (!stopped) onClose(err);
    };

    this.open({ method: 'GET', apiPath: url, timeoutMs: timeoutSeconds * 1000 + WATCH_IDLE_MARGIN_MS }).then(
      ({ req, res }) => {
        activeRequest = req;
        if (stopped) {
          req.destroy();
          return;
        }
        const statusCode = res.statusCode ?? 0;
        if (statusCode < 200 || statusCode > 299) {
          readBody(res).then(
            (text) => close(new ApiError(statusCode, statusFromBody(statusCode, text))),
            (err: Error) => close(err),
          );
          return;
        }
        const lines = new LineSplitter();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          for (const line of lines.push(chunk)) {
            if (closed) return;
            const event = parseWatchLine<T>(line);
            if (event instanceof Error) return close(event);
            onEvent(event.type, event.object);
          }
        });
        res.on('end', () => close());
        res.on('error', (err) => close(err));
        res.on('close', () => close(res.complete ? undefined : new Error('watch stream closed before it ended')));
      },
      (err: Error) => close(err),
    );

    return {
      stop: () => {
        stopped = true;
        closed = true;
        activeRequest?.destroy();
      },
    };
  }

  private async requestJson<T>(spec: RequestSpec): Promise<T> {
    const { res } = await this.open(spec);
    const statusCode = res.statusCode ?? 0;
    const text = await readBody(res);
    if (statusCode < 200 || statusCode > 299) throw new ApiError(statusCode, statusFromBody(statusCode, text));
    if (text.trim() === '') return undefined as T; // e.g. a 204 — callers of such paths expect nothing
    return JSON.parse(text) as T;
  }

  /** Sends the request to the first server that takes it; resolves when the response head arrives. */
  private async open(spec: RequestSpec): Promise<OpenedResponse> {
    let lastError: Error | undefined;
    for (const index of this.serverOrder()) {
      const server = this.servers[index]!;
      const attempt = await this.openOn(server, spec).then(
        (opened) => ({ opened }),
        (error: RequestFailure) => ({ error }),
      );
      if ('opened' in attempt) {
        if (index !== this.preferredServer) {
          this.preferredServer = index;
          this.preferredSince = Date.now();
        }
        return attempt.opened;
      }
      lastError = attempt.error;
      // A request that may have reached the server is not repeated elsewhere unless repeating is harmless.
      if (attempt.error.maybeSent && !IDEMPOTENT_METHODS.has(spec.method)) break;
    }
    throw new Error(`${spec.method} ${spec.apiPath}: ${lastError?.message ?? 'no server answered'}`, { cause: lastError });
  }

  private serverOrder(): number[] {
    if (this.preferredServer !== 0 && Date.now() - this.preferredSince > RETURN_TO_FIRST_SERVER_MS) this.preferredServer = 0;
    return this.servers.map((_, i) => (this.preferredServer + i) % this.servers.length);
  }

  private openOn(server: string, spec: RequestSpec): Promise<OpenedResponse> {
    return new Promise((resolve, reject) => {
      const url = new URL(spec.apiPath, server);
      const isHttps = url.protocol === 'https:';
      const headers: http.OutgoingHttpHeaders = { Accept: 'application/json', 'User-Agent': this.userAgent };
      if (spec.body !== undefined) {
        headers['Content-Type'] = spec.contentType ?? 'application/json';
        headers['Content-Length'] = Buffer.byteLength(spec.body);
      }
      const requestOptions: https.RequestOptions = { method: spec.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent };
      const req = (isHttps ? https : http).request(url, requestOptions);
      let connected = false;
      req.on('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      req.setTimeout(spec.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer from ${server} within ${spec.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.once('response', (res) => resolve({ req, res }));
      req.once('error', (err: NodeJS.ErrnoException) => {
        const notSent = !connected || NOT_SENT_ERROR_CODES.has(err.code ?? '') || (req.reusedSocket && err.code === 'ECONNRESET');
        reject(new RequestFailure(`${server}: ${err.message}`, !notSent, err));
      });
      req.end(spec.body);
    });
  }
}

/** A failed attempt on one server; maybeSent = the server may have acted on it. */
class RequestFailure extends Error {
  constructor(
    message: string,
    readonly maybeSent: boolean,
    cause: Error,
  ) {
    super(message, { cause });
    this.name = 'RequestFailure';
  }
}

/** Appends query parameters (skipping undefined ones) to a path that may already have some. */
export function withQuery(apiPath: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  if (text === '') return apiPath;
  return `${apiPath}${apiPath.includes('?') ? '&' : '?'}${text}`;
}

/** Splits a chunked text stream into complete lines (a partial last line waits for the next chunk). */
export class LineSplitter {
  private pending = '';

  push(chunk: string): string[] {
    this.pending += chunk;
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((line) => line.trim()).filter((line) => line !== '');
  }
}

const WATCH_EVENT_TYPES: ReadonlySet<string> = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** One line of a watch stream as an event, or an Error when it is not one. */
export function parseWatchLine<T>(line: string): { type: WatchEventType; object: T } | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return new Error(`watch stream sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  const event = parsed as { type?: unknown; object?: unknown } | null;
  if (event === null || typeof event !== 'object' || typeof event.type !== 'string' || !WATCH_EVENT_TYPES.has(event.type)) {
    return new Error(`watch stream sent an unknown event: ${line.slice(0, 200)}`);
  }
  return { type: event.type as WatchEventType, object: event.object as T };
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** Reads ApiClientOptions' PEM files from NODE_PKI_DIR for a client kind ('node' | 'controlplane'). */
export function clientOptionsFromPki(kind: 'node' | 'controlplane', servers: string[], userAgent: string, pkiDir: string = NODE_PKI_DIR): ApiClientOptions {
  const read = (file: string): string => fs.readFileSync(path.join(pkiDir, file), 'utf8');
  const [certFile, keyFile] =
    kind === 'node' ? [KUBE_PKI_FILES.nodeCert, KUBE_PKI_FILES.nodeKey] : [KUBE_PKI_FILES.controlPlaneCert, KUBE_PKI_FILES.controlPlaneKey];
  return { servers, ca: read(KUBE_PKI_FILES.ca), cert: read(certFile), key: read(keyFile), userAgent };
}

export type { Status };
