/**
 * A step's checks against a cluster: which checks apply (engine, runner or grader), one
 * bounded evaluation of each, and the polling of them all together until they pass and
 * hold (poller.ts).
 */
import { messageOf } from '../common/errors.js';
import { CHECK_KINDS, CHECK_KIND_NAMES, type CheckKindName } from './checks/index.js';
import type { CheckContext, CheckKind, Observation, ProbeWindow } from './checks/types.js';
import type { LabEngine } from './engines.js';
import { pollUntilStable, type Clock, type PollRound } from './poller.js';
import type { LabCheckDoc, LabStepDoc } from './schema.js';

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  /** Place of the check in its step's list. */
  index: number;
  kind: CheckKindName;
  expected: string;
  observed: string;
  status: CheckStatus;
  ok: boolean;
  transient: boolean;
  /** A probe check's figures. */
  figures?: ProbeWindow;
}

export interface PreparedCheck {
  index: number;
  kind: CheckKindName;
  /** Validated parameters of the kind. */
  params: unknown;
  transient: boolean;
  measured: boolean;
  expected: string;
}

/** The kind of a validated check item (the schema allows exactly one). */
export function kindOf(check: LabCheckDoc): CheckKindName {
  const kind = CHECK_KIND_NAMES.find((k) => check[k] !== undefined);
  if (!kind) throw new Error('a validated check has no kind');
  return kind;
}

function kindModule(kind: CheckKindName): CheckKind<unknown> {
  // The registry maps each name to the module whose params schema validated check[kind].
  return CHECK_KINDS[kind] as unknown as CheckKind<unknown>;
}

export function prepareCheck(check: LabCheckDoc, index: number, engine: LabEngine): PreparedCheck {
  const kind = kindOf(check);
  const module = kindModule(kind);
  const params = check[kind];
  return { index, kind, params, transient: check.transient, measured: module.measured ?? false, expected: module.expected(params, engine) };
}

/** The checks of a step for an engine; the grader leaves transient ones out. */
export function checksFor(step: LabStepDoc, engine: LabEngine, options: { includeTransient: boolean }): { run: PreparedCheck[]; skipped: PreparedCheck[] } {
  const run: PreparedCheck[] = [];
  const skipped: PreparedCheck[] = [];
  step.checks.forEach((check, index) => {
    if (check.engines && !check.engines.includes(engine)) return;
    const prepared = prepareCheck(check, index, engine);
    if (check.transient && !options.includeTransient) skipped.push(prepared);
    else run.push(prepared);
  });
  return { run, skipped };
}

/** Time one look at the cluster may take, beyond what a measured check measures. */
export const CHECK_CALL_TIMEOUT_MS = 20_000;

function measuredMs(check: PreparedCheck): number {
  const seconds = (check.params as { seconds?: number; timeoutSeconds?: number }).seconds ?? (check.params as { timeoutSeconds?: number }).timeoutSeconds ?? 0;
  return seconds * 1000;
}

/** One evaluation; an API that fails or hangs is a failed observation saying so, never a crash. */
export async function evaluateCheck(check: PreparedCheck, ctx: CheckContext): Promise<CheckResult> {
  const limit = CHECK_CALL_TIMEOUT_MS + measuredMs(check);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: false; observed: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, observed: `no answer from the cluster within ${Math.round(limit / 1000)} s` }), limit);
  });
  try {
    const observation: Observation = await Promise.race([
      kindModule(check.kind).evaluate(check.params, ctx),
      timeout,
    ]);
    return {
      index: check.index,
      kind: check.kind,
      expected: check.expected,
      observed: observation.observed,
      ok: observation.ok,
      status: observation.ok ? 'passed' : 'failed',
      transient: check.transient,
      ...(observation.figures ? { figures: observation.figures } : {}),
    };
  } catch (err) {
    return { index: check.index, kind: check.kind, expected: check.expected, observed: `could not look: ${messageOf(err)}`, ok: false, status: 'failed', transient: check.transient };
  } finally {
    clearTimeout(timer);
  }
}

export interface StepPollOptions {
  timeoutMs: number;
  confirmMs: number;
  intervalMs: number;
  clock: Clock;
  signal?: AbortSignal | undefined;
  onRound?: ((round: PollRound, results: CheckResult[]) => void) | undefined;
}

export interface StepOutcome {
  passed: boolean;
  aborted: boolean;
  results: CheckResult[];
  elapsedMs: number;
  attempts: number;
  /** On a pass: the clock time from which every check held. */
  okSince?: number;
}

/**
 * Polls the checks together until all pass and hold for the confirmation window. Measured
 * checks run in the first passing round and are not repeated while confirming.
 */
export async function pollChecks(checks: PreparedCheck[], ctx: CheckContext, options: StepPollOptions): Promise<StepOutcome> {
  const previous = new Map<number, CheckResult>();
  let latest: CheckResult[] = [];
  const outcome = await pollUntilStable(
    async (confirming) => {
      latest = await Promise.all(
        checks.map(async (check) => {
          const earlier = previous.get(check.index);
          if (confirming && check.measured && earlier?.ok) return earlier;
          const result = await evaluateCheck(check, { ...ctx, signal: options.signal });
          previous.set(check.index, result);
          return result;
        }),
      );
      return latest;
    },
    {
      timeoutMs: options.timeoutMs,
      intervalMs: options.intervalMs,
      confirmMs: options.confirmMs,
      clock: options.clock,
      signal: options.signal,
      onRound: (round) => options.onRound?.(round, latest),
    },
  );
  return {
    passed: outcome.passed,
    aborted: outcome.aborted,
    results: outcome.results,
    elapsedMs: outcome.elapsedMs,
    attempts: outcome.attempts,
    ...(outcome.okSince !== undefined ? { okSince: outcome.okSince } : {}),
  };
}

/** "replicas: expected …; saw …" lines of the failed results. */
export function failureLines(results: CheckResult[]): string[] {
  return results.filter((r) => r.status === 'failed').map((r) => `${r.kind}: expected ${r.expected}; saw ${r.observed}`);
}
