/** How the runner shows a lab, a step and a check's outcome in a terminal (plain or coloured). */
import type { CheckResult, StepOutcome } from './evaluate.js';
import { textFor } from './i18n.js';
import { renderMarkdown, type RenderOptions } from './markdown.js';
import { stepNumber, stepText, type LabRun } from './runner.js';
import type { LabStepDoc } from './schema.js';
import { ui } from './ui-text.js';

const green = (t: string, color: boolean) => (color ? `\u001b[32m${t}\u001b[39m` : t);
const red = (t: string, color: boolean) => (color ? `\u001b[31m${t}\u001b[39m` : t);
const bold = (t: string, color: boolean) => (color ? `\u001b[1m${t}\u001b[22m` : t);

export function labIntro(run: LabRun, render: RenderOptions): string {
  const title = run.progress.title;
  const heading = bold(`${title} (${run.lab.name}, ${run.engine}, cluster "${run.cluster}")`, render.color);
  return `${heading}\n\n${renderMarkdown(textFor(run.lab.description, run.engine, run.lang), render)}`;
}

export function stepBlock(run: LabRun, step: LabStepDoc, render: RenderOptions): string {
  const title = run.progress.steps.find((s) => s.id === step.id)?.title ?? step.id;
  const heading = bold(`${ui('step', run.lang)} ${stepNumber(run, step)}: ${title}`, render.color);
  return `\n${heading}\n\n${renderMarkdown(stepText(run, step), render)}`;
}

export function checkLine(result: CheckResult, lang: string, color: boolean): string {
  if (result.ok) return `  ${green('✓', color)} ${result.expected}`;
  return `  ${red('✗', color)} ${ui('expected', lang)}: ${result.expected}\n    ${ui('saw', lang)}: ${result.observed}`;
}

export function outcomeBlock(run: LabRun, step: LabStepDoc, outcome: StepOutcome, color: boolean): string {
  const verdict = outcome.passed ? green(`✓ ${step.id}: ${ui('passed', run.lang)}`, color) : red(`✗ ${step.id}: ${ui('notYet', run.lang)}`, color);
  return [`${verdict} (${(outcome.elapsedMs / 1000).toFixed(1)} s)`, ...outcome.results.map((r) => checkLine(r, run.lang, color))].join('\n') + '\n';
}

/** "2 of 3 checks pass, 45 s left" for a spinner. */
export function roundSummary(results: CheckResult[], remainingMs: number, confirming: boolean, lang: string): string {
  const passing = results.filter((r) => r.ok).length;
  const seconds = Math.ceil(remainingMs / 1000);
  if (confirming) return `${ui('holding', lang)} (${seconds} s)`;
  const waiting = results.find((r) => !r.ok);
  return `${passing}/${results.length} ✓, ${seconds} s ${ui('left', lang)}${waiting ? `: ${waiting.observed.slice(0, 70)}` : ''}`;
}
