import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { APPS_DIR, call, sleep, startApp, stopAllApps } from './apps-helpers.js';

afterEach(stopAllApps);

/** The parts of /stats the tests read. */
interface Stats {
  target: string;
  mode: string;
  sending: boolean;
  totals: { requests: number; ok: number; fail: number; skipped: number; inFlight: number };
  latencyMs: { p50: number | null; p95: number | null; max: number | null };
  failures: { first: string | null; last: string | null; secondsWithFailures: number; byReason: Record<string, number>; samples: { at: string; reason: string; detail?: string }[] };
  downtime: { longestMs: number; from: string | null; to: string | null; failedRequests: number; ongoing: boolean };
  tallies: Record<string, Record<string, number>>;
  seconds: { t: string; ok: number; fail: number; p50: number | null }[];
}

// recorder.mjs is plain JavaScript without types: these are the parts the tests use.
interface RecordHandle {
  startedAt: number;
}
interface RecorderInstance {
  start(): RecordHandle;
  finish(record: RecordHandle, outcome: { ok: boolean; reason?: string; detail?: string; headers?: Record<string, string> }): void;
  fold(): void;
  reset(): void;
  summary(): Omit<Stats, 'target' | 'mode' | 'sending'>;
}
interface RecorderModule {
  Recorder: new (options: { tally?: string[]; now?: () => number; onSecond?: (row: unknown) => void }) => RecorderInstance;
  percentile(sorted: number[], p: number): number | null;
}
const loadRecorder = (): Promise<RecorderModule> => import(`${APPS_DIR}probe/recorder.mjs`) as Promise<RecorderModule>;

/** A target server on loopback that can be stopped and started again on the same port. */
class Target {
  server: http.Server | undefined;
  port = 0;
  requests: { method: string; url: string; body: string }[] = [];

  constructor(private readonly answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
    res.writeHead(200, { 'x-served-by': 'target-1' });
    res.end('ok');
  }) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
        this.answer(req, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }
}

const targets: Target[] = [];
afterEach(async () => {
  for (const t of targets.splice(0)) await t.stop();
});

async function target(answer?: ConstructorParameters<typeof Target>[0]): Promise<Target> {
  const t = new Target(answer);
  targets.push(t);
  await t.start();
  return t;
}

async function stats(url: string): Promise<Stats> {
  return (await call(`${url}/stats`)).json as Stats;
}

