/**
 * The Store on etcd v3, through etcd's JSON gRPC gateway over plain HTTP (etcd 3.4 in Debian
 * bookworm serves it on the client port). No gRPC or protobuf runtime in the bundle: keys and
 * values travel base64-encoded, int64 fields as decimal strings, fields with default values
 * (false, 0, the PUT event type) are left out of answers.
 *
 * Writes are transactions comparing the key's mod_revision, as kube-apiserver does: create
 * requires 0 (absent), update and delete the revision the caller read. A failed compare reads
 * the key in the same transaction to tell "absent" from "changed".
 */

import http from 'node:http';
import {
  StoreCompactedError,
  StoreConflictError,
  StoreKeyExistsError,
  StoreKeyNotFoundError,
  StoreUnavailableError,
  type ListResult,
  type Store,
  type StoredValue,
  type StoreWatch,
  type StoreWatchEvent,
} from './store.js';

export interface EtcdStoreOptions {
  /** Client URLs, tried in order when one refuses connections: ['http://127.0.0.1:2379']. */
  endpoints: string[];
  /** Per unary request; watches have no timeout. 10 s unless told. */
  requestTimeoutMs?: number;
}

// ---- The gateway's JSON shapes (only the fields used here) ----

interface EtcdKeyValue {
  key: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
}

interface EtcdHeader {
  revision?: string;
}

interface EtcdRangeResponse {
  header?: EtcdHeader;
  kvs?: EtcdKeyValue[];
  more?: boolean;
}

interface EtcdDeleteRangeResponse {
  header?: EtcdHeader;
  prev_kvs?: EtcdKeyValue[];
}

interface EtcdTxnResponse {
  header?: EtcdHeader;
  succeeded?: boolean;
  responses?: Array<{ response_range?: EtcdRangeResponse; response_delete_range?: EtcdDeleteRangeResponse }>;
}

interface EtcdWatchResponse {
  header?: EtcdHeader;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  events?: Array<{ type?: 'PUT' | 'DELETE'; kv?: EtcdKeyValue; prev_kv?: EtcdKeyValue }>;
}

/** One line of the gateway's watch stream. */
interface EtcdWatchStreamMessage {
  result?: EtcdWatchResponse;
  error?: { message?: string; http_code?: number; grpc_code?: number };
}

/** The gateway's error body: {"error": "...", "message": "...", "code": <gRPC code>}. */
interface EtcdErrorBody {
  error?: string;
  message?: string;
  code?: number;
}

const COMPACTED_MESSAGE = 'required revision has been compacted';
const FUTURE_REVISION_MESSAGE = 'required revision is a future revision';
/** gRPC codes meaning "try again later": Unavailable, DeadlineExceeded, Aborted, ResourceExhausted... */
const UNAVAILABLE_GRPC_CODES = new Set([4, 8, 10, 14]);

// ---- Pure helpers (exported for tests) ----

export function encodeBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function decodeBase64(base64: string | undefined): string {
  return base64 ? Buffer.from(base64, 'base64').toString('utf8') : '';
}

/** etcd's range_end for "every key starting with prefix": the prefix with its last byte plus one. */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if ((bytes[i] as number) < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i] = (end[i] as number) + 1;
      return end.toString('base64');
    }
  }
  // All 0xff (or empty): to the end of the key space, which etcd spells "\0".
  return Buffer.from([0]).toString('base64');
}

function toNumber(int64: string | undefined): number {
  return int64 === undefined ? 0 : Number(int64);
}

export function toStoredValue(kv: EtcdKeyValue): StoredValue {
  return {
    key: decodeBase64(kv.key),
    value: decodeBase64(kv.value),
    modRevision: toNumber(kv.mod_revision),
    createRevision: toNumber(kv.create_revision),
  };
}

/** One watch response's events in Store form. */
export function toWatchEvents(response: EtcdWatchResponse): StoreWatchEvent[] {
  return (response.events ?? []).map((event) => {
    const kv = event.kv ?? { key: '' };
    const modRevision = toNumber(kv.mod_revision);
    if (event.type === 'DELETE') {
      // The deleted value comes from prev_kv; etcd leaves it out if that revision was compacted.
      return { type: 'delete', key: decodeBase64(kv.key), value: decodeBase64(event.prev_kv?.value), modRevision, created: false };
    }
    const put: StoreWatchEvent = {
      type: 'put',
      key: decodeBase64(kv.key),
      value: decodeBase64(kv.value),
      modRevision,
      created: toNumber(kv.create_revision) === modRevision,
    };
    if (event.prev_kv) put.prevValue = decodeBase64(event.prev_kv.value);
    return put;
  });
}

