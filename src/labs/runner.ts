/**
 * The lab runner, as a library: start a lab on a cluster (create or reuse the cluster, load
 * images, clean up, set up), then check, hint, solve, skip and reset its steps, keeping the
 * progress per cluster. The CLI (src/cli/lab.ts) and the guided mode (interactive.ts) are
 * two faces of these functions.
 */
import { createCluster } from '../cluster/lifecycle.js';
import { withClusterLock } from '../cluster/lock.js';
import type { Reporter } from '../cluster/reporter.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { KUBE_DEFAULT_SETTINGS, specFromFlags, type ClusterSpec } from '../cluster/spec.js';
import { UserError } from '../common/errors.js';
import { checksFor, failureLines, pollChecks, type CheckResult, type StepOutcome } from './evaluate.js';
import type { LabEngine } from './engines.js';
import { textFor } from './i18n.js';
import { provideImages } from './images.js';
import { loadLabDir } from './load.js';
import type { Clock, PollRound } from './poller.js';
import { freshProgress, readProgress, readSession, recordStep, writeProgress, writeSession, type LabProgress, type LabSession, type StepMeasurement } from './progress.js';
import type { LabScript, LabStepDoc } from './schema.js';
import { runScript, tail, type ScriptResult } from './shell.js';
import type { LabTarget } from './target.js';
import type { Lab } from './validate.js';

/** Setup, cleanup and reference solutions may take this long. */
export const SCRIPT_TIMEOUT_MS = 5 * 60_000;

export interface LabRun {
  lab: Lab;
  cluster: string;
  engine: LabEngine;
  lang: string;
  progress: LabProgress;
  session: LabSession;
}

export function scriptFor(script: LabScript | undefined, engine: LabEngine): string | undefined {
  if (script === undefined) return undefined;
  return typeof script === 'string' ? script : script[engine];
}

/** The spec `lab start` creates a missing cluster from: the lab's shape, and its kube timings. */
export function labClusterSpec(lab: Lab, cluster: string, engine: LabEngine): ClusterSpec {
  const spec = specFromFlags(cluster, engine, lab.cluster.nodes, lab.cluster.managers);
  if (engine === 'kube' && lab.cluster.kube) spec.kube = { ...KUBE_DEFAULT_SETTINGS, ...lab.cluster.kube };
  return spec;
}

export interface StartOptions {
  cluster: string;
  /** Default: the existing cluster's engine, else the lab's first. */
  engine?: LabEngine | undefined;
  lang: string;
  reporter: Reporter;
  signal?: AbortSignal | undefined;
  /** Runs before a missing cluster is created (the CLI checks the machine there). */
  beforeCreate?: (() => Promise<void>) | undefined;
  /** Opens the target once the cluster is there (target.ts localTarget; a fake in tests). */
  openTarget: (cluster: string) => Promise<LabTarget>;
  now?: () => Date;
}

function requireEngine(lab: Lab, engine: LabEngine): void {
  if (!lab.engines.includes(engine)) {
    throw new UserError(`lab "${lab.name}" runs on ${lab.engines.join(' and ')}, not ${engine}`, {
      hint: `use --engine ${lab.engines[0]}${lab.engines.length > 1 ? ` (or ${lab.engines.slice(1).join(', ')})` : ''}, and a cluster of that engine (--cluster NAME)`,
    });
  }
}

/** Creates the cluster the lab needs, or checks that the existing one fits. */
async function ensureCluster(rt: ClusterRuntime, lab: Lab, options: StartOptions): Promise<LabEngine> {
  const existing = await rt.provider.getCluster(options.cluster);
  if (existing) {
    const engine = options.engine ?? existing.engine;
    if (existing.engine !== engine) {
      throw new UserError(`cluster "${options.cluster}" runs ${existing.engine}, and the lab was asked to run on ${engine}`, {
        hint: `choose another cluster (--cluster NAME: lab start creates it), or --engine ${existing.engine}`,
      });
    }
    requireEngine(lab, engine);
    const nodes = await rt.provider.listNodes(options.cluster);
    if (nodes.length < lab.cluster.nodes) {
      options.reporter.warn(`the lab is made for ${lab.cluster.nodes} nodes and cluster "${options.cluster}" has ${nodes.length}: some steps may not pass`);
    }
    const wanted = lab.cluster.kube;
    const has = existing.spec?.kube;
    if (engine === 'kube' && wanted && (has?.nodeMonitorGracePeriodSeconds !== wanted.nodeMonitorGracePeriodSeconds || has?.defaultTolerationSeconds !== wanted.defaultTolerationSeconds)) {
      options.reporter.warn(
        `the lab expects node-failure timings ${JSON.stringify(wanted)} and cluster "${options.cluster}" has ${JSON.stringify(has ?? KUBE_DEFAULT_SETTINGS)}: node-failure steps will take longer`,
      );
    }
    return engine;
  }
  const engine = options.engine ?? lab.engines[0]!;
  requireEngine(lab, engine);
  await options.beforeCreate?.();
  const spec = labClusterSpec(lab, options.cluster, engine);
  options.reporter.info(`Creating cluster "${spec.name}" for the lab: ${spec.nodes.length} nodes, ${engine}`);
  await withClusterLock(spec.name, () => createCluster(rt, spec, { reporter: options.reporter, signal: options.signal }));
  return engine;
}

