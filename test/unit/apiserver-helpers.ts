/** A test API server on a MemoryStore, and small HTTP helpers to talk to it. */
import http from 'node:http';
import { startApiServer } from '../../src/node/controlplane/apiserver/server.js';
import { MemoryStore } from '../../src/node/controlplane/store/memory.js';

export interface TestServer {
  url: string;
  store: MemoryStore;
  logs: string[];
  close(): Promise<void>;
}

export async function startTestServer(options: { bookmarkIntervalMs?: number } = {}): Promise<TestServer> {
  const store = new MemoryStore();
  const logs: string[] = [];
  const server = await startApiServer({
    store,
    host: '127.0.0.1',
    port: 0,
    serviceCidr: '10.96.0.0/16',
    version: '1.33.0',
    log: (line) => logs.push(line),
    ...options,
  });
  return {
    url: server.url,
    store,
    logs,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // Replies are arbitrary JSON; tests read fields they know to be there.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      new URL(path, base),
      {
        method,
        headers: {
          ...(text !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const replyText = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = replyText === '' ? undefined : JSON.parse(replyText);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: replyText, json });
        });
      },
    );
    req.on('error', reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

export interface WatchEvent {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  object: any;
}

/** An open watch: events arrive in `events`; `next(n)` waits until there are n of them. */
export interface OpenWatch {
  status: number;
  events: WatchEvent[];
  ended: Promise<void>;
  next(count: number, timeoutMs?: number): Promise<WatchEvent[]>;
  close(): void;
}

export function openWatch(base: string, path: string, headers: Record<string, string> = {}): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method: 'GET', headers }, (res) => {
      const events: WatchEvent[] = [];
      let buffer = '';
      const waiters: Array<() => void> = [];
      let endedResolve: () => void = () => undefined;
      const ended = new Promise<void>((r) => (endedResolve = r));
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line !== '') events.push(JSON.parse(line) as WatchEvent);
        }
        for (const w of waiters.splice(0)) w();
      });
      res.on('end', () => {
        endedResolve();
        for (const w of waiters.splice(0)) w();
      });
      res.on('error', () => endedResolve());
      resolve({
        status: res.statusCode ?? 0,
        events,
        ended,
        close: () => req.destroy(),
        next: async (count, timeoutMs = 3000) => {
          const deadline = Date.now() + timeoutMs;
          while (events.length < count) {
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`expected ${count} watch events, got ${events.length}: ${JSON.stringify(events.map((e) => e.type))}`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, left);
              waiters.push(() => {
                clearTimeout(t);
                r();
              });
            });
          }
          return events.slice(0, count);
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function pod(name: string, extra: { labels?: Record<string, string>; nodeName?: string; namespace?: string } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
  };
}
