/**
 * The dashboard against real 3-node clusters, in headless Chromium (Debian's chromium,
 * driven by playwright-core). Swarm: the page lists the nodes; stopping a worker from the
 * page (click, then confirm) turns its column down and the service's cards reappear on the
 * other nodes, pushed without a reload; requests without the token are refused. Kube: pods
 * as cards, a crash from the page shows as a restart, a stopped node's pods move. Each
 * cluster is removed afterwards; screenshots go to artifacts/ (kept by CI).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  clusterlab,
  clusterlabOk,
  figure,
  KUBECTL_NEWEST,
  removeCluster,
  ROOT,
  runKubectl,
  seconds,
  show,
  spawnClusterlab,
  swarmClient,
  swarmNodeStatus,
  TEST_IMAGE,
  uniqueName,
  waitFor,
  type SwarmClient,
} from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const dirs: string[] = [];

type Dashboard = ReturnType<typeof spawnClusterlab>;

/** `clusterlab dashboard` running for one cluster, its URL read from the first line of stdout. */
async function startDashboard(cluster: string): Promise<{ child: Dashboard; url: string }> {
  const child = spawnClusterlab(['dashboard', '--name', cluster, '--no-open'], { timeoutMs: 900_000 });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no URL from clusterlab dashboard within 60 s\nstdout: ${out}\nstderr: ${err}`)), 60_000);
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out)?.[1];
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    void child.then((r) => reject(new Error(`clusterlab dashboard exited (${r.exitCode}) before printing its URL\nstdout: ${out}\nstderr: ${err}`)));
  });
  return { child, url };
}

async function stopDashboard(child: Dashboard | undefined): Promise<void> {
  if (!child) return;
  if (child.exitCode === undefined || child.exitCode === null) child.kill('SIGINT');
  await child.catch(() => undefined);
}

/** Chromium with a fresh profile, at 1280×800, and the page's problems collected. */
async function openBrowser(): Promise<{ context: BrowserContext; page: Page; problems: string[]; foreign: string[] }> {
  expect(existsSync(CHROMIUM), `the dashboard test drives Debian's chromium at ${CHROMIUM}: apt-get install chromium`).toBe(true);
  const userData = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-chromium-'));
  dirs.push(userData);
  const context = await chromium.launchPersistentContext(userData, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    // The machine's closed network refuses Chromium's own background connections.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const foreign: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : undefined));
  // Every request the page makes stays on this machine (no CDN).
  page.on('request', (r) => (new URL(r.url()).hostname === '127.0.0.1' || r.url().startsWith('data:') ? undefined : foreign.push(r.url())));
  return { context, page, problems, foreign };
}

async function openDashboard(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  await page.waitForSelector('#connection[data-connection="live"]', { timeout: 15_000 });
}

/** Where each running card is, as the page shows it: node → card names. */
function runningCards(page: Page): Promise<Record<string, string[]>> {
  return page.$$eval('li.card[data-tone="ok"]', (cards) => {
    const out: Record<string, string[]> = {};
    for (const c of cards) {
      const node = c.getAttribute('data-node') ?? '';
      (out[node] ??= []).push(c.querySelector('.card-name')?.textContent ?? '');
    }
    return out;
  });
}

const count = (cards: Record<string, string[]>) => Object.values(cards).flat().length;

/** Clicks an action button, checks the confirmation, and confirms. */
async function confirmAction(page: Page, button: string, title: string | RegExp, command?: string): Promise<void> {
  await page.getByRole('button', { name: button, exact: true }).click();
  await expect.poll(() => page.locator('dialog#confirm').isVisible()).toBe(true);
  expect(await page.locator('#confirm-title').textContent()).toMatch(title);
  if (command) expect(await page.locator('#confirm-command').textContent()).toBe(command);
  await page.locator('#confirm-ok').click();
}

/** The node (of `candidates`) that runs the most cards. */
function busiest(cards: Record<string, string[]>, candidates: string[]): string {
  return [...candidates].sort((a, b) => (cards[b]?.length ?? 0) - (cards[a]?.length ?? 0))[0]!;
}

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.sequential('dashboard of a swarm cluster', () => {
  const NAME = uniqueName('dash');
  const SERVICE = 'web';
  const REPLICAS = 4;
  let created = false;
  let swarm: SwarmClient;
  let dashboard: Dashboard | undefined;
  let url = '';
  let context: BrowserContext | undefined;

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await stopDashboard(dashboard);
    if (created) await removeCluster(NAME);
  });

  it('a 3-node swarm with a 4-replica service', async () => {
    created = true;
    const up = await clusterlab(['up', '--name', NAME], { timeoutMs: 300_000 });
    expect(up.exitCode, show(up)).toBe(0);
    await clusterlabOk(['image', 'load', TEST_IMAGE, '--name', NAME]);
    swarm = await swarmClient(NAME);
    await swarm.ok(['service', 'create', '--detach', '--name', SERVICE, '--replicas', String(REPLICAS), TEST_IMAGE, 'sleep', '100000']);
    await waitFor(
      async () => {
        const out = await swarm.ok(['service', 'ps', SERVICE, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}']);
        expect(out.split('\n').filter((l) => l.startsWith('Running'))).toHaveLength(REPLICAS);
      },
      { timeoutMs: 90_000, what: `${REPLICAS} running tasks` },
    );
  });

  it('serves the page on 127.0.0.1 with a token, and refuses requests without it', async () => {
    ({ child: dashboard, url } = await startDashboard(NAME));
    const base = new URL(url);
    expect(base.hostname).toBe('127.0.0.1');
    const token = base.searchParams.get('token') ?? '';
    expect(token.length).toBeGreaterThanOrEqual(32);
    for (const target of ['/', '/api/state', '/api/events', '/assets/app.js', `/?token=${token.slice(1)}`]) {
      const res = await fetch(base.origin + target);
      expect(res.status, target).toBe(403);
      await res.body?.cancel();
    }
    const refusedAction = await fetch(`${base.origin}/api/actions?token=${token}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'node-stop', node: 'worker1' }) });
    expect(refusedAction.status).toBe(403);
    const state = (await (await fetch(`${base.origin}/api/state?token=${token}`)).json()) as { state: { nodes: { name: string; health: string }[] } };
    expect(state.state.nodes.map((n) => `${n.name}:${n.health}`)).toEqual(['leader:ready', 'worker1:ready', 'worker2:ready']);
  });

  it('in Chromium: lists the nodes; stopping a worker from the page turns it down and its cards reappear elsewhere, without a reload', async () => {
    const browser = await openBrowser();
    context = browser.context;
    const { page } = browser;
    const refused = await page.goto(new URL(url).origin + '/');
    expect(refused?.status()).toBe(403);
    expect(await page.textContent('body')).toContain('token');
    browser.problems.length = 0; // the refusal above is logged as a failed load

    await openDashboard(page, url);
    let navigations = 0;
    page.on('framenavigated', (frame) => (frame === page.mainFrame() ? navigations++ : undefined));
    const columns = await page.$$eval('article.node', (nodes) => nodes.map((n) => `${n.getAttribute('data-node')}:${n.getAttribute('data-state')}`));
    expect(columns).toEqual(['leader:ready', 'worker1:ready', 'worker2:ready']);
    await waitFor(async () => expect(count(await runningCards(page))).toBe(REPLICAS), { timeoutMs: 15_000, intervalMs: 250, what: 'the running cards' });
    const before = await runningCards(page);
    const victim = busiest(before, ['worker1', 'worker2']);
    expect(before[victim]?.length ?? 0, JSON.stringify(before)).toBeGreaterThan(0);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-swarm-before.png') });

    const started = Date.now();
    await confirmAction(page, `Stop ${victim}`, `Stop node ${victim}?`, `clusterlab node stop ${victim}`);
    await page.waitForSelector(`article.node[data-node="${victim}"][data-state="down"]`, { timeout: 90_000 });
    figure('dashboard (swarm): stop from the page -> column down', seconds(Date.now() - started));
    await waitFor(
      async () => {
        const now = await runningCards(page);
        expect(now[victim] ?? [], JSON.stringify(now)).toEqual([]);
        expect(Object.values(now).flat().sort(), JSON.stringify(now)).toEqual(Object.values(before).flat().sort());
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `every ${SERVICE} card running on a node other than ${victim}` },
    );
    figure('dashboard (swarm): stop from the page -> cards elsewhere', seconds(Date.now() - started));
    expect(navigations, 'the page must update itself, not reload').toBe(0);
    expect(await page.locator(`article.node[data-node="${victim}"]`).getAttribute('data-machine')).toBe('stopped');
    const timeline = await page.locator('#timeline').textContent();
    expect(timeline).toContain(`node ${victim} is down`);
    expect(timeline).toMatch(new RegExp(`${SERVICE}\\.\\d+ rescheduled: ${victim} → `));
    expect((await swarmNodeStatus(swarm))[victim]).toBe('Down');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-swarm.png') });

    // Scale from the page: a dialog with a number, and the cards follow.
    await page.getByRole('button', { name: `Scale ${SERVICE}` }).click();
    await page.locator('#confirm-input').fill('2');
    await page.locator('#confirm-ok').click();
    await waitFor(async () => expect(count(await runningCards(page))).toBe(2), { timeoutMs: 60_000, intervalMs: 250, what: 'two running cards after scaling to 2' });
    expect(await page.locator(`div.workload[data-workload="${SERVICE}"] .replicas`).textContent()).toBe('2/2 ready');

    // The projector mode still shows every node side by side at 1280×800.
    await page.getByRole('button', { name: 'Large text' }).click();
    const tops = await page.$$eval('article.node', (nodes) => nodes.map((n) => Math.round(n.getBoundingClientRect().top)));
    expect(new Set(tops).size, `node columns on one row: ${JSON.stringify(tops)}`).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-swarm-large.png') });

    expect(navigations).toBe(0);
    expect(browser.problems).toEqual([]);
    expect(browser.foreign).toEqual([]);
  });

  it('stops cleanly on Ctrl-C', async () => {
    await context?.close();
    context = undefined;
    dashboard!.kill('SIGINT');
    const result = await dashboard!;
    expect(result.exitCode, String(result.stderr)).toBe(0);
  });
});

describe.sequential('dashboard of a kube cluster', () => {
  const NAME = uniqueName('dashk');
  const CONTEXT = `clusterlab-${NAME}`;
  const REPLICAS = 3;
  let created = false;
  let dashboard: Dashboard | undefined;
  let context: BrowserContext | undefined;
  let cacheDir = '';

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await stopDashboard(dashboard);
    if (created) await removeCluster(NAME);
  });

  const kubectl = async (args: string[]) => {
    const r = await runKubectl(KUBECTL_NEWEST, CONTEXT, cacheDir, args);
    if (r.exitCode !== 0) throw new Error(`expected exit 0\n${show(r)}`);
    return r.stdout;
  };

  it('a 3-node kube cluster (lab timings) with a 3-replica deployment', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-dashk-'));
    dirs.push(dir);
    cacheDir = path.join(dir, 'kube-cache');
    const config = path.join(dir, 'cluster.yaml');
    await writeFile(
      config,
      [
        'apiVersion: clusterlab.dev/v1alpha1',
        'kind: Cluster',
        'engine: kube',
        // A stopped node's pods move within seconds instead of minutes.
        'kube: {nodeMonitorGracePeriodSeconds: 8, defaultTolerationSeconds: 4}',
        'nodes: [{name: leader, role: manager}, {name: worker1, role: worker}, {name: worker2, role: worker}]',
        '',
      ].join('\n'),
    );
    created = true;
    await clusterlabOk(['up', '--config', config, '--name', NAME], { timeoutMs: 300_000 });
    await clusterlabOk(['image', 'load', TEST_IMAGE, '--name', NAME]);
    await kubectl(['create', 'deployment', 'web', `--image=${TEST_IMAGE}`, `--replicas=${REPLICAS}`, '--', 'sleep', '100000']);
    await waitFor(async () => expect(await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}'])).toBe(String(REPLICAS)), {
      timeoutMs: 90_000,
      what: `${REPLICAS} ready replicas`,
    });
  });

  it('in Chromium: pods as cards; a crash from the page shows as a restart; a stopped node turns NotReady and its pods move', async () => {
    const started = await startDashboard(NAME);
    dashboard = started.child;
    const browser = await openBrowser();
    context = browser.context;
    const { page } = browser;
    await openDashboard(page, started.url);
    expect(await page.locator('#engine').textContent()).toBe('Kubernetes');
    const columns = await page.$$eval('article.node', (nodes) => nodes.map((n) => `${n.getAttribute('data-node')}:${n.getAttribute('data-state')}`));
    expect(columns).toEqual(['leader:ready', 'worker1:ready', 'worker2:ready']);
    await waitFor(async () => expect(count(await runningCards(page))).toBe(REPLICAS), { timeoutMs: 15_000, intervalMs: 250, what: 'the running pod cards' });
    expect(await page.locator('div.workload[data-workload="default/web"] .replicas').textContent()).toBe(`${REPLICAS}/${REPLICAS} ready`);

    // Crash: the agent restarts the container in place; the card counts it.
    const first = page.locator('li.card[data-tone="ok"]').first();
    const podName = (await first.locator('.card-name').textContent()) ?? '';
    const cardId = (await first.getAttribute('data-card')) ?? '';
    await confirmAction(page, `Crash ${podName}`, `Crash ${podName}?`);
    await page.waitForSelector(`li.card[data-card="${cardId}"] .restarts`, { timeout: 60_000 });
    expect(await page.locator(`li.card[data-card="${cardId}"] .restarts`).textContent()).toBe('↻ 1');
    await waitFor(async () => expect(await page.locator('#timeline').textContent()).toContain(`${podName} restarted`), { timeoutMs: 15_000, intervalMs: 250, what: 'the restart on the timeline' });

    const before = await runningCards(page);
    const victim = busiest(before, ['worker1', 'worker2']);
    const begun = Date.now();
    await confirmAction(page, `Stop ${victim}`, `Stop node ${victim}?`, `clusterlab node stop ${victim}`);
    await page.waitForSelector(`article.node[data-node="${victim}"][data-state="down"]`, { timeout: 90_000 });
    figure('dashboard (kube): stop from the page -> column NotReady', seconds(Date.now() - begun));
    await waitFor(
      async () => {
        const now = await runningCards(page);
        expect(now[victim] ?? [], JSON.stringify(now)).toEqual([]);
        expect(count(now), JSON.stringify(now)).toBe(REPLICAS);
      },
      { timeoutMs: 120_000, intervalMs: 500, what: `${REPLICAS} running pod cards on nodes other than ${victim}` },
    );
    figure('dashboard (kube): stop from the page -> pods running elsewhere', seconds(Date.now() - begun));
    expect(await page.locator(`article.node[data-node="${victim}"] .status`).textContent()).toBe('NotReady');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-kube.png') });
    expect(browser.problems).toEqual([]);
    expect(browser.foreign).toEqual([]);
  });

  it('stops cleanly on Ctrl-C, its watches closed', async () => {
    await context?.close();
    context = undefined;
    dashboard!.kill('SIGINT');
    const started = Date.now();
    const result = await dashboard!;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