async function runLabScript(what: string, script: string | undefined, lab: Lab, target: LabTarget, signal?: AbortSignal, echo?: (chunk: string) => void): Promise<ScriptResult | undefined> {
  if (!script?.trim()) return undefined;
  const result = await runScript(script, { env: target.env, cwd: lab.dir, timeoutMs: SCRIPT_TIMEOUT_MS, signal, echo });
  if (result.exitCode !== 0 || result.timedOut) {
    throw new UserError(`the lab's ${what} failed (${result.timedOut ? 'timed out' : `exit ${result.exitCode}`})${result.output.trim() ? `:\n${tail(result.output, 15)}` : ''}`, {
      hint: `the ${what} script is in ${lab.file}`,
    });
  }
  return result;
}

/** Images, then cleanup (what an earlier run left), then setup: a clean start on a reused cluster. */
export async function prepareLab(rt: ClusterRuntime, lab: Lab, engine: LabEngine, target: LabTarget, reporter: Reporter, signal?: AbortSignal): Promise<void> {
  if (lab.images.length > 0 && target.cluster) {
    await reporter.step(`Loading images ${lab.images.join(', ')}`, async (detail) => {
      const loaded = await provideImages(rt, target.cluster!, lab.images, reporter);
      detail(loaded.length ? `into ${loaded.join(', ')}` : 'already in every node');
    });
  }
  const cleanup = scriptFor(lab.cleanup, engine);
  if (cleanup?.trim()) {
    await reporter.step('Cleaning up what an earlier run left', async () => {
      const result = await runScript(cleanup, { env: target.env, cwd: lab.dir, timeoutMs: SCRIPT_TIMEOUT_MS, signal });
      if (result.exitCode !== 0) reporter.warn(`cleanup exited ${result.exitCode}: ${tail(result.output, 3)}`);
    });
  }
  const setup = scriptFor(lab.setup, engine);
  if (setup?.trim()) await reporter.step('Setting up the lab', () => runLabScript('setup', setup, lab, target, signal));
}

/** `lab start`: the cluster, the lab's setup, and fresh progress. */
export async function startLab(rt: ClusterRuntime, lab: Lab, options: StartOptions): Promise<{ run: LabRun; target: LabTarget }> {
  const engine = await ensureCluster(rt, lab, options);
  const target = await options.openTarget(options.cluster);
  await prepareLab(rt, lab, engine, target, options.reporter, options.signal);
  const now = (options.now ?? (() => new Date()))();
  const progress = freshProgress(lab, engine, options.lang, now);
  const session: LabSession = { labDir: lab.dir, lang: options.lang, hintsShown: {}, startedAt: now.toISOString() };
  await writeProgress(options.cluster, progress);
  await writeSession(options.cluster, session);
  return { run: { lab, cluster: options.cluster, engine, lang: options.lang, progress, session }, target };
}

/** The lab running on a cluster, as `lab start` left it. */
export async function openRun(cluster: string, lang?: string): Promise<LabRun> {
  const [progress, session] = await Promise.all([readProgress(cluster), readSession(cluster)]);
  if (!progress || !session) {
    throw new UserError(`no lab is running on cluster "${cluster}"`, { hint: `start one: clusterlab lab start NAME --cluster ${cluster} (clusterlab lab ls lists them)` });
  }
  const lab = await loadLabDir(session.labDir);
  return { lab, cluster, engine: progress.engine, lang: lang ?? session.lang, progress, session };
}

/** The step `id`, or the current one. */
export function stepOf(run: LabRun, id?: string): LabStepDoc {
  const wanted = id ?? run.progress.currentStep;
  if (wanted === undefined) {
    throw new UserError(run.progress.done ? `lab "${run.lab.name}" is done: every step passed` : 'no step is left to do (some were skipped)', {
      hint: run.progress.done ? 'start it again with clusterlab lab reset, or another lab with clusterlab lab start' : 'check a skipped step with --step ID, or clusterlab lab reset',
    });
  }
  const step = run.lab.steps.find((s) => s.id === wanted);
  if (!step) throw new UserError(`lab "${run.lab.name}" has no step "${wanted}"`, { hint: `its steps: ${run.lab.steps.map((s) => s.id).join(', ')}` });
  return step;
}

export function stepNumber(run: LabRun, step: LabStepDoc): string {
  return `${run.lab.steps.indexOf(step) + 1}/${run.lab.steps.length}`;
}

/** The step's text (markdown) in the run's language and engine. */
export function stepText(run: LabRun, step: LabStepDoc): string {
  return textFor(step.text, run.engine, run.lang);
}

async function saveProgress(run: LabRun, progress: LabProgress): Promise<void> {
  run.progress = progress;
  await writeProgress(run.cluster, progress);
}

