import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAccess, hostAllowed, newAccessToken, tokensMatch, TOKEN_HEADER } from '../../src/dashboard/access.js';
import type { ActionRequest } from '../../src/dashboard/actions.js';
import type { LiveMessage } from '../../src/dashboard/live.js';
import type { TimelineEvent } from '../../src/dashboard/model.js';
import { renderPage, startDashboardServer, type DashboardServer } from '../../src/dashboard/server.js';
import { UserError } from '../../src/common/errors.js';
import { stateOf, nodeView } from './dashboard-fixtures.js';

const TOKEN = 'secret-token_123';
const PORT = 4242;
const host = { host: `127.0.0.1:${PORT}` };

describe('access token', () => {
  it('is new, long and URL-safe each time', () => {
    const tokens = new Set(Array.from({ length: 20 }, newAccessToken));
    expect(tokens.size).toBe(20);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('matches only itself', () => {
    expect(tokensMatch(TOKEN, TOKEN)).toBe(true);
    expect(tokensMatch(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(tokensMatch(TOKEN, TOKEN.slice(0, -1))).toBe(false);
    expect(tokensMatch(TOKEN, '')).toBe(false);
    expect(tokensMatch(TOKEN, undefined)).toBe(false);
  });
});

describe('checkAccess', () => {
  const get = (url: string, headers: http.IncomingHttpHeaders = host) => checkAccess({ method: 'GET', url, headers }, TOKEN, PORT);
  const post = (headers: http.IncomingHttpHeaders, url = '/api/actions') => checkAccess({ method: 'POST', url, headers: { ...host, ...headers } }, TOKEN, PORT);

  it('refuses a page request without the token, or with a wrong one', () => {
    expect(get('/')).toMatchObject({ ok: false, status: 403 });
    expect(get('/?token=wrong')).toMatchObject({ ok: false, status: 403 });
    expect(get('/api/state?token=')).toMatchObject({ ok: false, status: 403 });
  });

  it('serves a request with the token in the URL or in the header', () => {
    expect(get(`/?token=${TOKEN}`)).toEqual({ ok: true });
    expect(get('/api/state', { ...host, [TOKEN_HEADER]: TOKEN })).toEqual({ ok: true });
  });

  it('answers only to its own loopback address (no DNS rebinding)', () => {
    expect(get(`/?token=${TOKEN}`, { host: `evil.example:${PORT}` })).toMatchObject({ ok: false, status: 421 });
    expect(get(`/?token=${TOKEN}`, { host: '127.0.0.1:80' })).toMatchObject({ ok: false, status: 421 });
    expect(get(`/?token=${TOKEN}`, {})).toMatchObject({ ok: false, status: 421 });
    expect(hostAllowed(`localhost:${PORT}`, PORT)).toBe(true);
    expect(hostAllowed(`[::1]:${PORT}`, PORT)).toBe(true);
  });

  it('takes an action only with the token in the header, from its own origin', () => {
    expect(post({}, `/api/actions?token=${TOKEN}`)).toMatchObject({ ok: false, status: 403 });
    expect(post({ [TOKEN_HEADER]: TOKEN })).toEqual({ ok: true });
    expect(post({ [TOKEN_HEADER]: TOKEN, origin: `http://127.0.0.1:${PORT}` })).toEqual({ ok: true });
    expect(post({ [TOKEN_HEADER]: TOKEN, origin: 'https://evil.example' })).toMatchObject({ ok: false, status: 403 });
    expect(post({ [TOKEN_HEADER]: 'nope' })).toMatchObject({ ok: false, status: 403 });
  });
});

describe('renderPage', () => {
  it('puts the token and the cluster name into the template, nothing else', () => {
    const page = renderPage('<meta content="%TOKEN%"><title>%CLUSTER%</title><a href="/x?token=%TOKEN%">', TOKEN, 'lab<script>');
    expect(page).toBe(`<meta content="${TOKEN}"><title>labscript</title><a href="/x?token=${TOKEN}">`);
  });
});

interface Response {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function request(port: number, method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads server-sent events until `count` arrived. */
function readEvents(port: number, url: string, count: number): Promise<{ event: string; data: unknown }[]> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = [];
    const req = http.get({ host: '127.0.0.1', port, path: url }, (res) => {
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          if (events.length >= count) {
            req.destroy();
            resolve(events);
          }
        }
      });
    });
    req.on('error', (e) => (events.length >= count ? undefined : reject(e)));
  });
}

