/**
 * What the labs' e2e files share: a lab self-tested by its reference solutions through the
 * built CLI (`lab start`, then `lab solve` step by step, `lab status -o json` ends with
 * done: true), the grader's JSON report, and a pseudo-terminal for the guided mode.
 */
import { rm } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, expect } from 'vitest';
import type { LabProgress } from '../../src/labs/progress.js';
import { gradeReportSchema, type GradeReport } from '../../src/labs/report.js';
import { ROOT, cleanEnv, clusterlab, clusterlabOk, figure, removeCluster, seconds, show, waitFor } from './helpers.js';

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

/** `lab start`, then `lab solve` on each current step until none is left; every step must pass. */
export async function selfTest(lab: string, cluster: string, engine: 'swarm' | 'kube'): Promise<void> {
  const started = Date.now();
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
  }
  const done = await status(cluster);
  expect(done.done, JSON.stringify(done, null, 2)).toBe(true);
  expect(done.steps.every((s) => s.status === 'passed' && s.checkedAt)).toBe(true);
  figure(`lab ${lab} on ${engine}: every reference solution`, seconds(Date.now() - started));
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