export interface CheckStepOptions {
  stepId?: string | undefined;
  /** Default: the step's timeoutSeconds. */
  timeoutMs?: number | undefined;
  clock: Clock;
  signal?: AbortSignal | undefined;
  onRound?: ((round: PollRound, results: CheckResult[]) => void) | undefined;
  now?: () => Date;
}

/** Polls the step's checks (transient ones included) and records the result. */
export async function checkStep(run: LabRun, target: LabTarget, options: CheckStepOptions): Promise<{ step: LabStepDoc; outcome: StepOutcome }> {
  const step = stepOf(run, options.stepId);
  const { run: checks } = checksFor(step, run.engine, { includeTransient: true });
  const outcome = await pollChecks(
    checks,
    { view: target.view, engine: run.engine, env: target.env, cwd: run.lab.dir, clock: options.clock },
    {
      timeoutMs: options.timeoutMs ?? step.timeoutSeconds * 1000,
      confirmMs: (step.confirmSeconds ?? run.lab.confirmSeconds) * 1000,
      intervalMs: run.lab.intervalSeconds * 1000,
      clock: options.clock,
      signal: options.signal,
      onRound: options.onRound,
    },
  );
  if (outcome.aborted) return { step, outcome };
  const now = (options.now ?? (() => new Date()))();
  const message = outcome.passed ? undefined : failureLines(outcome.results).join('; ');
  const measurement = outcome.passed ? measurementOf(step, outcome, now) : undefined;
  await saveProgress(run, recordStep(run.progress, step.id, outcome.passed ? 'passed' : 'failed', message, now, measurement));
  return { step, outcome };
}

/**
 * What a passed step that `measures` an event took: from the probe window's start (its
 * reset, just before the event) to the round from which the checks held, and the probe's
 * figures of that window. Undefined when the step measures nothing or has no probe check.
 */
export function measurementOf(step: LabStepDoc, outcome: StepOutcome, now: Date): StepMeasurement | undefined {
  const figures = outcome.results.find((r) => r.figures)?.figures;
  if (!step.measures || !figures?.windowStartedAt || outcome.okSince === undefined) return undefined;
  const seconds = Math.max(0, (outcome.okSince - Date.parse(figures.windowStartedAt)) / 1000);
  return {
    event: step.measures,
    seconds: Math.round(seconds * 10) / 10,
    requests: figures.requests,
    failed: figures.failed,
    downtimeSeconds: figures.downtimeSeconds,
    failuresByReason: figures.failuresByReason,
    latencyP95Ms: figures.latencyP95Ms,
    measuredAt: now.toISOString(),
  };
}

/** The next hint of the step (each call shows one more, the last one again at the end). */
export async function nextHint(run: LabRun, stepId?: string): Promise<{ step: LabStepDoc; text: string; number: number; total: number } | undefined> {
  const step = stepOf(run, stepId);
  const hints = step.hints.map((h) => textFor(h, run.engine, run.lang)).filter((h) => h.trim() !== '');
  if (hints.length === 0) return undefined;
  const shown = run.session.hintsShown[step.id] ?? 0;
  const index = Math.min(shown, hints.length - 1);
  run.session = { ...run.session, hintsShown: { ...run.session.hintsShown, [step.id]: index + 1 } };
  await writeSession(run.cluster, run.session);
  return { step, text: hints[index]!, number: index + 1, total: hints.length };
}

export function solutionOf(run: LabRun, step: LabStepDoc): string | undefined {
  return scriptFor(step.solution, run.engine);
}

/** Runs the step's reference solution; the caller checks the step afterwards. */
export async function solveStep(run: LabRun, target: LabTarget, options: { stepId?: string | undefined; signal?: AbortSignal | undefined; echo?: ((chunk: string) => void) | undefined }): Promise<{ step: LabStepDoc; result: ScriptResult }> {
  const step = stepOf(run, options.stepId);
  const solution = solutionOf(run, step);
  if (!solution?.trim()) throw new UserError(`step "${step.id}" has no reference solution for ${run.engine}`);
  const result = await runScript(solution, { env: target.env, cwd: run.lab.dir, timeoutMs: SCRIPT_TIMEOUT_MS, signal: options.signal, echo: options.echo });
  return { step, result };
}

export async function skipStep(run: LabRun, stepId?: string, now: Date = new Date()): Promise<LabStepDoc> {
  const step = stepOf(run, stepId);
  await saveProgress(run, recordStep(run.progress, step.id, 'skipped', 'skipped', now));
  return step;
}

/** `lab reset`: cleanup, setup and fresh progress, on the same cluster and engine. */
export async function resetLab(rt: ClusterRuntime, run: LabRun, target: LabTarget, reporter: Reporter, signal?: AbortSignal, now: Date = new Date()): Promise<void> {
  await prepareLab(rt, run.lab, run.engine, target, reporter, signal);
  run.session = { ...run.session, hintsShown: {}, startedAt: now.toISOString() };
  await writeSession(run.cluster, run.session);
  await saveProgress(run, freshProgress(run.lab, run.engine, run.lang, now));
}
