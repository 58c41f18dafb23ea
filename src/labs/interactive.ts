/**
 * The guided mode: the step's text, then a menu (check, hint, show or run the solution,
 * skip, reset, quit) until the lab is done or the learner quits. A check shows a spinner
 * while it polls; Ctrl-C stops a check and comes back to the menu, or at the menu quits.
 * Only used on a terminal: without one, the CLI's single commands do the same.
 */
import { confirm, select } from '@inquirer/prompts';
import ora from 'ora';
import type { Reporter } from '../cluster/reporter.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { renderMarkdown, renderWidth, useColor } from './markdown.js';
import type { Clock } from './poller.js';
import { labIntro, outcomeBlock, roundSummary, stepBlock } from './present.js';
import { checkStep, nextHint, resetLab, skipStep, solutionOf, solveStep, stepOf, type LabRun } from './runner.js';
import type { LabTarget } from './target.js';
import { ui } from './ui-text.js';

export interface GuideOptions {
  rt: ClusterRuntime;
  reporter: Reporter;
  clock: Clock;
  /** How to name the cluster in "continue with …" (`--cluster X` when not the default). */
  clusterFlag: string;
  output?: NodeJS.WriteStream;
  /** Text to add once the lab is done (the side-by-side report of a measuring lab). */
  onDone?: () => Promise<string>;
}

type Choice = 'check' | 'hint' | 'show' | 'solve' | 'skip' | 'reset' | 'quit';

function isPromptExit(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError');
}

/** Runs `fn` with a signal that Ctrl-C aborts (instead of ending the process). */
async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Returns 'done' when every step passed or none is left, 'quit' when the learner left. */
export async function guide(run: LabRun, target: LabTarget, options: GuideOptions): Promise<'done' | 'quit'> {
  const out = options.output ?? process.stdout;
  const render = { width: renderWidth(out), color: useColor(out) };
  const write = (text: string) => out.write(text.endsWith('\n') ? text : `${text}\n`);
  const lang = run.lang;
  write(labIntro(run, render));
  let shownStep: string | undefined;

  for (;;) {
    if (run.progress.currentStep === undefined) {
      write(`\n${run.progress.done ? ui('labDone', lang) : ui('stepsLeftSkipped', lang)}`);
      const note = run.progress.done ? await options.onDone?.() : undefined;
      if (note) write(note);
      return 'done';
    }
    const step = stepOf(run);
    if (shownStep !== step.id) {
      write(stepBlock(run, step, render));
      shownStep = step.id;
    }
    let choice: Choice;
    try {
      choice = await select<Choice>({
        message: ui('whatNext', lang),
        choices: [
          { name: ui('check', lang), value: 'check' },
          { name: ui('hint', lang), value: 'hint' },
          { name: ui('showSolution', lang), value: 'show' },
          { name: ui('runSolution', lang), value: 'solve' },
          { name: ui('skip', lang), value: 'skip' },
          { name: ui('reset', lang), value: 'reset' },
          { name: ui('quit', lang), value: 'quit' },
        ],
        theme: { indexMode: 'number' },
      });
    } catch (err) {
      if (isPromptExit(err)) choice = 'quit';
      else throw err;
    }

    switch (choice) {
      case 'check':
        await runCheck(run, target, options, render.color, write);
        break;
      case 'hint': {
        const hint = await nextHint(run);
        write(hint ? `\n💡 (${hint.number}/${hint.total})\n${renderMarkdown(hint.text, render)}` : ui('noHints', lang));
        break;
      }
      case 'show': {
        const solution = solutionOf(run, step);
        write(solution ? `\n${renderMarkdown('```\n' + solution.trimEnd() + '\n```', render)}` : ui('noSolution', lang));
        break;
      }
      case 'solve': {
        if (!solutionOf(run, step)) {
          write(ui('noSolution', lang));
          break;
        }
        const { result } = await interruptible((signal) => solveStep(run, target, { signal, echo: (chunk) => out.write(chunk) }));
        if (result.exitCode !== 0) write(`! exit ${result.exitCode}`);
        await runCheck(run, target, options, render.color, write);
        break;
      }
      case 'skip':
        await skipStep(run);
        break;
      case 'reset': {
        const sure = await confirm({ message: ui('confirmReset', lang), default: false }).catch((err: unknown) => {
          if (isPromptExit(err)) return false;
          throw err;
        });
        if (sure) {
          await interruptible((signal) => resetLab(options.rt, run, target, options.reporter, signal));
          shownStep = undefined;
        }
        break;
      }
      case 'quit':
        write(`${ui('resumeWith', lang)}: clusterlab lab resume${options.clusterFlag}`);
        return 'quit';
    }
  }
}

async function runCheck(run: LabRun, target: LabTarget, options: GuideOptions, color: boolean, write: (text: string) => void): Promise<void> {
  const step = stepOf(run);
  // ora needs the terminal's width to redraw; a terminal that reports none gets plain lines.
  const spinner = ora({ text: `${ui('checking', run.lang)} ${step.id}…`, stream: process.stderr, discardStdin: false, isEnabled: (process.stderr.columns ?? 0) > 0 }).start();
  try {
    const { outcome } = await interruptible((signal) =>
      checkStep(run, target, {
        clock: options.clock,
        signal,
        onRound: (round, results) => {
          spinner.text = `${ui('checking', run.lang)} ${step.id}: ${roundSummary(results, round.remainingMs, round.okSince !== undefined && round.allOk, run.lang)}`;
        },
      }),
    );
    spinner.stop();
    write(outcomeBlock(run, step, outcome, color));
  } catch (err) {
    spinner.stop();
    throw err;
  }
}
