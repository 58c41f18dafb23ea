/** The grade report for people: one line per step, what failed and why, the score. */
import type { GradeReport } from '../report.js';

const MARK = { passed: '✓', failed: '✗', skipped: '-' } as const;

export function textReport(report: GradeReport): string {
  const lines = [`Lab ${report.lab} (${report.title}) on ${report.target}, ${report.engine}`];
  for (const step of report.steps) {
    lines.push(`${MARK[step.status]} ${step.id}: ${step.title} (${step.score}/${step.points} point${step.points === 1 ? '' : 's'}, ${(step.durationMs / 1000).toFixed(1)} s)`);
    for (const check of step.checks) {
      if (check.status === 'failed') lines.push(`    ✗ ${check.kind}: expected ${check.expected}`, `      saw ${check.observed}`);
      else if (check.status === 'skipped') lines.push(`    - ${check.kind}: not graded (${check.reason ?? 'skipped'})`);
    }
  }
  lines.push(`Score: ${report.score}/${report.maxScore}: ${report.passed ? 'PASSED' : 'FAILED'} (${(report.durationMs / 1000).toFixed(1)} s)`);
  return lines.join('\n') + '\n';
}
