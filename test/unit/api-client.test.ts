import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import {
  ApiClient,
  ApiError,
  Informer,
  LineSplitter,
  parseWatchLine,
  recordEvent,
  withQuery,
} from '../../src/node/shared/api-client.js';
import { nextRetryDelay, INFORMER_RETRY } from '../../src/node/shared/informer.js';

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: SeenRequest, res: http.ServerResponse) => void;

/** A tiny HTTP server whose answers each test scripts; it records every request. */
async function fakeServer(handler: Handler): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      handler(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nobody listens on (bound, then released). */
async function deadServerUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function notFound(res: http.ServerResponse, name: string): void {
  json(res, 404, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `configmaps "${name}" not found`,
    reason: 'NotFound',
    details: { name, kind: 'configmaps' },
    code: 404,
  });
}

function clientFor(...servers: string[]): ApiClient {
  return new ApiClient({ servers, ca: '', cert: '', key: '', userAgent: 'clusterlab-test/unit' });
}

function cm(name: string, rv: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: rv }, data };
}

async function waitFor(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(handler: Handler): Promise<Awaited<ReturnType<typeof fakeServer>>> {
  const server = await fakeServer(handler);
  cleanups.push(() => server.close());
  return server;
}

describe('pure helpers', () => {
  it('withQuery skips undefined values and appends to an existing query', () => {
    expect(withQuery('/api/v1/pods', { labelSelector: 'app=web', limit: 500, fieldSelector: undefined })).toBe('/api/v1/pods?labelSelector=app%3Dweb&limit=500');
    expect(withQuery('/api/v1/pods?x=1', { watch: 'true' })).toBe('/api/v1/pods?x=1&watch=true');
    expect(withQuery('/api/v1/pods', {})).toBe('/api/v1/pods');
  });

  it('LineSplitter keeps a partial line for the next chunk', () => {
    const lines = new LineSplitter();
    expect(lines.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(lines.push(':2}\n\n')).toEqual(['{"b":2}']);
  });

  it('parseWatchLine rejects garbage and unknown types', () => {
    expect(parseWatchLine('{"type":"ADDED","object":{"x":1}}')).toEqual({ type: 'ADDED', object: { x: 1 } });
    expect(parseWatchLine('nope')).toBeInstanceOf(Error);
    expect(parseWatchLine('{"type":"WHAT","object":{}}')).toBeInstanceOf(Error);
  });

  it('retry delays double quickly failing attempts, are bounded, and reset after a healthy run', () => {
    expect(nextRetryDelay(0, 0)).toBe(INFORMER_RETRY.minMs);
    expect(nextRetryDelay(INFORMER_RETRY.minMs, 0)).toBe(INFORMER_RETRY.minMs * 2);
    expect(nextRetryDelay(INFORMER_RETRY.maxMs, 0)).toBe(INFORMER_RETRY.maxMs);
    expect(nextRetryDelay(8_000, 60_000)).toBe(INFORMER_RETRY.minMs);
  });
});

describe('ApiClient', () => {
  it('GETs JSON with Accept and User-Agent', async () => {
    const server = await startServer((_req, res) => json(res, 200, cm('one', '7')));
    const got = await clientFor(server.url).get<ConfigMap>('/api/v1/namespaces/default/configmaps/one');
    expect(got.metadata?.resourceVersion).toBe('7');
    expect(server.seen[0]?.headers.accept).toBe('application/json');
    expect(server.seen[0]?.headers['user-agent']).toBe('clusterlab-test/unit');
  });

  it('turns a Status answer into an ApiError, and getOrUndefined into undefined', async () => {
    const server = await startServer((_req, res) => notFound(res, 'missing'));
    const client = clientFor(server.url);
    const err = await client.get('/api/v1/namespaces/default/configmaps/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(404);
    expect((err as ApiError).reason).toBe('NotFound');
    expect((err as ApiError).message).toBe('configmaps "missing" not found');
    expect((err as ApiError).status.details?.name).toBe('missing');
    expect(await client.getOrUndefined('/api/v1/namespaces/default/configmaps/missing')).toBeUndefined();
  });

  it('makes up a Status when the error body is not one', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const err = (await clientFor(server.url).get('/x').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe(500);
    expect(err.status).toMatchObject({ kind: 'Status', status: 'Failure', code: 500, reason: 'InternalError', message: 'boom' });
  });

  it('moves on to the next server when one refuses connections', async () => {
    const dead = await deadServerUrl();
    const server = await startServer((_req, res) => json(res, 200, cm('one', '1')));
    const client = clientFor(dead, server.url);
    expect((await client.get<ConfigMap>('/a')).metadata?.name).toBe('one');
    // POST is also safe to redirect when the first server never accepted the connection.
    expect((await client.create('/api/v1/namespaces/default/configmaps', cm('one', ''))).metadata?.name).toBe('one');
    expect(server.seen.map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  it('fails with the cause when no server answers', async () => {
    const client = clientFor(await deadServerUrl(), await deadServerUrl());
    const err = (await client.get('/a').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApiError);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('sends writes with the right methods, content types and bodies', async () => {
    const server = await startServer((req, res) => json(res, 200, req.body === '' ? {} : JSON.parse(req.body)));
    const client = clientFor(server.url);
    await client.create('/api/v1/namespaces/default/configmaps', cm('a', ''));
    await client.update('/api/v1/namespaces/default/configmaps/a', cm('a', '3'));
    await client.patch('/api/v1/namespaces/default/configmaps/a', { data: { k: 'v' } }, 'merge');
    await client.patch('/api/v1/namespaces/default/configmaps/a', { data: { k: 'v' } }, 'strategic');
    await client.patch('/api/v1/namespaces/default/configmaps/a', [{ op: 'remove', path: '/data/k' }], 'json');
    await client.delete('/api/v1/namespaces/default/configmaps/a', { propagationPolicy: 'Background', preconditions: { uid: 'u1' } });
    expect(server.seen.map((r) => [r.method, r.headers['content-type']])).toEqual([
      ['POST', 'application/json'],
      ['PUT', 'application/json'],
      ['PATCH', 'application/merge-patch+json'],
      ['PATCH', 'application/strategic-merge-patch+json'],
      ['PATCH', 'application/json-patch+json'],
      ['DELETE', 'application/json'],
    ]);
    expect(JSON.parse(server.seen[5]!.body)).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid: 'u1' } });
  });

  it('lists every page by following continue tokens', async () => {
    const server = await startServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.searchParams.get('continue') === 'page2') json(res, 200, { kind: 'ConfigMapList', metadata: { resourceVersion: '99' }, items: [cm('b', '5')] });
      else json(res, 200, { kind: 'ConfigMapList', metadata: { resourceVersion: '42', continue: 'page2' }, items: [cm('a', '4')] });
    });
    const result = await clientFor(server.url).list<ConfigMap>('/api/v1/configmaps', { labelSelector: 'app=x', limit: 1 });
    expect(result.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
    expect(result.metadata.resourceVersion).toBe('42');
    expect(new URL(server.seen[0]!.url, 'http://x').searchParams.get('labelSelector')).toBe('app=x');
  });

  it('watches: asks for bookmarks from a version, parses events split across chunks, reports the end', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = [
        JSON.stringify({ type: 'ADDED', object: cm('a', '11') }),
        JSON.stringify({ type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '12' } } }),
        JSON.stringify({ type: 'DELETED', object: cm('a', '13') }),
      ].join('\n') + '\n';
      res.write(text.slice(0, 25));
      setTimeout(() => res.end(text.slice(25)), 20);
    });
    const events: [string, string | undefined][] = [];
    const closed = new Promise<Error | undefined>((resolve) => {
      clientFor(server.url).watch<ConfigMap>(
        '/api/v1/namespaces/default/configmaps',
        { resourceVersion: '10', fieldSelector: 'metadata.name=a' },
        (type, obj) => events.push([type, obj.metadata?.resourceVersion]),
        resolve,
      );
    });
    expect(await closed).toBeUndefined();
    expect(events).toEqual([['ADDED', '11'], ['BOOKMARK', '12'], ['DELETED', '13']]);
    const query = new URL(server.seen[0]!.url, 'http://x').searchParams;
    expect(query.get('watch')).toBe('true');
    expect(query.get('resourceVersion')).toBe('10');
    expect(query.get('allowWatchBookmarks')).toBe('true');
    expect(query.get('fieldSelector')).toBe('metadata.name=a');
  });

  it('reports a refused watch as an ApiError, and stop() silences callbacks', async () => {
    const server = await startServer((_req, res) => json(res, 410, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 1 (5)' }));
    const err = await new Promise<Error | undefined>((resolve) => {
      clientFor(server.url).watch('/api/v1/configmaps', { resourceVersion: '1' }, () => undefined, resolve);
    });
    expect((err as ApiError).code).toBe(410);

    let calls = 0;
    const handle = clientFor(server.url).watch('/api/v1/configmaps', { resourceVersion: '1' }, () => calls++, () => calls++);
    handle.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(0);
  });
});

