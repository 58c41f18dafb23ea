/** The grader's output formats. */
import type { GradeReport } from '../report.js';
import { githubReport } from './github.js';
import { jsonReport } from './json.js';
import { junitReport } from './junit.js';
import { tapReport } from './tap.js';
import { textReport } from './text.js';

export const REPORT_FORMATS = ['text', 'json', 'junit', 'tap', 'github'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function formatReport(report: GradeReport, format: ReportFormat): string {
  switch (format) {
    case 'text':
      return textReport(report);
    case 'json':
      return jsonReport(report);
    case 'junit':
      return junitReport(report);
    case 'tap':
      return tapReport(report);
    case 'github':
      return githubReport(report);
  }
}
