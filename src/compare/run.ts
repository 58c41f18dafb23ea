/**
 * `clusterlab compare` as a library: for each engine in turn (one at a time: a laptop has
 * few cores), make a cluster, load the images, run the app, put it through the events,
 * and remove the cluster again — also when something fails or the user interrupts. Then
 * write report.json, report.md and the chart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createCluster, deleteCluster } from '../cluster/lifecycle.js';
import { withClusterLock } from '../cluster/lock.js';
import { nodeAction } from '../cluster/nodes.js';
import { silentReporter, type Reporter } from '../cluster/reporter.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { KUBE_DEFAULT_SETTINGS, specFromFlags, type ClusterSpec } from '../cluster/spec.js';
import { InterruptedError } from '../common/errors.js';
import type { LabEngine } from '../labs/engines.js';
import { provideImages } from '../labs/images.js';
import { loadLab } from '../labs/load.js';
import { systemClock, type Clock } from '../labs/poller.js';
import { scriptFor } from '../labs/runner.js';
import { runScript, tail } from '../labs/shell.js';
import { localTarget } from '../labs/target.js';
import { APP_REPLICAS, COMPARE_LAB, PROBE_RATE, driverFor } from './app.js';
import { renderChart } from './chart.js';
import type { CompareEvent } from './events.js';
import type { ComparisonReport, ComparisonSettings, EngineResult, EventFigures } from './figures.js';
import { measureEvent, waitForApp, type MeasureContext } from './measure.js';
import { renderMarkdown } from './report.js';

/** Kube node-failure timings for the comparison, as the node-failure lab uses. */
export const COMPARE_KUBE_TIMINGS = { nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 20 };

export interface CompareOptions {
  events: CompareEvent[];
  nodes: number;
  engines?: LabEngine[];
  reporter?: Reporter;
  signal?: AbortSignal | undefined;
  clock?: Clock;
  /** Prefix of the clusters' names (default "compare"); a random suffix keeps them unique. */
  namePrefix?: string;
  /** Called before a cluster is made (the CLI checks the machine there). */
  beforeCreate?: () => Promise<void>;
}

const ACTION_TIMEOUT_MS = 120_000;

export function compareClusterSpec(name: string, engine: LabEngine, nodes: number): ClusterSpec {
  const spec = specFromFlags(name, engine, nodes, 1);
  if (engine === 'kube') spec.kube = { ...KUBE_DEFAULT_SETTINGS, ...COMPARE_KUBE_TIMINGS };
  return spec;
}

async function runEngine(rt: ClusterRuntime, engine: LabEngine, options: CompareOptions, reporter: Reporter): Promise<EngineResult> {
  const cluster = `${options.namePrefix ?? 'compare'}-${engine}-${randomBytes(3).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const events: EventFigures[] = [];
  const clock = options.clock ?? systemClock;
  const { signal } = options;
  let made = false;
  try {
    await options.beforeCreate?.();
    reporter.info(`Cluster "${cluster}": ${options.nodes} nodes, ${engine}`);
    made = true; // createCluster removes what it half made; down is harmless when nothing is left
    const lab = await loadLab(COMPARE_LAB);
    await withClusterLock(cluster, () => createCluster(rt, compareClusterSpec(cluster, engine, options.nodes), { reporter, signal }));
    await reporter.step(`Loading ${lab.images.join(', ')}`, () => provideImages(rt, cluster, lab.images, reporter));
    const target = await localTarget(rt, cluster);
    const driver = driverFor(engine);
    const run = async (script: string) => {
      const result = await runScript(script, { env: target.env, cwd: lab.dir, timeoutMs: ACTION_TIMEOUT_MS, signal });
      if (signal?.aborted) throw new InterruptedError('interrupted: comparison stopped');
      if (result.exitCode !== 0 || result.timedOut) throw new Error(`${script.trim().split('\n')[0]} failed (${result.timedOut ? 'timed out' : `exit ${result.exitCode}`}): ${tail(result.output, 3)}`);
    };
    const ctx: MeasureContext = {
      view: target.view,
      driver,
      clock,
      signal,
      run,
      power: (node, action) => nodeAction(rt, cluster, node, action, silentReporter, signal),
    };
    await reporter.step(`Running the app and the probe on ${engine}`, async (detail) => {
      await run(scriptFor(lab.setup, engine) ?? '');
      await waitForApp({ ...ctx, progress: detail });
    });
    for (const event of options.events) {
      const figures = await reporter.step(`${engine}: ${event}`, async (detail) => {
        const f = await measureEvent({ ...ctx, progress: detail }, event);
        detail(f.error ?? (f.completed ? `${f.seconds?.toFixed(1)} s, ${f.probe?.failed ?? '?'} failed` : 'did not recover in time'));
        return f;
      });
      events.push(figures);
    }
    await target.close();
    return { engine, cluster, startedAt, finishedAt: new Date().toISOString(), events };
  } catch (err) {
    if (signal?.aborted) throw err instanceof InterruptedError ? err : new InterruptedError('interrupted: comparison stopped');
    return { engine, cluster, startedAt, finishedAt: new Date().toISOString(), events, error: (err as Error).message };
  } finally {
    if (made) await reporter.step(`Removing cluster ${cluster}`, () => deleteCluster(rt, cluster));
  }
}

/** Both engines through the same events; the clusters it made are gone when it returns or throws. */
export async function runComparison(rt: ClusterRuntime, options: CompareOptions): Promise<ComparisonReport> {
  const reporter = options.reporter ?? silentReporter;
  const settings: ComparisonSettings = { nodes: options.nodes, replicas: APP_REPLICAS, probeRatePerSecond: PROBE_RATE, kube: COMPARE_KUBE_TIMINGS };
  const report: ComparisonReport = { version: 1, createdAt: new Date().toISOString(), events: options.events, settings, engines: [] };
  for (const engine of options.engines ?? (['swarm', 'kube'] as const)) {
    report.engines.push(await runEngine(rt, engine, options, reporter));
  }
  return report;
}

export const REPORT_FILES = { json: 'report.json', markdown: 'report.md', chart: 'chart.svg' } as const;

/** Writes report.json, report.md and chart.svg into `dir` (made if missing); returns their paths. */
export async function writeReport(report: ComparisonReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [REPORT_FILES.json, `${JSON.stringify(report, null, 2)}\n`],
    [REPORT_FILES.markdown, renderMarkdown(report, REPORT_FILES.chart)],
    [REPORT_FILES.chart, renderChart(report)],
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(dir, name);
    await writeFile(file, content);
    written.push(file);
  }
  return written;
}
