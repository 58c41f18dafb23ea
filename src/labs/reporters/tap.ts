/**
 * The grade report as TAP version 14: a plan, one test point per step, a YAML diagnostic
 * block under failed steps with what each check expected and saw, SKIP for steps with
 * nothing to grade.
 */
import { stringify } from 'yaml';
import type { GradeReport } from '../report.js';

/** A TAP description must not contain '#' (it starts a directive) or a newline. */
function description(text: string): string {
  return text.replace(/#/g, '\\#').replace(/\s*\n\s*/g, ' ');
}

export function tapReport(report: GradeReport): string {
  const lines = ['TAP version 14', `1..${report.steps.length}`, `# ${description(`${report.lab}: ${report.title} on ${report.target} (${report.engine})`)}`];
  report.steps.forEach((step, i) => {
    const name = description(`${step.id}: ${step.title}`);
    const n = i + 1;
    if (step.status === 'skipped') {
      lines.push(`ok ${n} - ${name} # SKIP ${description(step.checks[0]?.reason ?? 'nothing to grade')}`);
      return;
    }
    lines.push(`${step.status === 'passed' ? 'ok' : 'not ok'} ${n} - ${name}`);
    if (step.status === 'failed') {
      const diagnostic = {
        message: 'checks failed',
        severity: 'fail',
        points: `${step.score}/${step.points}`,
        duration_ms: step.durationMs,
        checks: step.checks.filter((c) => c.status === 'failed').map((c) => ({ kind: c.kind, expected: c.expected, observed: c.observed })),
      };
      lines.push('  ---', ...stringify(diagnostic).trimEnd().split('\n').map((l) => `  ${l}`), '  ...');
    }
  });
  lines.push(`# score ${report.score}/${report.maxScore}`);
  return lines.join('\n') + '\n';
}