describe('the dashboard server', () => {
  let server: DashboardServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    server = undefined;
  });

  async function start(runAction: (r: ActionRequest) => Promise<string> = async () => 'done') {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dashboard-test-'));
    await writeFile(path.join(dir, 'index.html'), '<meta name="clusterlab-token" content="%TOKEN%"><h1>%CLUSTER%</h1>');
    await writeFile(path.join(dir, 'app.js'), 'console.log("app")');
    await writeFile(path.join(dir, 'app.css'), 'body{}');
    const listeners = new Set<(m: LiveMessage) => void>();
    const timeline: TimelineEvent[] = [{ seq: 1, at: '2026-01-01T00:00:00Z', kind: 'node', severity: 'info', text: 'hello' }];
    const live = { state: stateOf({ nodes: [nodeView('leader')] }), timeline, subscribe: (l: (m: LiveMessage) => void) => (listeners.add(l), () => listeners.delete(l)) };
    server = await startDashboardServer({ live, token: TOKEN, port: 0, assetsDir: dir, runAction });
    return { server, listeners };
  }

  it('refuses every request without the token and serves the page, assets and state with it', async () => {
    const { server } = await start();
    for (const url of ['/', '/index.html', '/assets/app.js', '/api/state', '/api/events', '/nope']) {
      const res = await request(server.port, 'GET', url);
      expect(res.status, url).toBe(403);
      expect(res.body).toContain('token');
    }
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
    const page = await request(server.port, 'GET', `/?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toBe(`<meta name="clusterlab-token" content="${TOKEN}"><h1>lab</h1>`);
    const js = await request(server.port, 'GET', `/assets/app.js?token=${TOKEN}`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    // Only the known assets are served: no way out of the folder.
    expect((await request(server.port, 'GET', `/assets/..%2F..%2Fetc%2Fpasswd?token=${TOKEN}`)).status).toBe(404);
    expect((await request(server.port, 'GET', `/assets/secret.txt?token=${TOKEN}`)).status).toBe(404);
    const state = JSON.parse((await request(server.port, 'GET', `/api/state?token=${TOKEN}`)).body);
    expect(state.state.nodes[0].name).toBe('leader');
    expect(state.timeline[0].text).toBe('hello');
  });

  it('streams a snapshot, then patches and timeline events as they happen', async () => {
    const { server, listeners } = await start();
    const reading = readEvents(server.port, `/api/events?token=${TOKEN}`, 3);
    await new Promise<void>((resolve) => {
      const check = () => (listeners.size > 0 ? resolve() : setTimeout(check, 10));
      check();
    });
    for (const l of listeners) {
      l({ type: 'patch', data: { nodes: { upsert: [nodeView('worker1')], remove: [] } } });
      l({ type: 'timeline', data: [{ seq: 2, at: '2026-01-01T00:00:01Z', kind: 'node', severity: 'error', text: 'worker1 down' }] });
    }
    const events = await reading;
    expect(events.map((e) => e.event)).toEqual(['snapshot', 'patch', 'timeline']);
    expect((events[0]!.data as { state: { cluster: string } }).state.cluster).toBe('lab');
    expect((events[1]!.data as { nodes: { upsert: { name: string }[] } }).nodes.upsert[0]!.name).toBe('worker1');
    expect((events[2]!.data as { text: string }[])[0]!.text).toBe('worker1 down');
  });

  it('runs a valid action sent with the token header, and says why others are refused', async () => {
    const seen: ActionRequest[] = [];
    const { server } = await start(async (r) => {
      seen.push(r);
      if (r.action === 'node-start') throw new UserError('node worker9 is not there', { hint: 'look again' });
      return `did ${r.action}`;
    });
    const headers = { 'Content-Type': 'application/json', [TOKEN_HEADER]: TOKEN };
    const ok = await request(server.port, 'POST', '/api/actions', headers, JSON.stringify({ action: 'scale', workload: 'web', replicas: 5 }));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ ok: true, message: 'did scale' });
    expect(seen).toEqual([{ action: 'scale', workload: 'web', replicas: 5 }]);

    const noToken = await request(server.port, 'POST', `/api/actions?token=${TOKEN}`, { 'Content-Type': 'application/json' }, JSON.stringify({ action: 'node-stop', node: 'worker1' }));
    expect(noToken.status).toBe(403);
    const invalid = await request(server.port, 'POST', '/api/actions', headers, JSON.stringify({ action: 'scale', workload: 'web', replicas: -1 }));
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body).error).toContain('replicas');
    const unknown = await request(server.port, 'POST', '/api/actions', headers, JSON.stringify({ action: 'format-disk' }));
    expect(unknown.status).toBe(400);
    const failing = await request(server.port, 'POST', '/api/actions', headers, JSON.stringify({ action: 'node-start', node: 'worker9' }));
    expect(failing.status).toBe(409);
    expect(JSON.parse(failing.body)).toEqual({ ok: false, error: 'node worker9 is not there', hint: 'look again' });
    expect(seen).toHaveLength(2);
  });
});
