/**
 * The grade report for GitHub Classroom's autograding reporter
 * (education/autograding-grading-reporter): it reads `<RUNNER>_RESULTS`, a base64-encoded
 * JSON object {version, status, max_score, tests: [{name, status, score, message, …}]}, as
 * its own runners (autograding-command-grader…) set it through the step output `result`.
 * One test per step, scored with the step's points.
 */
import type { GradeReport } from '../report.js';

export interface ClassroomResult {
  version: 1;
  status: 'pass' | 'fail' | 'error';
  max_score: number;
  tests: {
    name: string;
    status: 'pass' | 'fail' | 'error';
    score: number;
    message: string;
    test_code: string;
    filename: string;
    line_no: number;
    execution_time: string;
  }[];
}

export function classroomResult(report: GradeReport): ClassroomResult {
  return {
    version: 1,
    status: report.passed ? 'pass' : 'fail',
    max_score: report.maxScore,
    tests: report.steps.map((step) => ({
      name: `${step.id}: ${step.title}`,
      status: step.status === 'failed' ? 'fail' : 'pass',
      score: step.score,
      message:
        step.status === 'failed'
          ? step.checks.filter((c) => c.status === 'failed').map((c) => `${c.kind}: expected ${c.expected}; saw ${c.observed}`).join('\n')
          : step.status === 'skipped'
            ? 'not graded'
            : '',
      test_code: `clusterlab grade ${report.lab} (step ${step.id})`,
      filename: '',
      line_no: 0,
      execution_time: `${(step.durationMs / 1000).toFixed(1)}s`,
    })),
  };
}

/** The base64 text to put in the step output `result` (and so in `<RUNNER>_RESULTS`). */
export function githubReport(report: GradeReport): string {
  return Buffer.from(JSON.stringify(classroomResult(report)), 'utf8').toString('base64') + '\n';
}
