/**
 * The sample applications with the real engine: `clusterlab image build --apps` (then again,
 * skipped), and the chat as a swarm stack on a 3-node cluster, exactly as its compose file
 * says: backends behind dnsrr, the frontend on every node's host-mode port 8080, the probe's
 * summary on the manager's port 8081. Then "crash a backend": the probe must record failures
 * that end within seconds, and the swarm must bring the replica back. The cluster is
 * removed in afterAll, also when a step failed.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_IMAGES } from '../../src/docker/app-images.js';
import {
  ROOT,
  clusterStatus,
  clusterlab,
  dockerOk,
  figure,
  removeCluster,
  seconds,
  show,
  swarmClient,
  uniqueName,
  waitFor,
  type SwarmClient,
} from './helpers.js';

const NAME = uniqueName('apps');
const STACK = 'chat';
const COMPOSE = path.join(ROOT, 'images', 'apps', 'chat', 'compose.yaml');

let created = false;
let swarm: SwarmClient;
let leaderIp = '';

afterAll(async () => {
  if (created) await removeCluster(NAME);
});

/** What the probe's /stats holds (the parts read here). */
interface ProbeStats {
  totals: { requests: number; ok: number; fail: number };
  failures: { first: string | null; last: string | null; byReason: Record<string, number> };
  downtime: { longestMs: number; ongoing: boolean };
  tallies: Record<string, Record<string, number>>;
  seconds: { t: string; ok: number; fail: number }[];
}

/** One request from the host to a node's published port; bounded by a 5 s deadline. */
async function http(url: string, method = 'GET'): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as Record<string, unknown> };
}

async function probeStats(): Promise<ProbeStats> {
  const { status, json } = await http(`http://${leaderIp}:8081/stats`);
  expect(status).toBe(200);
  return json as unknown as ProbeStats;
}