describe('probe (images/apps/probe/probe.mjs) against a server that stops and starts', { timeout: 20_000 }, () => {
  it('counts successes, then failures while the server is down, and measures the downtime', async () => {
    const server = await target();
    const probe = await startApp('probe/probe.mjs', { args: ['--url', server.url, '--rate', '20', '--timeout', '500', '--port', '0', '--duration', '20'] });
    await sleep(1_200);
    const before = await stats(probe.url);
    expect(before.totals.ok).toBeGreaterThan(5);
    expect(before.totals.fail).toBe(0);

    const stoppedAt = Date.now();
    await server.stop();
    await sleep(1_000);
    await server.start();
    const downFor = Date.now() - stoppedAt;
    await sleep(1_500);

    const after = await stats(probe.url);
    expect(after.target).toBe(server.url);
    expect(after.mode).toBe('get');
    expect(after.totals.fail).toBeGreaterThanOrEqual(10); // ~20 requests a second for ~1 s
    expect(after.totals.ok).toBeGreaterThan(before.totals.ok + 10);
    // Refused while down; requests caught in the connections being closed are reset instead.
    expect(Object.keys(after.failures.byReason).filter((r) => r !== 'ECONNREFUSED' && r !== 'ECONNRESET')).toEqual([]);
    expect(after.failures.byReason.ECONNREFUSED).toBeGreaterThan(after.totals.fail / 2);
    // The one outage: its length is the time the server was away, give or take the requests
    // that were already on their way when it stopped (a loaded machine answers slowly).
    expect(after.downtime.ongoing).toBe(false);
    expect(after.downtime.failedRequests).toBe(after.totals.fail);
    expect(after.downtime.longestMs).toBeGreaterThan(downFor - 300);
    expect(after.downtime.longestMs).toBeLessThan(downFor + 500);
    expect(Date.parse(after.failures.last!) - Date.parse(after.failures.first!)).toBeLessThan(after.downtime.longestMs);
    expect(after.failures.secondsWithFailures).toBeGreaterThanOrEqual(1);
    expect(after.seconds.some((s) => s.fail > 0)).toBe(true);
    // Recovered: no second after the one of the last failure has failures.
    const lastFailureSecond = Math.floor(Date.parse(after.failures.last!) / 1000) * 1000;
    expect(after.seconds.filter((s) => Date.parse(s.t) > lastFailureSecond && s.fail > 0)).toEqual([]);
    expect(after.tallies['x-served-by']).toEqual({ 'target-1': after.totals.ok });
    // One JSON line per finished second on stdout.
    const lines = probe.output().split('\n').filter((l) => l.includes('"event":"second"'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ok: expect.any(Number), fail: expect.any(Number) });

    const reset = await call(`${probe.url}/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    const fresh = await stats(probe.url);
    expect(fresh.totals.fail).toBe(0);
    expect(fresh.totals.requests).toBeLessThan(5);
    expect(fresh.downtime).toMatchObject({ longestMs: 0, failedRequests: 0 });
  });

  it('counts HTTP 5xx answers as failures and measures the latency of successes', async () => {
    let n = 0;
    const server = await target((_req, res) => {
      n++;
      if (n % 2 === 0) {
        res.writeHead(500);
        res.end('boom');
      } else {
        setTimeout(() => {
          res.writeHead(200, { 'x-app-version': 'v9' });
          res.end('fine');
        }, 60);
      }
    });
    const probe = await startApp('probe/probe.mjs', { args: ['--url', server.url, '--rate', '20', '--port', '0', '--duration', '1'] });
    await sleep(2_300);
    const s = await stats(probe.url);
    expect(s.sending).toBe(false);
    expect(s.totals.requests).toBeGreaterThanOrEqual(15);
    expect(s.totals.requests).toBeLessThanOrEqual(22);
    expect(Math.abs(s.totals.ok - s.totals.fail)).toBeLessThanOrEqual(1);
    expect(s.failures.byReason['HTTP 500']).toBe(s.totals.fail);
    // The latest failures say who answered and what: here the loopback target's "boom".
    expect(s.failures.samples.length).toBe(Math.min(5, s.totals.fail));
    expect(s.failures.samples.at(-1)).toMatchObject({ reason: 'HTTP 500', detail: 'from 127.0.0.1: boom' });
    expect(s.latencyMs.p50).toBeGreaterThanOrEqual(60);
    expect(s.latencyMs.max).toBeGreaterThanOrEqual(s.latencyMs.p95!);
    expect(s.tallies['x-app-version']).toEqual({ v9: s.totals.ok });
    // Alternating failures: each run is one request long.
    expect(s.downtime.failedRequests).toBe(1);
    // --duration 1: nothing is sent after it.
    const sent = server.requests.length;
    await sleep(400);
    expect(server.requests.length).toBe(sent);
    // A new window sends again, for another --duration.
    await call(`${probe.url}/reset`, { method: 'POST' });
    expect((await stats(probe.url)).sending).toBe(true);
    await sleep(400);
    expect(server.requests.length).toBeGreaterThan(sent + 3);
  });

  it('--simulate N posts chat messages of N conversations in turn', async () => {
    const server = await target((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-served-by': 'backend-a' });
      res.end('{}');
    });
    const probe = await startApp('probe/probe.mjs', { args: ['--url', server.url, '--simulate', '3', '--rate', '30', '--port', '0', '--duration', '1'] });
    await sleep(1_500);
    const s = await stats(probe.url);
    expect(s.mode).toBe('simulate');
    expect(s.totals.fail).toBe(0);
    const posts = server.requests.slice(0, 12);
    expect(posts.every((r) => r.method === 'POST')).toBe(true);
    expect(posts.slice(0, 3).map((r) => r.url)).toEqual([0, 1, 2].map((k) => `/api/conversations/probe-${k}/messages`));
    const bodies = posts.map((r) => JSON.parse(r.body) as { from: string; text: string });
    // Conversation 0: user a, then (after the other two conversations) user b.
    expect(bodies[0]!.from).toBe('probe-0-a');
    expect(bodies[3]!.from).toBe('probe-0-b');
    expect(bodies[6]!.from).toBe('probe-0-a');
    expect(bodies[1]!.text).toBe('message 1 from probe-1-a');
  });

  it('refuses to start without a URL (exit 2)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [`${APPS_DIR}probe/probe.mjs`, '--rate', '5'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--url');
  });
});

describe('probe recorder (images/apps/probe/recorder.mjs)', () => {
  it('nearest-rank percentiles', async () => {
    const { percentile } = await loadRecorder();
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 100)).toBe(100);
  });

  it('folds requests in the order they started, so a slow failure does not hide a recovery', async () => {
    const { Recorder } = await loadRecorder();
    let now = 10_000;
    const rows: unknown[] = [];
    const r = new Recorder({ tally: ['x-served-by'], now: () => now, onSecond: (row) => rows.push(row) });
    const a = r.start(); // 10.000 ok
    now = 10_100;
    const b = r.start(); // 10.100 fails slowly
    now = 10_200;
    const c = r.start(); // 10.200 fails fast
    now = 10_300;
    const d = r.start(); // 10.300 ok: the recovery
    now = 10_350;
    r.finish(a, { ok: true, headers: { 'x-served-by': 'one' } });
    r.finish(c, { ok: false, reason: 'ECONNREFUSED' });
    r.finish(d, { ok: true, headers: { 'x-served-by': 'two' } });
    // b is still out: c and d wait behind it.
    expect(r.summary().totals).toMatchObject({ requests: 1, ok: 1, fail: 0, inFlight: 1 });
    now = 11_900;
    r.finish(b, { ok: false, reason: 'ETIMEDOUT' });
    const s = r.summary();
    expect(s.totals).toMatchObject({ requests: 4, ok: 2, fail: 2, inFlight: 0 });
    expect(s.downtime).toMatchObject({ longestMs: 200, failedRequests: 2, ongoing: false });
    expect(s.downtime.from).toBe(new Date(10_100).toISOString());
    expect(s.downtime.to).toBe(new Date(10_300).toISOString());
    expect(s.failures.byReason).toEqual({ ETIMEDOUT: 1, ECONNREFUSED: 1 });
    expect(s.tallies).toEqual({ 'x-served-by': { one: 1, two: 1 } });
    expect(s.latencyMs).toEqual({ p50: 50, p95: 350, max: 350 });
    // Second 10 is over and nothing started in it is waiting: it is reported.
    expect(rows).toEqual([{ t: new Date(10_000).toISOString(), ok: 2, fail: 2, p50: 50, p95: 350, max: 350, tallies: { 'x-served-by': { one: 1, two: 1 } } }]);
  });

  it('reports a run that has not recovered as ongoing, and reset() drops answers of the old window', async () => {
    const { Recorder } = await loadRecorder();
    let now = 0;
    const r = new Recorder({ now: () => now });
    const ok = r.start();
    r.finish(ok, { ok: true });
    now = 1_000;
    r.finish(r.start(), { ok: false, reason: 'ECONNREFUSED' });
    now = 1_500;
    const late = r.start();
    now = 2_500;
    r.finish(late, { ok: false, reason: 'ETIMEDOUT' });
    expect(r.summary().downtime).toMatchObject({ longestMs: 1_500, failedRequests: 2, ongoing: true });

    const pending = r.start();
    r.reset();
    r.finish(pending, { ok: false, reason: 'ECONNREFUSED' });
    expect(r.summary().totals).toMatchObject({ requests: 0, fail: 0, inFlight: 0 });
    expect(r.summary().downtime.longestMs).toBe(0);
  });
});
