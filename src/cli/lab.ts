/**
 * `clusterlab lab …`: list, show and run guided labs. Parsing and printing only; the runner
 * is src/labs/runner.ts, the guided mode src/labs/interactive.ts.
 */
import ora from 'ora';
import { openRuntime, type ClusterRuntime } from '../cluster/runtime.js';
import { DEFAULT_CLUSTER_NAME } from '../cluster/spec.js';
import { UserError, messageOf } from '../common/errors.js';
import { recordLabComparison } from '../compare/lab-comparison.js';
import { comparisonTable } from '../compare/report.js';
import { checksFor, type CheckResult } from '../labs/evaluate.js';
import type { LabEngine } from '../labs/engines.js';
import { localize, pickLanguage, textFor } from '../labs/i18n.js';
import { listLabDirs, loadLab, loadLabDir } from '../labs/load.js';
import { renderMarkdown, renderWidth, useColor } from '../labs/markdown.js';
import { systemClock, type PollRound } from '../labs/poller.js';
import { labIntro, outcomeBlock, roundSummary, stepBlock } from '../labs/present.js';
import { readProgress } from '../labs/progress.js';
import { checkStep, nextHint, openRun, resetLab, skipStep, solveStep, startLab, stepOf, type LabRun } from '../labs/runner.js';
import { localTarget, type LabTarget } from '../labs/target.js';
import { ui } from '../labs/ui-text.js';
import type { Lab } from '../labs/validate.js';
import { stringOption } from './args.js';
import { runFatalChecks } from './doctor.js';
import { withInterrupt } from './interrupt.js';
import type { GlobalOptions } from './main.js';
import { formatTable, parseOutputFormat, printData } from './output.js';
import { createReporter } from './progress.js';

function clusterOf(options: Record<string, unknown>): string {
  return stringOption(options, 'cluster') ?? DEFAULT_CLUSTER_NAME;
}

function clusterFlag(cluster: string): string {
  return cluster === DEFAULT_CLUSTER_NAME ? '' : ` --cluster ${cluster}`;
}

const stdoutRender = () => ({ width: renderWidth(process.stdout), color: useColor(process.stdout) });

