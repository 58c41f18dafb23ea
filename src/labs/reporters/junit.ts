/**
 * The grade report as JUnit XML, the format CI systems show as test results: one test
 * suite (the lab), one test case per step, a <failure> with each failed check's expected
 * and observed state, <skipped/> for steps with nothing to grade.
 */
import type { GradeReport, GradeStep } from '../report.js';

export function escapeXml(text: string): string {
  // Characters XML 1.0 forbids (control characters other than tab, newline, return) are dropped.
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testCase(report: GradeReport, step: GradeStep): string {
  const open = `    <testcase classname="${escapeXml(`${report.lab}.${report.engine}`)}" name="${escapeXml(`${step.id}: ${step.title}`)}" time="${seconds(step.durationMs)}">`;
  const body: string[] = [];
  if (step.status === 'failed') {
    const failed = step.checks.filter((c) => c.status === 'failed');
    const message = failed.map((c) => `${c.kind}: expected ${c.expected}`).join('; ');
    const details = failed.map((c) => `${c.kind}\n  expected: ${c.expected}\n  saw:      ${c.observed}`).join('\n');
    body.push(`      <failure message="${escapeXml(message)}" type="CheckFailed">${escapeXml(details)}</failure>`);
  } else if (step.status === 'skipped') {
    body.push(`      <skipped message="${escapeXml(step.checks[0]?.reason ?? 'nothing to grade')}"/>`);
  }
  const notes = step.checks.map((c) => `${c.status} ${c.kind}: ${c.status === 'skipped' ? (c.reason ?? '') : c.observed}`).join('\n');
  body.push(`      <system-out>${escapeXml(`points: ${step.score}/${step.points}\n${notes}`)}</system-out>`);
  return [open, ...body, '    </testcase>'].join('\n');
}

export function junitReport(report: GradeReport): string {
  const failures = report.steps.filter((s) => s.status === 'failed').length;
  const skipped = report.steps.filter((s) => s.status === 'skipped').length;
  const time = seconds(report.durationMs);
  const attrs = `tests="${report.steps.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="clusterlab grade" ${attrs}>`,
    `  <testsuite name="${escapeXml(report.lab)}" ${attrs} timestamp="${escapeXml(report.startedAt)}">`,
    '    <properties>',
    `      <property name="title" value="${escapeXml(report.title)}"/>`,
    `      <property name="engine" value="${report.engine}"/>`,
    `      <property name="target" value="${escapeXml(report.target)}"/>`,
    `      <property name="score" value="${report.score}"/>`,
    `      <property name="maxScore" value="${report.maxScore}"/>`,
    '    </properties>',
    ...report.steps.map((s) => testCase(report, s)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
