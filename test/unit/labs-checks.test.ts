import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { evaluateCheck, prepareCheck } from '../../src/labs/evaluate.js';
import type { LabCheckDoc } from '../../src/labs/schema.js';
import { checkSchema } from '../../src/labs/schema.js';
import type { systemClock } from '../../src/labs/poller.js';
import { normalizeImage } from '../../src/labs/view.js';
import { FakeClock, FakeView, node, replica, workload } from './labs-fakes.js';

/** Validates a check item as lab.yaml would, then evaluates it once. */
async function run(item: Record<string, unknown>, view: FakeView, extra: { clock?: FakeClock | typeof systemClock; env?: Record<string, string> } = {}) {
  const check = checkSchema.parse({ ...item }) as LabCheckDoc;
  return evaluateCheck(prepareCheck(check, 0, view.engine), { view, engine: view.engine, env: extra.env ?? {}, cwd: process.cwd(), clock: extra.clock ?? new FakeClock() });
}

function webView(...replicas: ReturnType<typeof replica>[]) {
  const view = new FakeView();
  view.workloads.set('web', workload('web', replicas));
  return view;
}

describe('replicas', () => {
  it('counts running replicas only, and says what else there is', async () => {
    const view = webView(replica('web.1', 'leader'), replica('web.2', 'worker1', { running: false, state: 'starting' }), replica('web.3', '', { running: false, state: 'pending' }));
    const r = await run({ replicas: { workload: 'web', running: 3 } }, view);
    expect(r).toMatchObject({ ok: false, expected: 'service web: 3 replicas running' });
    expect(r.observed).toBe('3 desired; 1 running (web.1 on leader); 1 pending (web.3); 1 starting (web.2 on worker1)');
    expect((await run({ replicas: { workload: 'web', min: 1, max: 2 } }, view)).ok).toBe(true);
    expect((await run({ replicas: { workload: 'web', desired: 3 } }, view)).ok).toBe(true);
    expect((await run({ replicas: { workload: 'web', desired: 2 } }, view)).ok).toBe(false);
  });

  it('fails with a clear message when the workload is missing, in the engine’s words', async () => {
    expect((await run({ replicas: { workload: 'api', running: 1 } }, new FakeView('swarm'))).observed).toBe('there is no service api');
    expect((await run({ replicas: { workload: 'api', running: 1, namespace: 'shop' } }, new FakeView('kube'))).observed).toBe(
      'there is no deployment api in namespace shop',
    );
  });

  it('refuses a check that says no number', () => {
    expect(checkSchema.safeParse({ replicas: { workload: 'web' } }).success).toBe(false);
  });
});

describe('spread and placement', () => {
  const view = webView(replica('web.1', 'leader'), replica('web.2', 'leader'), replica('web.3', 'worker1'), replica('web.4', 'worker2', { running: false, state: 'failed' }));

  it('spread counts distinct nodes of running replicas', async () => {
    const two = await run({ spread: { workload: 'web', minNodes: 2 } }, view);
    expect(two).toMatchObject({ ok: true, observed: 'running on 2 nodes: leader ×2, worker1 ×1' });
    expect((await run({ spread: { workload: 'web', minNodes: 3 } }, view)).ok).toBe(false);
  });

  it('placement: notOn, onlyOn and on', async () => {
    expect((await run({ placement: { workload: 'web', notOn: ['worker2'] } }, view)).ok).toBe(true);
    const misplaced = await run({ placement: { workload: 'web', notOn: ['leader'] } }, view);
    expect(misplaced.ok).toBe(false);
    expect(misplaced.observed).toMatch(/^misplaced: web.1 on leader, web.2 on leader/);
    expect((await run({ placement: { workload: 'web', onlyOn: ['leader', 'worker1'] } }, view)).ok).toBe(true);
    const uncovered = await run({ placement: { workload: 'web', on: ['worker1', 'worker2'] } }, view);
    expect(uncovered).toMatchObject({ ok: false });
    expect(uncovered.observed).toMatch(/^nothing on worker2/);
  });
});

describe('image, restarts, revisions', () => {
  it('image: the spec and every running replica, compared without registry defaults', async () => {
    const view = webView(replica('web.1', 'leader', { image: 'clusterlab/web:v2' }), replica('web.2', 'worker1'));
    view.workloads.get('web')!.image = 'clusterlab/web:v2';
    const all = await run({ image: { workload: 'web', image: 'clusterlab/web:v2' } }, view);
    expect(all).toMatchObject({ ok: false, observed: 'spec asks for clusterlab/web:v2; running: 1 on clusterlab/web:v2, 1 on clusterlab/web:v1' });
    expect((await run({ image: { workload: 'web', image: 'clusterlab/web:v2', all: false } }, view)).ok).toBe(true);
    expect(normalizeImage('docker.io/library/nginx@sha256:abc')).toBe('nginx:latest');
    expect(normalizeImage('clusterlab/web:v1@sha256:abc')).toBe('clusterlab/web:v1');
  });

  it('restarts and revisions read the workload’s history', async () => {
    const view = webView(replica('web.1', 'leader'));
    view.workloads.get('web')!.restarts = 2;
    view.workloads.get('web')!.revisions = 3;
    expect(await run({ restarts: { workload: 'web', min: 3 } }, view)).toMatchObject({ ok: false, observed: "2 failed tasks in the service's history" });
    expect((await run({ restarts: { workload: 'web' } }, view)).ok).toBe(true);
    expect((await run({ revisions: { workload: 'web', min: 2 } }, view)).ok).toBe(true);
    expect(await run({ revisions: { workload: 'web', exactly: 2 } }, view)).toMatchObject({ ok: false, observed: '3 revisions' });
  });
});

