/** The grade report as JSON (schema/grade-report.schema.json). */
import type { GradeReport } from '../report.js';

export function jsonReport(report: GradeReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
