/**
 * What the labs' e2e files share: a lab self-tested by its reference solutions through the
 * built CLI (`lab start`, then `lab solve` step by step, `lab status -o json` ends with
 * done: true), the grader's JSON report, and a pseudo-terminal for the guided mode.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ComparisonReport, EngineResult } from '../../src/compare/figures.js';
import type { LabProgress } from '../../src/labs/progress.js';
import { gradeReportSchema, type GradeReport } from '../../src/labs/report.js';
import { HOME, ROOT, cleanEnv, clusterlab, clusterlabOk, figure, removeCluster, seconds, show, waitFor } from './helpers.js';

/**
 * The file's cluster, made by its first `lab start` and removed after its last test, with
 * proof that nothing labelled is left; and temp dirs the tests add to `dirs`.
 */
export function labCluster(cluster: string): { dirs: string[] } {
  const dirs: string[] = [];
  beforeAll(async () => {
    // The labs run the sample applications; building them is skipped when nothing changed.
    await clusterlabOk(['image', 'build', '--apps'], { timeoutMs: 900_000 });
  }, 900_000);
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    await removeCluster(cluster);
  });
  return { dirs };
}

export async function status(cluster: string): Promise<LabProgress> {
  return JSON.parse((await clusterlabOk(['lab', 'status', '--cluster', cluster, '-o', 'json'])).stdout) as LabProgress;
}

/**
 * `lab start`, then `lab solve` on each current step until none is left; every step must pass.
 * Returns what the last `lab solve` printed (the end of the lab).
 */
export async function selfTest(lab: string, cluster: string, engine: 'swarm' | 'kube'): Promise<string> {
  const started = Date.now();
  let last = '';
  const start = await clusterlab(['lab', 'start', lab, '--cluster', cluster, '--engine', engine], { timeoutMs: 600_000 });
  expect(start.exitCode, show(start)).toBe(0);
  expect(start.stdout).toContain('Step 1/');
  for (let guard = 0; guard < 20; guard++) {
    const progress = await status(cluster);
    expect(progress).toMatchObject({ lab, engine });
    if (progress.currentStep === undefined) break;
    const solve = await clusterlab(['lab', 'solve', '--cluster', cluster], { timeoutMs: 400_000 });
    expect(solve.exitCode, `${lab} on ${engine}, step ${progress.currentStep}\n${show(solve)}`).toBe(0);
    expect(solve.stdout).toContain(`✓ ${progress.currentStep}: passed`);
    last = solve.stdout;
  }
  const done = await status(cluster);
  expect(done.done, JSON.stringify(done, null, 2)).toBe(true);
  expect(done.steps.every((s) => s.status === 'passed' && s.checkedAt)).toBe(true);
  figure(`lab ${lab} on ${engine}: every reference solution`, seconds(Date.now() - started));
  return last;
}

/**
 * swarm-vs-k8s kept this engine's figures, one per event; the run that finds the other engine's
 * there too (the swarm and kube labs run at the same time) printed the table and wrote the report.
 */
export async function expectLabComparison(engine: 'swarm' | 'kube', ending: string): Promise<void> {
  const dir = path.join(HOME, 'comparisons', 'swarm-vs-k8s');
  const mine = JSON.parse(await readFile(path.join(dir, `${engine}.json`), 'utf8')) as EngineResult;
  expect(mine.events.map((e) => e.event)).toEqual(['crash', 'node-loss', 'rollout', 'scale']);
  for (const e of mine.events) {
    expect(e.seconds, JSON.stringify(e)).toBeGreaterThan(0);
    expect(e.probe!.requests, JSON.stringify(e)).toBeGreaterThan(0);
    figure(`swarm-vs-k8s on ${engine}, ${e.event}: seconds, failed of requests, downtime`, `${e.seconds} s, ${e.probe!.failed}/${e.probe!.requests}, ${e.probe!.downtimeSeconds} s`);
  }
  if (ending.includes("This run's figures are kept in")) {
    expect(ending).toContain(`Do the lab on ${engine === 'swarm' ? 'kube' : 'swarm'} too`);
    return;
  }
  expect(ending).toMatch(/^EVENT\s+MEASURE\s+DOCKER SWARM\s+KUBERNETES$/m);
  expect(ending).toMatch(/^lose a node\s+time to recover\s+\d+\.\d s\s+\d+\.\d s$/m);
  const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ComparisonReport;
  expect(report.engines.map((e) => e.engine)).toEqual(['swarm', 'kube']);
  expect(await readFile(path.join(dir, 'chart.svg'), 'utf8')).toContain('<svg');
}

export async function grade(lab: string, cluster: string, extra: string[] = []): Promise<{ exitCode: number; report: GradeReport; raw: string }> {
  const r = await clusterlab(['grade', lab, '--cluster', cluster, '--format', 'json', ...extra], { timeoutMs: 600_000 });
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`grade failed to run\n${show(r)}`);
  return { exitCode: r.exitCode, report: gradeReportSchema.parse(JSON.parse(r.stdout)), raw: r.stdout };
}

/** The graded check of a step, by kind. */
export function checkOf(report: GradeReport, step: string, kind: string) {
  const found = report.steps.find((s) => s.id === step)?.checks.find((c) => c.kind === kind && c.status !== 'skipped');
  if (!found) throw new Error(`no ${kind} check in step ${step}: ${JSON.stringify(report.steps, null, 2)}`);
  return found;
}

/**
 * rolling-update's wrong state: the app goes away under the probe; the grader's probe check
 * fails and says how many requests failed, why, and for how long.
 */
export async function expectOutageCaught(cluster: string, stopTheApp: () => Promise<unknown>): Promise<void> {
  await stopTheApp();
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const wrong = await grade('rolling-update', cluster, ['--timeout', '5']);
  expect(wrong.exitCode, wrong.raw).toBe(1);
  const probe = checkOf(wrong.report, 'update-v2', 'probe');
  expect(probe.status).toBe('failed');
  expect(probe.expected).toMatch(/measured at least 20 requests, at most 0 failed requests, x-app-version v2 seen$/);
  expect(probe.observed).toMatch(/; [1-9]\d* failed \(.+; longest outage \d+\.\d s, still going on\)/);
  expect(checkOf(wrong.report, 'update-v2', 'replicas').observed).toMatch(/^0 desired; /);
}

/** A program run in a pseudo-terminal (util-linux `script`), fed keys when text appears. */
export function terminal(command: string[]) {
  const line = ['stty', 'cols', '100', 'rows', '40', ';', ...command.map((a) => `'${a}'`)].join(' ');
  const child = execa('script', ['-qfec', line, '/dev/null'], { env: cleanEnv({ TERM: 'xterm-256color' }), extendEnv: false, reject: false, cwd: ROOT, timeout: 400_000 });
  let screen = '';
  let seen = 0;
  child.stdout?.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const plain = () => screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  return {
    /** Waits until `text` appears after what was already waited for. */
    async expect(text: string, timeoutMs = 240_000): Promise<void> {
      await waitFor(
        () => {
          const at = plain().indexOf(text, seen);
          if (at < 0) throw new Error(`not yet: ${JSON.stringify(text)}; the screen ends with:\n${plain().slice(-1500)}`);
          seen = at + text.length;
        },
        { timeoutMs, intervalMs: 200, what: JSON.stringify(text) },
      );
    },
    type(keys: string): void {
      child.stdin?.write(keys);
    },
    async exit() {
      const result = await child;
      return { exitCode: result.exitCode ?? -1, screen: plain() };
    },
  };
}