/**
 * A scripted collection for the informer: lists come from `objects`, and each watch request
 * is answered by the next script (or held open with nothing to say).
 */
function informerServer(objects: Map<string, ConfigMap>, listVersion: () => string, watchScripts: ((res: http.ServerResponse, rv: string) => void)[]): Handler {
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.searchParams.get('watch') !== 'true') {
      json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: listVersion() }, items: [...objects.values()] });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const script = watchScripts.shift();
    if (script) script(res, url.searchParams.get('resourceVersion') ?? '');
    else res.write(''); // hold the stream open
  };
}

function send(res: http.ServerResponse, type: string, object: unknown): void {
  res.write(JSON.stringify({ type, object }) + '\n');
}

describe('Informer', () => {
  it('lists, watches, resumes a dropped watch from the last version (bookmarks included)', async () => {
    const objects = new Map([['a', cm('a', '5')]]);
    const server = await startServer(
      informerServer(objects, () => '10', [
        (res) => {
          send(res, 'ADDED', cm('b', '11'));
          send(res, 'MODIFIED', cm('a', '12', { k: 'v' }));
          send(res, 'BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '15' } });
          res.end(); // the server drops the watch
        },
        (res) => {
          send(res, 'DELETED', cm('b', '16'));
        },
      ]),
    );
    const seen: string[] = [];
    const informer = new Informer<ConfigMap>(clientFor(server.url), '/api/v1/configmaps')
      .onAdd((o) => seen.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`))
      .onUpdate((o, old) => seen.push(`update ${o.metadata?.name}@${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`))
      .onDelete((o) => seen.push(`delete ${o.metadata?.name}`));
    cleanups.push(() => informer.stop());
    await informer.start();
    expect(informer.get('default/a')?.metadata?.resourceVersion).toBe('5');
    await waitFor(() => seen.includes('delete b'));
    expect(seen).toEqual(['add a@5', 'add b@11', 'update a@5->12', 'delete b']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['a']);
    const watchVersions = server.seen.filter((r) => r.url.includes('watch=true')).map((r) => new URL(r.url, 'http://x').searchParams.get('resourceVersion'));
    expect(watchVersions).toEqual(['10', '15']);
    // Not a tight loop: the resume waited at least the minimum delay.
    expect(informer.lastResourceVersion()).toBe('16');
  });

  it('re-lists on a 410 ERROR event and reports what changed meanwhile', async () => {
    const objects = new Map([['a', cm('a', '5')], ['b', cm('b', '6')]]);
    let version = '10';
    const server = await startServer(
      informerServer(objects, () => version, [
        (res) => {
          objects.delete('b');
          objects.set('a', cm('a', '20'));
          objects.set('c', cm('c', '21'));
          version = '30';
          send(res, 'ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 10 (25)' });
        },
      ]),
    );
    const seen: string[] = [];
    const logs: string[] = [];
    const informer = new Informer<ConfigMap>(clientFor(server.url), '/api/v1/configmaps', { log: (l) => logs.push(l) })
      .onAdd((o) => seen.push(`add ${o.metadata?.name}`))
      .onUpdate((o) => seen.push(`update ${o.metadata?.name}`))
      .onDelete((o) => seen.push(`delete ${o.metadata?.name}`));
    cleanups.push(() => informer.stop());
    await informer.start();
    await waitFor(() => seen.includes('add c'));
    expect(seen).toEqual(['add a', 'add b', 'update a', 'add c', 'delete b']);
    expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'c']);
    // The new watch is sent right after the re-list; the server sees it a moment later.
    const watchVersions = () => server.seen.filter((r) => r.url.includes('watch=true')).map((r) => new URL(r.url, 'http://x').searchParams.get('resourceVersion'));
    await waitFor(() => watchVersions().length >= 2);
    expect(watchVersions()).toEqual(['10', '30']);
    expect(logs.join('\n')).toMatch(/re-listing/);
  });

  it('keeps retrying the first list with a growing delay, and stop() rejects start()', async () => {
    let answered = 0;
    const server = await startServer((_req, res) => {
      answered++;
      json(res, 500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'InternalError', code: 500, message: 'etcd down' });
    });
    const informer = new Informer<ConfigMap>(clientFor(server.url), '/api/v1/configmaps');
    const started = informer.start();
    await new Promise((resolve) => setTimeout(resolve, 700));
    informer.stop();
    await expect(started).rejects.toThrow(/stopped/);
    // 200 + 400 ms of delays fit in 700 ms; a tight loop would have asked far more often.
    expect(answered).toBeGreaterThanOrEqual(2);
    expect(answered).toBeLessThanOrEqual(4);
  });
});

describe('recordEvent', () => {
  it('creates an Event, then bumps the count of an identical one, and never throws', async () => {
    const server = await startServer((req, res) => {
      if (req.method === 'POST') json(res, 201, JSON.parse(req.body));
      else json(res, 200, {});
    });
    const client = clientFor(server.url);
    const pod = { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' };
    await recordEvent(client, pod, 'Normal', 'Scheduled', 'Successfully assigned default/web to w1', 'default-scheduler');
    await recordEvent(client, pod, 'Normal', 'Scheduled', 'Successfully assigned default/web to w1', 'default-scheduler');
    expect(server.seen.map((r) => r.method)).toEqual(['POST', 'PATCH']);
    const event = JSON.parse(server.seen[0]!.body) as Record<string, unknown>;
    expect(server.seen[0]!.url).toBe('/api/v1/namespaces/default/events');
    expect(event).toMatchObject({
      kind: 'Event',
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' },
      reason: 'Scheduled',
      type: 'Normal',
      count: 1,
      source: { component: 'default-scheduler' },
    });
    expect((event.metadata as { name: string }).name).toMatch(/^web\.[0-9a-f]+$/);
    expect(server.seen[1]!.url).toBe(`/api/v1/namespaces/default/events/${(event.metadata as { name: string }).name}`);
    expect(JSON.parse(server.seen[1]!.body)).toMatchObject({ count: 2 });

    const dead = clientFor(await deadServerUrl());
    await expect(recordEvent(dead, pod, 'Warning', 'X', 'y', 'z')).resolves.toBeUndefined();
  });
});
