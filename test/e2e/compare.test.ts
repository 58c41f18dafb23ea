/**
 * `clusterlab compare` end to end, kept short (two events, 3 nodes): both clusters are made
 * and removed, the table is printed, and report.json, report.md and the chart are written
 * with every figure. Ctrl-C in the middle exits 130 and leaves no cluster behind.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComparisonReport } from '../../src/compare/figures.js';
import { childrenNamed, parseXml } from '../unit/labs-xml.js';
import { clusterlab, clusterlabOk, figure, labelled, removeCluster, seconds, show, spawnClusterlab } from './helpers.js';

const dirs: string[] = [];
const clusters = new Set<string>();

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  // compare removes its clusters itself; this only catches a broken cleanup, and fails then.
  const problems: unknown[] = [];
  for (const c of clusters) {
    const left = await labelled(c);
    if (left.containers.length + left.networks.length + left.volumes.length > 0) await removeCluster(c).catch((e: unknown) => problems.push(e));
  }
  if (problems.length) throw problems[0];
});

beforeAll(async () => {
  // The app's images; building them is skipped when nothing changed.
  await clusterlabOk(['image', 'build', '--apps'], { timeoutMs: 900_000 });
}, 900_000);

function clustersIn(text: string): string[] {
  return [...new Set(text.match(/compare-(?:swarm|kube)-[0-9a-f]{6}/g) ?? [])];
}

describe('clusterlab compare', () => {
  it('--events crash,scale --nodes 3: both engines measured, report written, clusters removed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'compare-e2e-'));
    dirs.push(dir);
    const started = Date.now();
    const r = await clusterlab(['compare', '--events', 'crash,scale', '--nodes', '3', '--report', dir], { timeoutMs: 1_500_000 });
    for (const c of clustersIn(r.stderr)) clusters.add(c);
    expect(r.exitCode, show(r)).toBe(0);
    figure('compare crash,scale on 3 nodes, both engines', seconds(Date.now() - started));

    expect(r.stdout).toMatch(/^EVENT\s+MEASURE\s+DOCKER SWARM\s+KUBERNETES$/m);
    expect(r.stdout).toMatch(/^crash a replica\s+time to recover\s+\d+\.\d s\s+\d+\.\d s$/m);
    expect(r.stdout).toMatch(/^scale 1→10\s+time to scale\s+\d+\.\d s\s+\d+\.\d s$/m);

    const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ComparisonReport;
    expect(report.events).toEqual(['crash', 'scale']);
    expect(report.engines.map((e) => e.engine)).toEqual(['swarm', 'kube']);
    for (const engine of report.engines) {
      expect(engine.error, JSON.stringify(engine, null, 2)).toBeUndefined();
      expect(engine.events.map((e) => e.event)).toEqual(['crash', 'scale']);
      for (const e of engine.events) {
        expect(e, JSON.stringify(e)).toMatchObject({ completed: true });
        expect(e.seconds).toBeGreaterThan(0);
        expect(e.probe!.requests).toBeGreaterThan(20);
        figure(`compare ${engine.engine} ${e.event}: seconds, failed of requests, downtime`, `${e.seconds} s, ${e.probe!.failed}/${e.probe!.requests}, ${e.probe!.downtimeSeconds} s`);
      }
      // compare removed its cluster.
      expect(await labelled(engine.cluster)).toEqual({ containers: [], networks: [], volumes: [] });
    }
    const md = await readFile(path.join(dir, 'report.md'), 'utf8');
    expect(md).toContain('| event | measure | Docker Swarm | Kubernetes |');
    expect(md).toContain('(chart.svg)');
    const svg = parseXml(await readFile(path.join(dir, 'chart.svg'), 'utf8'));
    expect(childrenNamed(svg, 'rect').filter((x) => childrenNamed(x, 'title').length === 1)).toHaveLength(8);
    const list = JSON.parse((await clusterlabOk(['list', '-o', 'json'])).stdout) as { name: string }[];
    expect(list.map((c) => c.name).filter((n) => report.engines.some((e) => e.cluster === n))).toEqual([]);
  }, 1_500_000);

  it('Ctrl-C while the first cluster runs the app: exit 130, the cluster is removed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'compare-e2e-'));
    dirs.push(dir);
    const child = spawnClusterlab(['compare', '--events', 'crash', '--report', dir], { timeoutMs: 600_000 });
    let stderr = '';
    let sentAt = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (!sentAt && /Running the app and the probe on swarm/.test(stderr)) {
        sentAt = Date.now();
        child.kill('SIGINT');
      }
    });
    const result = await child;
    const made = clustersIn(stderr);
    for (const c of made) clusters.add(c);
    expect(sentAt, stderr).toBeGreaterThan(0);
    expect(result.exitCode, stderr).toBe(130);
    expect(made).toHaveLength(1);
    expect(await labelled(made[0]!)).toEqual({ containers: [], networks: [], volumes: [] });
  }, 600_000);
});