describe('nodes and node', () => {
  const view = new FakeView('swarm', [node('leader'), node('worker1'), node('worker2', { ready: false, state: 'down' }), node('worker3', { schedulable: false, availability: 'drain' })]);

  it('nodes counts members, Ready ones and managers', async () => {
    const r = await run({ nodes: { ready: 3, count: 4, managers: 1 } }, view);
    expect(r.ok).toBe(true);
    expect(r.observed).toBe('4 nodes, 3 Ready: leader (manager, ready), worker1 (ready), worker2 (down), worker3 (ready, drain)');
    expect((await run({ nodes: { ready: 4 } }, view)).ok).toBe(false);
  });

  it('node looks at one node, or at its absence', async () => {
    expect(await run({ node: { name: 'worker2', ready: false } }, view)).toMatchObject({ ok: true, observed: 'node worker2: worker, down, active' });
    expect((await run({ node: { name: 'worker2', ready: true } }, view)).ok).toBe(false);
    expect((await run({ node: { name: 'worker3', schedulable: false } }, view)).ok).toBe(true);
    expect((await run({ node: { name: 'leader', role: 'manager' } }, view)).ok).toBe(true);
    const gone = await run({ node: { name: 'worker9', present: false } }, view);
    expect(gone).toMatchObject({ ok: true, observed: 'no node worker9 in the cluster (its nodes: leader, worker1, worker2, worker3)' });
    expect((await run({ node: { name: 'worker9', ready: true } }, view)).ok).toBe(false);
  });
});

describe('url and availability', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(handler: http.RequestListener): Promise<number> {
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('url: asks a node by its address from the view, checks status and body', async () => {
    const port = await serve((_req, res) => res.end('web v1 from abc\n'));
    const view = new FakeView('swarm', [node('leader', { address: '127.0.0.1' })]);
    const ok = await run({ url: { node: 'leader', port, contains: 'web v1' } }, view);
    expect(ok).toMatchObject({ ok: true, observed: `http://127.0.0.1:${port}/: HTTP 200 "web v1 from abc"` });
    expect((await run({ url: { url: `http://127.0.0.1:${port}/`, contains: 'web v2' } }, view)).ok).toBe(false);
    expect((await run({ url: { url: `http://127.0.0.1:${port}/`, status: 404 } }, view)).ok).toBe(false);
    const missing = await run({ url: { node: 'worker7', port } }, view);
    expect(missing.observed).toBe('no node worker7 in the cluster (its nodes: leader)');
  });

  it('url: a refused connection is a failure that names the error', async () => {
    const port = await serve((_req, res) => res.end('x'));
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const r = await run({ url: { url: `http://127.0.0.1:${port}/` } }, new FakeView());
    expect(r.ok).toBe(false);
    expect(r.observed).toContain('ECONNREFUSED');
  });

  it('availability: counts failed requests in the window and the longest outage', async () => {
    let n = 0;
    // Requests 3 to 5 fail: an outage of three requests.
    const port = await serve((_req, res) => {
      n++;
      res.statusCode = n >= 3 && n <= 5 ? 503 : 200;
      res.end(res.statusCode === 200 ? 'ok' : 'down');
    });
    // The fake clock moves only by the check's own waits: exactly 10 requests, 100 ms apart.
    const r = await run({ availability: { url: `http://127.0.0.1:${port}/`, seconds: 1, intervalMs: 100 } }, new FakeView());
    expect(r).toMatchObject({ ok: false, observed: `http://127.0.0.1:${port}/: 10 requests in 1.0 s, 3 failed (longest outage 0.3 s; last: HTTP 503 "down")` });
    const tolerant = await run({ availability: { url: `http://127.0.0.1:${port}/`, seconds: 0.5, intervalMs: 100, maxFailures: 3 } }, new FakeView());
    expect(tolerant).toMatchObject({ ok: true, observed: `http://127.0.0.1:${port}/: 5 requests in 0.5 s, none failed` });
    expect(tolerant.observed).toContain('none failed');
  });
});

describe('script', () => {
  it('passes on exit 0 and shows the end of the output otherwise, with the cluster environment', async () => {
    const env = { LAB_TARGET: 'swarm-a' };
    expect((await run({ script: { run: 'test "$LAB_TARGET" = swarm-a' } }, new FakeView(), { env })).ok).toBe(true);
    const failed = await run({ script: { run: 'echo one; echo two >&2; exit 3', description: 'the answer is right' } }, new FakeView(), { env });
    expect(failed).toMatchObject({ ok: false, expected: 'the answer is right', observed: 'exit 3: one | two' });
  });

  it('stops a script at its timeout', async () => {
    const r = await run({ script: { run: 'sleep 5', timeoutSeconds: 0.3 } }, new FakeView());
    expect(r).toMatchObject({ ok: false });
    expect(r.observed).toMatch(/^timed out after 0.3 s/);
  });
});
