/**
 * The side-by-side report of a lab done on both engines (swarm-vs-k8s): when a lab whose steps
 * `measures` events is done, its figures are kept per engine in
 * $CLUSTERLAB_HOME/comparisons/LAB/ENGINE.json (they outlive the cluster), and once every
 * engine of the lab has figures, report.json, report.md and chart.svg are written beside them:
 * the report `clusterlab compare` writes, from the learner's own runs.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stateHome } from '../cluster/state.js';
import type { LabEngine } from '../labs/engines.js';
import type { LabProgress } from '../labs/progress.js';
import type { Lab } from '../labs/validate.js';
import { APP_REPLICAS, PROBE_RATE } from './app.js';
import { COMPARE_EVENTS } from './events.js';
import type { ComparisonReport, EngineResult, EventFigures } from './figures.js';
import { writeReport } from './run.js';

export function labComparisonDir(lab: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'comparisons', lab);
}

/** The figures of a done lab's measured steps, as `compare` keeps an engine's; undefined when none. */
export function engineResultOf(progress: LabProgress, cluster: string): EngineResult | undefined {
  const events: EventFigures[] = progress.steps.flatMap((step) => {
    const m = step.measurement;
    if (!m) return [];
    return [
      {
        event: m.event,
        completed: true,
        seconds: m.seconds,
        probe: { requests: m.requests, failed: m.failed, downtimeSeconds: m.downtimeSeconds, failuresByReason: m.failuresByReason, latencyP95Ms: m.latencyP95Ms },
        detail: `step "${step.title}" passed ${m.seconds.toFixed(1)} s after the probe's reset`,
      },
    ];
  });
  if (events.length === 0) return undefined;
  const times = progress.steps.flatMap((s) => (s.measurement ? [s.measurement.measuredAt] : [])).sort();
  return { engine: progress.engine, cluster, startedAt: times[0]!, finishedAt: times.at(-1)!, events };
}

async function readEngineResult(file: string): Promise<EngineResult | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as EngineResult;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface LabComparison {
  dir: string;
  /** Engines of the lab still without figures: the report waits for them. */
  missing: LabEngine[];
  /** Written once every engine has figures. */
  report?: ComparisonReport;
  files?: string[];
}

/**
 * Keeps a done lab's figures for its engine and, when every engine of the lab has some, writes
 * the side-by-side report. Undefined when the lab measures nothing or is not done.
 */
export async function recordLabComparison(lab: Lab, progress: LabProgress, cluster: string, env: NodeJS.ProcessEnv = process.env): Promise<LabComparison | undefined> {
  if (!progress.done) return undefined;
  const mine = engineResultOf(progress, cluster);
  if (!mine) return undefined;
  const dir = labComparisonDir(lab.name, env);
  await mkdir(dir, { recursive: true });
  const file = (engine: LabEngine) => path.join(dir, `${engine}.json`);
  const temp = `${file(mine.engine)}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(mine, null, 2)}\n`);
  await rename(temp, file(mine.engine));

  const results = await Promise.all(lab.engines.map((engine) => readEngineResult(file(engine))));
  const missing = lab.engines.filter((_, i) => results[i] === undefined);
  if (missing.length > 0) return { dir, missing };
  const engines = results as EngineResult[];
  const measured = new Set(engines.flatMap((e) => e.events.map((f) => f.event)));
  const report: ComparisonReport = {
    version: 1,
    createdAt: new Date().toISOString(),
    lab: lab.name,
    events: COMPARE_EVENTS.filter((e) => measured.has(e)),
    // The lab runs compare's app (3 replicas of clusterlab/web, the probe at 10 requests a second).
    settings: {
      nodes: lab.cluster.nodes,
      replicas: APP_REPLICAS,
      probeRatePerSecond: PROBE_RATE,
      kube: {
        nodeMonitorGracePeriodSeconds: lab.cluster.kube?.nodeMonitorGracePeriodSeconds ?? 40,
        defaultTolerationSeconds: lab.cluster.kube?.defaultTolerationSeconds ?? 300,
      },
    },
    engines,
  };
  const files = await writeReport(report, dir);
  return { dir, missing, report, files };
}