/**
 * Splits a growing text buffer into complete newline-delimited JSON messages; returns them and
 * the incomplete rest (the gateway writes one message per line).
 */
export function splitJsonLines(buffer: string): { messages: string[]; rest: string } {
  const lines = buffer.split('\n');
  const rest = lines.pop() ?? '';
  return { messages: lines.filter((line) => line.trim() !== ''), rest };
}

/** An HTTP-level failure answered by etcd (not a connection failure). */
class EtcdRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: EtcdErrorBody,
  ) {
    super(`etcd: ${body.message ?? body.error ?? `HTTP ${statusCode}`}`);
    this.name = 'EtcdRequestError';
  }

  get compacted(): boolean {
    return this.message.includes(COMPACTED_MESSAGE);
  }

  get futureRevision(): boolean {
    return this.message.includes(FUTURE_REVISION_MESSAGE);
  }
}

/** Connection errors after which the next endpoint may well work (nothing was sent). */
function isConnectFailure(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

export class EtcdStore implements Store {
  private readonly endpoints: URL[];
  private readonly requestTimeoutMs: number;
  private readonly agent = new http.Agent({ keepAlive: true });
  /** The endpoint that answered last: tried first next time. */
  private preferred = 0;
  private readonly openWatches = new Set<() => void>();
  private closed = false;

  constructor(opts: EtcdStoreOptions) {
    if (opts.endpoints.length === 0) throw new Error('EtcdStore needs at least one endpoint');
    this.endpoints = opts.endpoints.map((endpoint) => new URL(endpoint));
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  }

  async get(key: string): Promise<StoredValue | undefined> {
    const response = await this.call<EtcdRangeResponse>('/v3/kv/range', { key: encodeBase64(key) });
    const kv = response.kvs?.[0];
    return kv && toStoredValue(kv);
  }

  async list(
    prefix: string,
    options: { limit?: number; continueAfter?: string; revision?: number } = {},
  ): Promise<ListResult & { more: boolean }> {
    // Continue just after the last key returned: that key plus a NUL byte.
    const start = options.continueAfter !== undefined ? `${options.continueAfter}\0` : prefix;
    const request: Record<string, unknown> = { key: encodeBase64(start), range_end: prefixRangeEnd(prefix) };
    if (options.limit && options.limit > 0) request.limit = String(options.limit);
    if (options.revision !== undefined && options.revision > 0) request.revision = String(options.revision);
    try {
      const response = await this.call<EtcdRangeResponse>('/v3/kv/range', request);
      return {
        items: (response.kvs ?? []).map(toStoredValue),
        // etcd's header carries the current revision even when reading an older one.
        revision: options.revision !== undefined && options.revision > 0 ? options.revision : toNumber(response.header?.revision),
        more: response.more === true,
      };
    } catch (err) {
      if (err instanceof EtcdRequestError && err.compacted && options.revision !== undefined) {
        // The gateway does not say which revision is the oldest kept: at least the next one.
        throw new StoreCompactedError(options.revision, options.revision + 1);
      }
      throw err;
    }
  }

  async create(key: string, value: string): Promise<number> {
    const encodedKey = encodeBase64(key);
    const response = await this.call<EtcdTxnResponse>('/v3/kv/txn', {
      compare: [{ key: encodedKey, target: 'MOD', result: 'EQUAL', mod_revision: '0' }],
      success: [{ request_put: { key: encodedKey, value: encodeBase64(value) } }],
      failure: [],
    });
    if (!response.succeeded) throw new StoreKeyExistsError(key);
    return toNumber(response.header?.revision);
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<number> {
    const encodedKey = encodeBase64(key);
    const response = await this.call<EtcdTxnResponse>('/v3/kv/txn', {
      compare: [{ key: encodedKey, target: 'MOD', result: 'EQUAL', mod_revision: String(expectedModRevision) }],
      success: [{ request_put: { key: encodedKey, value: encodeBase64(value) } }],
      failure: [{ request_range: { key: encodedKey } }],
    });
    if (!response.succeeded) this.throwCompareFailure(key, response);
    return toNumber(response.header?.revision);
  }

  async delete(key: string, expectedModRevision?: number): Promise<StoredValue> {
    const encodedKey = encodeBase64(key);
    // Without an expected revision, still compare: "exists" (mod_revision > 0).
    const compare =
      expectedModRevision === undefined
        ? { key: encodedKey, target: 'MOD', result: 'GREATER', mod_revision: '0' }
        : { key: encodedKey, target: 'MOD', result: 'EQUAL', mod_revision: String(expectedModRevision) };
    const response = await this.call<EtcdTxnResponse>('/v3/kv/txn', {
      compare: [compare],
      success: [{ request_delete_range: { key: encodedKey, prev_kv: true } }],
      failure: [{ request_range: { key: encodedKey } }],
    });
    if (!response.succeeded) this.throwCompareFailure(key, response);
    const previous = response.responses?.[0]?.response_delete_range?.prev_kvs?.[0];
    // Another writer cannot slip in between compare and delete: a txn is atomic.
    if (!previous) throw new StoreKeyNotFoundError(key);
    return { ...toStoredValue(previous), modRevision: toNumber(response.header?.revision) };
  }

  watch(
    prefix: string,
    afterRevision: number,
    onEvent: (event: StoreWatchEvent) => void,
    onError: (err: Error) => void,
  ): StoreWatch {
    let done = false;
    let abort: (() => void) | undefined;
    const stop = (): void => {
      done = true;
      abort?.();
      this.openWatches.delete(stop);
    };
    const fail = (err: Error): void => {
      if (done) return;
      stop();
      onError(err);
    };
    if (this.closed) {
      setImmediate(() => fail(new StoreUnavailableError('etcd store is closed')));
      return { close: stop };
    }
    this.openWatches.add(stop);

    const body = JSON.stringify({
      create_request: {
        key: encodeBase64(prefix),
        range_end: prefixRangeEnd(prefix),
        start_revision: String(afterRevision + 1),
        prev_kv: true,
      },
    });
    this.connect('/v3/watch', body, undefined)
      .then(({ response, request }) => {
        abort = () => request.destroy();
        if (done) return request.destroy();
        if (response.statusCode !== 200) {
          readBody(response)
            .then((text) => fail(toStoreError(new EtcdRequestError(response.statusCode ?? 0, parseErrorBody(text)))))
            .catch((err: unknown) => fail(new StoreUnavailableError('etcd watch failed', { cause: err })));
          return;
        }
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (done) return;
          const { messages, rest } = splitJsonLines(buffer + chunk);
          buffer = rest;
          for (const line of messages) {
            if (done) return;
            const outcome = handleWatchMessage(line, afterRevision);
            if (outcome.error) return fail(outcome.error);
            for (const event of outcome.events) {
              if (done) return;
              onEvent(event);
            }
          }
        });
        response.on('end', () => fail(new StoreUnavailableError('etcd closed the watch stream')));
        response.on('error', (err) => fail(new StoreUnavailableError('etcd watch stream broke', { cause: err })));
        response.on('close', () => fail(new StoreUnavailableError('etcd watch stream closed')));
      })
      .catch((err: unknown) => fail(toStoreError(err)));
    return { close: stop };
  }

  async revision(): Promise<number> {
    // A range over one key that matches nothing still carries the header's current revision.
    const response = await this.call<EtcdRangeResponse>('/v3/kv/range', { key: encodeBase64('\0'), count_only: true });
    return toNumber(response.header?.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.call('/v3/kv/compaction', { revision: String(revision) });
    } catch (err) {
      // Already compacted that far: nothing to do (kube-apiserver's compactor races the same way).
      if (err instanceof EtcdRequestError && err.compacted) return;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of [...this.openWatches]) stop();
    this.agent.destroy();
  }

  private throwCompareFailure(key: string, response: EtcdTxnResponse): never {
    const current = response.responses?.[0]?.response_range?.kvs?.[0];
    if (!current) throw new StoreKeyNotFoundError(key);
    throw new StoreConflictError(key, toStoredValue(current));
  }

  /** A unary gateway call: JSON in, JSON out, etcd errors as Store errors where they map. */
  private async call<T>(path: string, request: unknown): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('etcd store is closed');
    const body = JSON.stringify(request);
    let result: { response: http.IncomingMessage; request: http.ClientRequest };
    try {
      result = await this.connect(path, body, this.requestTimeoutMs);
    } catch (err) {
      throw toStoreError(err);
    }
    let text: string;
    try {
      text = await readBody(result.response);
    } catch (err) {
      throw new StoreUnavailableError(`etcd ${path}: the answer broke off`, { cause: err });
    }
    if (result.response.statusCode !== 200) {
      throw toStoreError(new EtcdRequestError(result.response.statusCode ?? 0, parseErrorBody(text)));
    }
    return JSON.parse(text) as T;
  }

  /**
   * Sends a POST to the first endpoint that accepts the connection, starting with the one that
   * answered last; resolves once the response headers arrive.
   */
  private async connect(
    path: string,
    body: string,
    timeoutMs: number | undefined,
  ): Promise<{ response: http.IncomingMessage; request: http.ClientRequest }> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < this.endpoints.length; attempt++) {
      const index = (this.preferred + attempt) % this.endpoints.length;
      const endpoint = this.endpoints[index] as URL;
      try {
        const result = await this.post(endpoint, path, body, timeoutMs);
        this.preferred = index;
        return result;
      } catch (err) {
        if (!isConnectFailure(err)) throw err;
        failures.push(`${endpoint.origin}: ${(err as Error).message}`);
      }
    }
    throw new StoreUnavailableError(`etcd unreachable (${failures.join('; ')})`);
  }

  private post(
    endpoint: URL,
    path: string,
    body: string,
    timeoutMs: number | undefined,
  ): Promise<{ response: http.IncomingMessage; request: http.ClientRequest }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: endpoint.hostname,
          port: endpoint.port || 2379,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => resolve({ response, request }),
      );
      if (timeoutMs !== undefined) {
        // A whole-request deadline: a stuck etcd (no quorum) must not hang the API server.
        const timer = setTimeout(() => request.destroy(new StoreUnavailableError(`etcd ${path} timed out after ${timeoutMs} ms`)), timeoutMs);
        request.on('close', () => clearTimeout(timer));
      }
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** What one line of the watch stream means: events to deliver, or the end of the watch. */
export function handleWatchMessage(line: string, afterRevision: number): { events: StoreWatchEvent[]; error?: Error } {
  let message: EtcdWatchStreamMessage;
  try {
    message = JSON.parse(line) as EtcdWatchStreamMessage;
  } catch (err) {
    return { events: [], error: new StoreUnavailableError('etcd sent an unreadable watch message', { cause: err }) };
  }
  if (message.error) {
    return { events: [], error: new StoreUnavailableError(`etcd watch failed: ${message.error.message ?? 'unknown error'}`) };
  }
  const result = message.result ?? {};
  if (result.compact_revision !== undefined && toNumber(result.compact_revision) > 0) {
    return { events: [], error: new StoreCompactedError(afterRevision, toNumber(result.compact_revision)) };
  }
  if (result.canceled) {
    return { events: [], error: new StoreUnavailableError(`etcd canceled the watch: ${result.cancel_reason ?? 'no reason given'}`) };
  }
  return { events: toWatchEvents(result) };
}

function toStoreError(err: unknown): Error {
  if (err instanceof StoreUnavailableError) return err;
  if (err instanceof EtcdRequestError) {
    if (UNAVAILABLE_GRPC_CODES.has(err.body.code ?? -1) || err.statusCode >= 500) {
      return new StoreUnavailableError(err.message, { cause: err });
    }
    return err;
  }
  // Connection reset, socket hang up...: etcd went away mid-request.
  return new StoreUnavailableError(`etcd request failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

function parseErrorBody(text: string): EtcdErrorBody {
  try {
    return JSON.parse(text) as EtcdErrorBody;
  } catch {
    return { message: text.slice(0, 200) };
  }
}

function readBody(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('response aborted')));
  });
}
