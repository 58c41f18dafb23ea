/**
 * `clusterlab grade`: every step's checks against the cluster as it is now, in order, each
 * step polled at most its timeout (so a run is bounded), scored with the steps' points.
 * Transient checks (a node is down *during* a step) are not graded: the end state cannot
 * show them, and the report says so.
 */
import { checksFor, pollChecks, type CheckResult } from './evaluate.js';
import type { LabEngine } from './engines.js';
import { localize } from './i18n.js';
import type { Clock } from './poller.js';
import type { GradeCheck, GradeReport, GradeStep } from './report.js';
import type { LabTarget } from './target.js';
import type { Lab } from './validate.js';

export interface GradeOptions {
  engine: LabEngine;
  lang: string;
  clock: Clock;
  /** Caps every step's timeout (a failing step waits this long at most). */
  maxStepTimeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Told as each step is graded (progress on stderr). */
  onStep?: ((step: GradeStep) => void) | undefined;
}

const TRANSIENT_REASON = 'transient: holds only while its step is current, so the grader does not check it';

function graded(result: CheckResult): GradeCheck {
  return { kind: result.kind, expected: result.expected, observed: result.observed, status: result.status };
}

export async function gradeLab(lab: Lab, target: LabTarget, options: GradeOptions): Promise<GradeReport> {
  const { clock } = options;
  const started = clock.now();
  const startedAt = new Date(started).toISOString();
  const steps: GradeStep[] = [];
  for (const step of lab.steps) {
    const { run, skipped } = checksFor(step, options.engine, { includeTransient: false });
    const skippedChecks = skipped.map((c) => ({ index: c.index, check: { kind: c.kind, expected: c.expected, observed: '', status: 'skipped', reason: TRANSIENT_REASON } as GradeCheck }));
    const title = localize(step.title, options.lang);
    const stepStarted = clock.now();
    let result: GradeStep;
    if (run.length === 0) {
      result = { id: step.id, title, points: step.points, score: 0, status: 'skipped', durationMs: 0, checks: skippedChecks.map((c) => c.check) };
    } else {
      const timeoutMs = Math.min(step.timeoutSeconds * 1000, options.maxStepTimeoutMs ?? Infinity);
      const outcome = await pollChecks(
        run,
        { view: target.view, engine: options.engine, env: target.env, cwd: lab.dir, clock },
        { timeoutMs, confirmMs: (step.confirmSeconds ?? lab.confirmSeconds) * 1000, intervalMs: lab.intervalSeconds * 1000, clock, signal: options.signal },
      );
      // In the lab's order, the skipped transient ones in their places.
      const checks = [...outcome.results.map((r) => ({ index: r.index, check: graded(r) })), ...skippedChecks]
        .sort((a, b) => a.index - b.index)
        .map((c) => c.check);
      result = {
        id: step.id,
        title,
        points: step.points,
        score: outcome.passed ? step.points : 0,
        status: outcome.passed ? 'passed' : 'failed',
        durationMs: clock.now() - stepStarted,
        checks,
      };
    }
    steps.push(result);
    options.onStep?.(result);
    if (options.signal?.aborted) break;
  }
  const maxScore = lab.steps.reduce((sum, s) => sum + s.points, 0);
  const score = steps.reduce((sum, s) => sum + s.score, 0);
  return {
    version: 1,
    lab: lab.name,
    title: localize(lab.title, options.lang),
    engine: options.engine,
    target: target.description,
    startedAt,
    durationMs: clock.now() - started,
    score,
    maxScore,
    passed: steps.length === lab.steps.length && steps.every((s) => s.status !== 'failed'),
    steps,
  };
}

