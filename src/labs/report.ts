/**
 * The grader's report: one zod schema that types it, validates `--format json` output in the
 * tests, and generates schema/grade-report.schema.json for the scripts that read it.
 */
import * as z from 'zod';
import { CHECK_KIND_NAMES } from './checks/index.js';
import { LAB_ENGINES } from './engines.js';

const statusSchema = z.enum(['passed', 'failed', 'skipped']);

export const gradeCheckSchema = z.strictObject({
  kind: z.enum(CHECK_KIND_NAMES as [string, ...string[]]),
  expected: z.string(),
  observed: z.string(),
  status: statusSchema,
  /** Why a check was skipped (transient checks describe a passing moment, not the end state). */
  reason: z.string().optional(),
});

export const gradeStepSchema = z.strictObject({
  id: z.string(),
  title: z.string(),
  points: z.number().min(0),
  score: z.number().min(0),
  status: statusSchema,
  durationMs: z.number().min(0),
  checks: z.array(gradeCheckSchema),
});

export const gradeReportSchema = z.strictObject({
  version: z.literal(1),
  lab: z.string(),
  title: z.string(),
  engine: z.enum(LAB_ENGINES),
  target: z.string(),
  startedAt: z.iso.datetime(),
  durationMs: z.number().min(0),
  score: z.number().min(0),
  maxScore: z.number().min(0),
  passed: z.boolean(),
  steps: z.array(gradeStepSchema),
});

export type GradeReport = z.output<typeof gradeReportSchema>;
export type GradeStep = z.output<typeof gradeStepSchema>;
export type GradeCheck = z.output<typeof gradeCheckSchema>;

export function gradeReportJsonSchema(): object {
  const { $schema, ...rest } = z.toJSONSchema(gradeReportSchema, { target: 'draft-2020-12' });
  return {
    $schema,
    $id: 'https://clusterlab.dev/schema/grade-report.schema.json',
    title: 'clusterlab grade report (--format json)',
    description:
      'Generated from src/labs/report.ts; regenerate with UPDATE_SCHEMA=1 npx vitest run --project unit test/unit/labs-schema.test.ts',
    ...rest,
  };
}