function isInteractive(options: Record<string, unknown>): boolean {
  return options.interactive !== false && Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

function parseSeconds(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new UserError(`${flag} must be a number of seconds from 0 to 3600, got "${String(value)}"`, { exitCode: 2 });
  return n;
}

// ---------------------------------------------------------------------------
// lab ls / lab show

interface LabListing {
  name: string;
  title: string;
  engines: LabEngine[];
  steps: number;
  points: number;
  description: string;
  path: string;
  /** Set when the lab file does not validate. */
  error?: string;
}

export async function labList(_args: string[], options: Record<string, unknown>): Promise<number> {
  const format = parseOutputFormat(stringOption(options, 'output'));
  const lang = pickLanguage(stringOption(options, 'lang'));
  const listings: LabListing[] = [];
  for (const dir of await listLabDirs()) {
    try {
      const lab = await loadLabDir(dir);
      listings.push({
        name: lab.name,
        title: localize(lab.title, lang),
        engines: lab.engines,
        steps: lab.steps.length,
        points: lab.steps.reduce((sum, s) => sum + s.points, 0),
        description: (textFor(lab.description, lab.engines[0]!, lang).trim().split(/\n\s*\n/)[0] ?? '').replace(/\s*\n\s*/g, ' '),
        path: lab.dir,
      });
    } catch (err) {
      listings.push({ name: dir.split(/[\\/]/).pop() ?? dir, title: '', engines: [], steps: 0, points: 0, description: '', path: dir, error: messageOf(err) });
    }
  }
  if (format === 'json' || format === 'yaml') {
    printData(listings, format);
    return 0;
  }
  const rows = listings.map((l) => [l.name, l.engines.join(',') || '-', String(l.steps), l.error ? `(invalid: ${l.error.split('\n')[0]})` : l.title]);
  process.stdout.write(formatTable(['NAME', 'ENGINES', 'STEPS', 'TITLE'], rows));
  return 0;
}

function engineOption(options: Record<string, unknown>): LabEngine | undefined {
  return stringOption(options, 'engine') as LabEngine | undefined;
}

function showData(lab: Lab, engine: LabEngine, lang: string) {
  return {
    name: lab.name,
    title: localize(lab.title, lang),
    description: textFor(lab.description, engine, lang),
    engines: lab.engines,
    engine,
    cluster: lab.cluster,
    images: lab.images,
    steps: lab.steps.map((s) => ({
      id: s.id,
      title: localize(s.title, lang),
      text: textFor(s.text, engine, lang),
      points: s.points,
      timeoutSeconds: s.timeoutSeconds,
      checks: checksFor(s, engine, { includeTransient: true }).run.map((c) => ({ kind: c.kind, expected: c.expected, transient: c.transient })),
    })),
  };
}

export async function labShow(args: string[], options: Record<string, unknown>): Promise<number> {
  const format = parseOutputFormat(stringOption(options, 'output'));
  const lang = pickLanguage(stringOption(options, 'lang'));
  const lab = await loadLab(args[0]!);
  const engine = engineOption(options) ?? lab.engines[0]!;
  if (!lab.engines.includes(engine)) throw new UserError(`lab "${lab.name}" runs on ${lab.engines.join(' and ')}, not ${engine}`);
  const data = showData(lab, engine, lang);
  if (format === 'json' || format === 'yaml') {
    printData(data, format);
    return 0;
  }
  const render = stdoutRender();
  const parts = [
    renderMarkdown(`# ${data.title}\n\n${data.description}`, render),
    `Engines: ${lab.engines.join(', ')}   Cluster: ${lab.cluster.nodes} nodes (${lab.cluster.managers} manager${lab.cluster.managers > 1 ? 's' : ''})${lab.images.length ? `   Images: ${lab.images.join(', ')}` : ''}\n`,
    ...data.steps.map((s, i) => `\n${renderMarkdown(`## ${i + 1}. ${s.title} (${s.points} point${s.points === 1 ? '' : 's'})\n\n${s.text}`, render)}`),
    `\nStart it: clusterlab lab start ${lab.name}${lab.engines.length > 1 ? ` [--engine ${lab.engines.join('|')}]` : ''}\n`,
  ];
  process.stdout.write(parts.join(''));
  return 0;
}

// ---------------------------------------------------------------------------
// Running a lab

interface Opened {
  rt: ClusterRuntime;
  run: LabRun;
  target: LabTarget;
}

async function open(options: Record<string, unknown>): Promise<Opened> {
  const cluster = clusterOf(options);
  const run = await openRun(cluster, stringOption(options, 'lang') ? pickLanguage(stringOption(options, 'lang')) : undefined);
  const rt = await openRuntime();
  const target = await localTarget(rt, cluster);
  if (target.engine !== run.engine) {
    throw new UserError(`cluster "${cluster}" runs ${target.engine} now, and lab "${run.lab.name}" was started on ${run.engine}`, {
      hint: `start the lab again: clusterlab lab start ${run.lab.name}${clusterFlag(cluster)}`,
    });
  }
  return { rt, run, target };
}

/**
 * At the end of a lab whose steps measure events: where its figures are kept, and once the lab
 * was done on every engine, the side-by-side table and the report's files.
 */
async function comparisonNote(run: LabRun): Promise<string> {
  const comparison = await recordLabComparison(run.lab, run.progress, run.cluster);
  if (!comparison) return '';
  if (!comparison.report) {
    const other = comparison.missing.join(' and ');
    return (
      `\nThis run's figures are kept in ${comparison.dir}. Do the lab on ${other} too ` +
      `(clusterlab lab start ${run.lab.name} --engine ${comparison.missing[0]} --cluster OTHER) to get them side by side.\n`
    );
  }
  const { headers, rows } = comparisonTable(comparison.report);
  return `\n${formatTable(headers, rows)}\nReport: ${(comparison.files ?? []).join(', ')}\n`;
}

/** What follows a step's result: the next step's text, or the end. */
async function printWhatNext(run: LabRun): Promise<void> {
  const render = stdoutRender();
  if (run.progress.currentStep === undefined) {
    process.stdout.write(`\n${run.progress.done ? ui('labDone', run.lang) : ui('stepsLeftSkipped', run.lang)}\n`);
    if (run.progress.done) process.stdout.write(await comparisonNote(run));
    return;
  }
  process.stdout.write(stepBlock(run, stepOf(run), render));
  process.stdout.write(`\nWhen done: clusterlab lab check${clusterFlag(run.cluster)}   (hint: clusterlab lab hint${clusterFlag(run.cluster)})\n`);
}

export async function labStart(args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const cluster = clusterOf(options);
  const lang = pickLanguage(stringOption(options, 'lang'));
  const lab = await loadLab(args[0]!);
  const rt = await openRuntime();
  const reporter = createReporter({ verbose: global.verbose });
  const { run, target } = await withInterrupt((signal) =>
    startLab(rt, lab, {
      cluster,
      engine: engineOption(options),
      lang,
      reporter,
      signal,
      beforeCreate: () => runFatalChecks(rt),
      openTarget: (name) => localTarget(rt, name),
    }),
  );
  if (isInteractive(options)) return guideRun(rt, run, target, global);
  process.stdout.write(labIntro(run, stdoutRender()));
  await printWhatNext(run);
  return 0;
}

async function guideRun(rt: ClusterRuntime, run: LabRun, target: LabTarget, global: GlobalOptions): Promise<number> {
  // The guided mode's prompt library is loaded only for it.
  const { guide } = await import('../labs/interactive.js');
  await guide(run, target, {
    rt,
    reporter: createReporter({ verbose: global.verbose }),
    clock: systemClock,
    clusterFlag: clusterFlag(run.cluster),
    onDone: () => comparisonNote(run),
  });
  return 0;
}

export async function labResume(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const { rt, run, target } = await open(options);
  if (isInteractive(options)) return guideRun(rt, run, target, global);
  await printWhatNext(run);
  return 0;
}

/** A spinner on a terminal; plain lines without one (only the result, unless -v). */
function checkProgress(stepId: string, lang: string, verbose: boolean) {
  // ora redraws by the terminal's width: a terminal that reports none gets plain lines.
  const interactive = Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0 && !process.env.CI && process.env.TERM !== 'dumb';
  const title = `${ui('checking', lang)} ${stepId}`;
  const spinner = interactive ? ora({ text: `${title}…`, stream: process.stderr }).start() : undefined;
  if (!spinner) process.stderr.write(`• ${title} …\n`);
  let lastLine = '';
  return {
    onRound(round: PollRound, results: CheckResult[]) {
      const line = roundSummary(results, round.remainingMs, round.okSince !== undefined && round.allOk, lang);
      if (spinner) spinner.text = `${title}: ${line}`;
      else if (verbose && line !== lastLine) process.stderr.write(`    ${line}\n`);
      lastLine = line;
    },
    stop() {
      spinner?.stop();
    },
  };
}

async function checkAndReport(opened: Opened, options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const { run, target } = opened;
  const step = stepOf(run, stringOption(options, 'step'));
  const timeoutSeconds = parseSeconds(options.timeout, '--timeout');
  const progress = checkProgress(step.id, run.lang, global.verbose);
  let result;
  try {
    result = await withInterrupt((signal) =>
      checkStep(run, target, {
        stepId: step.id,
        timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
        clock: systemClock,
        signal,
        onRound: progress.onRound,
      }),
    );
  } finally {
    progress.stop();
  }
  if (result.outcome.aborted) return 130;
  process.stdout.write(outcomeBlock(run, step, result.outcome, useColor(process.stdout)));
  if (result.outcome.passed) await printWhatNext(run);
  return result.outcome.passed ? 0 : 1;
}

export async function labCheck(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  return checkAndReport(await open(options), options, global);
}

export async function labHint(_args: string[], options: Record<string, unknown>): Promise<number> {
  const run = await openRun(clusterOf(options), stringOption(options, 'lang') ? pickLanguage(stringOption(options, 'lang')) : undefined);
  const hint = await nextHint(run, stringOption(options, 'step'));
  if (!hint) {
    process.stdout.write(`${ui('noHints', run.lang)}\n`);
    return 0;
  }
  process.stdout.write(`💡 ${hint.step.id} (${hint.number}/${hint.total})\n${renderMarkdown(hint.text, stdoutRender())}`);
  return 0;
}

export async function labSolve(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const opened = await open(options);
  const stepId = stringOption(options, 'step');
  const step = stepOf(opened.run, stepId);
  process.stderr.write(`• Running the reference solution of ${step.id}\n`);
  const { result } = await withInterrupt((signal) => solveStep(opened.run, opened.target, { stepId: step.id, signal, echo: (chunk) => process.stderr.write(chunk) }));
  if (result.exitCode !== 0 || result.timedOut) {
    process.stderr.write(`! the solution ${result.timedOut ? 'timed out' : `exited ${result.exitCode}`}; checking anyway\n`);
  }
  return checkAndReport(opened, { ...options, step: step.id }, global);
}

export async function labSkip(_args: string[], options: Record<string, unknown>): Promise<number> {
  const run = await openRun(clusterOf(options), stringOption(options, 'lang') ? pickLanguage(stringOption(options, 'lang')) : undefined);
  const step = await skipStep(run, stringOption(options, 'step'));
  process.stdout.write(`- ${step.id}: skipped\n`);
  await printWhatNext(run);
  return 0;
}

export async function labReset(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const { rt, run, target } = await open(options);
  const reporter = createReporter({ verbose: global.verbose });
  await withInterrupt((signal) => resetLab(rt, run, target, reporter, signal));
  await printWhatNext(run);
  return 0;
}

export async function labStatus(_args: string[], options: Record<string, unknown>): Promise<number> {
  const format = parseOutputFormat(stringOption(options, 'output'));
  const cluster = clusterOf(options);
  const progress = await readProgress(cluster);
  if (!progress) {
    throw new UserError(`no lab is running on cluster "${cluster}"`, { hint: `start one: clusterlab lab start NAME${clusterFlag(cluster)}` });
  }
  if (format === 'json' || format === 'yaml') {
    printData(progress, format);
    return 0;
  }
  const passed = progress.steps.filter((s) => s.status === 'passed').length;
  process.stdout.write(`Lab: ${progress.lab} (${progress.title}), ${progress.engine}, cluster "${cluster}": ${passed}/${progress.steps.length} passed${progress.done ? ', done' : ''}\n\n`);
  const rows = progress.steps.map((s) => [
    `${s.id === progress.currentStep ? '▶ ' : '  '}${s.id}`,
    s.status,
    s.title,
    s.status === 'failed' ? (s.message ?? '').slice(0, 100) : '',
  ]);
  process.stdout.write(formatTable(['STEP', 'STATUS', 'TITLE', 'MESSAGE'], rows));
  return 0;
}