/** `docker service ls` of the stack: service name -> "running/desired". */
async function serviceReplicas(): Promise<Record<string, string>> {
  const out = await swarm.ok(['service', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', '{{.Name}} {{.Replicas}}']);
  return Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
}

async function expectStackRunning(): Promise<void> {
  const replicas = await serviceReplicas();
  expect(Object.keys(replicas).sort()).toEqual(['backend', 'frontend', 'probe', 'store'].map((s) => `${STACK}_${s}`));
  expect(replicas[`${STACK}_backend`]).toBe('3/3');
  expect(replicas[`${STACK}_frontend`]).toBe('3/3'); // global: one per node
  expect(replicas[`${STACK}_store`]).toBe('1/1');
  expect(replicas[`${STACK}_probe`]).toBe('1/1');
}

describe.sequential(`sample apps on swarm cluster ${NAME}`, () => {
  it('image build --apps: the runtime and every app image; a second run builds nothing', async () => {
    const first = await clusterlab(['image', 'build', '--apps'], { timeoutMs: 600_000 });
    expect(first.exitCode, show(first)).toBe(0);
    const refs = first.stdout.trim().split('\n');
    expect(refs[0]).toMatch(/^clusterlab\/app-runtime:[0-9a-f]{12}$/);
    expect(refs.slice(1)).toEqual(APP_IMAGES.map((i) => i.ref));

    const started = Date.now();
    const again = await clusterlab(['image', 'build', '--apps']);
    expect(again.exitCode, show(again)).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    const escape = (text: string): string => text.replace(/[/.]/g, '\\$&');
    expect(again.stderr, show(again)).toMatch(new RegExp(`${escape(refs[0]!)} [\\d.]+ MB \\(up to date\\)`));
    for (const ref of refs.slice(1)) expect(again.stderr, show(again)).toMatch(new RegExp(`${escape(ref)} [\\d.]+ kB on the runtime \\(up to date\\)`));
    figure('image build --apps, nothing changed', seconds(Date.now() - started));

    const size = async (ref: string): Promise<number> => Number((await dockerOk(['image', 'inspect', '--format', '{{.Size}}', ref])).trim());
    const runtime = await size(refs[0]!);
    figure('app runtime image', `${(runtime / 1e6).toFixed(1)} MB`);
    for (const ref of refs.slice(1)) {
      const own = (await size(ref)) - runtime;
      figure(`${ref} on top of the runtime`, `${(own / 1e3).toFixed(1)} kB`);
      // Only the app's JavaScript on top of the shared runtime.
      expect(own, ref).toBeLessThan(200_000);
    }
  });

  it('a 3-node swarm with the chat and probe images loaded into every node', async () => {
    created = true;
    const up = await clusterlab(['up', '--name', NAME], { timeoutMs: 300_000 });
    expect(up.exitCode, show(up)).toBe(0);
    const started = Date.now();
    const load = await clusterlab(['image', 'load', 'clusterlab/chat:1', 'clusterlab/probe:1', '--name', NAME], { timeoutMs: 600_000 });
    expect(load.exitCode, show(load)).toBe(0);
    figure('image load chat + probe into 3 nodes', seconds(Date.now() - started));
    swarm = await swarmClient(NAME);
    leaderIp = (await clusterStatus(NAME)).nodes.find((n) => n.name === 'leader')!.ip;
  });

  it('the chat stack answers on host-mode port 8080 from more than one backend replica', async () => {
    const started = Date.now();
    await swarm.ok(['stack', 'deploy', '--resolve-image', 'never', '-c', COMPOSE, STACK], { timeoutMs: 120_000 });
    await waitFor(expectStackRunning, { timeoutMs: 180_000, intervalMs: 2_000, what: 'every service of the chat stack running' });
    // Healthy end to end: the probe's simulated conversations get through.
    await waitFor(
      async () => {
        const stats = await probeStats();
        expect(stats.seconds.at(-1)?.ok ?? 0).toBeGreaterThan(0);
      },
      { timeoutMs: 90_000, intervalMs: 2_000, what: 'the probe getting answers through the frontend' },
    );
    figure('chat stack deployed and answering', seconds(Date.now() - started));

    // From the host, through the frontend on each node, to the backends over the overlay.
    const status = await clusterStatus(NAME);
    const replicas = new Map<string, number>();
    for (let i = 0; i < 12; i++) {
      const node = status.nodes[i % status.nodes.length]!;
      const answer = await http(`http://${node.ip}:8080/api/whoami`);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      const replica = String(answer.json.replica);
      replicas.set(replica, (replicas.get(replica) ?? 0) + 1);
    }
    figure('whoami answers by backend replica', JSON.stringify(Object.fromEntries(replicas)));
    expect(replicas.size).toBeGreaterThanOrEqual(2);

    const page = await fetch(`http://${leaderIp}:8080/`, { signal: AbortSignal.timeout(5_000) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Crash a backend');
  });

  it('crash a backend: the probe records failures that end within seconds, and the swarm restarts it', async () => {
    await expectStackRunning();
    const reset = await http(`http://${leaderIp}:8081/reset`, 'POST');
    expect(reset.status).toBe(200);
    // A few healthy seconds first, from every backend.
    await waitFor(
      async () => {
        const stats = await probeStats();
        expect(stats.seconds.length).toBeGreaterThanOrEqual(3);
        expect(stats.totals.fail).toBe(0);
      },
      { timeoutMs: 30_000, intervalMs: 1_000, what: 'three finished seconds of the probe without failures' },
    );
    const before = await probeStats();
    expect(Object.keys(before.tallies['x-served-by'] ?? {}).length).toBeGreaterThanOrEqual(2);

    const crashedAt = Date.now();
    const crash = await http(`http://${leaderIp}:8080/api/crash`, 'POST');
    expect(crash.status).toBe(202);
    const crashed = String(crash.json.replica);

    // Failures come, then stop: the last one is 8 s behind and the seconds since are clean.
    const after = await waitFor(
      async () => {
        const stats = await probeStats();
        expect(stats.totals.fail, 'failures after the crash').toBeGreaterThan(0);
        expect(Date.now() - Date.parse(stats.failures.last!)).toBeGreaterThan(8_000);
        return stats;
      },
      { timeoutMs: 90_000, intervalMs: 2_000, what: 'the probe to record failures, then none for 8 s' },
    );
    const first = Date.parse(after.failures.first!);
    const last = Date.parse(after.failures.last!);
    figure('failures after crash', `${after.totals.fail} of ${after.totals.requests} requests, ${JSON.stringify(after.failures.byReason)}`);
    figure('failure window (first to last failed request)', seconds(last - first));
    figure('longest run of failed requests', `${after.downtime.longestMs} ms`);
    expect(first).toBeGreaterThanOrEqual(crashedAt - 1_000);
    // Bounded: the frontends' DNS TTL (5 s) plus their upstream timeout, with room for a slow machine.
    expect(last - first).toBeLessThan(20_000);
    expect(after.downtime.ongoing).toBe(false);
    // Only the crashed replica's share failed: the others kept answering meanwhile.
    expect(after.totals.fail).toBeLessThan(after.totals.requests / 2);
    const lastFailureSecond = Math.floor(last / 1000) * 1000;
    const clean = after.seconds.filter((s) => Date.parse(s.t) > lastFailureSecond);
    expect(clean.length).toBeGreaterThanOrEqual(5);
    for (const s of clean) expect(s, JSON.stringify(clean)).toMatchObject({ fail: 0, ok: expect.any(Number) });
    expect(clean.every((s) => s.ok > 0)).toBe(true);

    // The swarm replaced the task that exited non-zero, and the new replica gets traffic.
    await waitFor(expectStackRunning, { timeoutMs: 60_000, intervalMs: 2_000, what: 'backend back at 3/3' });
    const history = await swarm.ok(['service', 'ps', `${STACK}_backend`, '--format', '{{.CurrentState}}|{{.Error}}']);
    expect(history).toContain('non-zero exit (1)');
    await waitFor(
      async () => {
        const served = Object.keys((await probeStats()).tallies['x-served-by'] ?? {});
        expect(served.filter((r) => r !== crashed && !Object.keys(before.tallies['x-served-by'] ?? {}).includes(r)).length).toBeGreaterThan(0);
      },
      { timeoutMs: 60_000, intervalMs: 2_000, what: 'answers from the replacement backend' },
    );
    figure('crash -> replacement answering', seconds(Date.now() - crashedAt));
  });
});
