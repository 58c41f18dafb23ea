import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { classroomResult, githubReport } from '../../src/labs/reporters/github.js';
import { formatReport, REPORT_FORMATS } from '../../src/labs/reporters/index.js';
import { escapeXml, junitReport } from '../../src/labs/reporters/junit.js';
import { tapReport } from '../../src/labs/reporters/tap.js';
import { textReport } from '../../src/labs/reporters/text.js';
import { gradeReportSchema, type GradeReport } from '../../src/labs/report.js';
import { childrenNamed, parseXml } from './labs-xml.js';

/** A report with a passed, a failed (with awkward characters) and a skipped step. */
const report: GradeReport = {
  version: 1,
  lab: 'node-failure',
  title: 'When a node fails <& "quotes">',
  engine: 'swarm',
  target: 'cluster "lab"',
  startedAt: '2026-11-23T10:00:00.000Z',
  durationMs: 12_345,
  score: 2,
  maxScore: 5,
  passed: false,
  steps: [
    {
      id: 'before',
      title: 'Where the replicas run',
      points: 2,
      score: 2,
      status: 'passed',
      durationMs: 3_000,
      checks: [{ kind: 'replicas', expected: 'service web: 4 replicas running', observed: '4 desired; 4 running (…)', status: 'passed' }],
    },
    {
      id: 'node-down',
      title: 'Power off worker2 # now',
      points: 3,
      score: 0,
      status: 'failed',
      durationMs: 9_000,
      checks: [
        { kind: 'node', expected: 'node worker2: not Ready (down)', observed: '', status: 'skipped', reason: 'transient: holds only while its step is current' },
        { kind: 'replicas', expected: 'service web: 4 replicas running', observed: '4 desired; 2 running (web.1 on leader, web.2 on worker1); 2 pending (web.3, web.4) & <more>', status: 'failed' },
      ],
    },
    {
      id: 'only-moment',
      title: 'A moment',
      points: 0,
      score: 0,
      status: 'skipped',
      durationMs: 0,
      checks: [{ kind: 'node', expected: 'node worker2: Ready', observed: '', status: 'skipped', reason: 'transient: holds only while its step is current' }],
    },
  ],
};

describe('json', () => {
  it('matches the report schema and round-trips', () => {
    const parsed = JSON.parse(formatReport(report, 'json')) as unknown;
    expect(gradeReportSchema.parse(parsed)).toEqual(report);
  });

  it('the schema refuses a report with a wrong status or a missing score', () => {
    const broken = JSON.parse(JSON.stringify(report)) as Record<string, unknown> & { steps: Record<string, unknown>[] };
    broken.steps[0]!['status'] = 'ok';
    expect(gradeReportSchema.safeParse(broken).success).toBe(false);
    const missing = { ...report } as Partial<GradeReport>;
    delete missing.score;
    expect(gradeReportSchema.safeParse(missing).success).toBe(false);
  });
});

describe('junit', () => {
  it('parses as XML: one suite, a test case per step, failures and skips counted', () => {
    const root = parseXml(junitReport(report));
    expect(root.name).toBe('testsuites');
    expect(root.attributes).toMatchObject({ tests: '3', failures: '1', skipped: '1', errors: '0', time: '12.345' });
    const [suite] = childrenNamed(root, 'testsuite');
    expect(suite?.attributes).toMatchObject({ name: 'node-failure', tests: '3', failures: '1', skipped: '1', timestamp: report.startedAt });
    const properties = Object.fromEntries(childrenNamed(childrenNamed(suite!, 'properties')[0]!, 'property').map((p) => [p.attributes['name'], p.attributes['value']]));
    expect(properties).toMatchObject({ title: report.title, target: 'cluster "lab"', score: '2', maxScore: '5' });
    const cases = childrenNamed(suite!, 'testcase');
    expect(cases.map((c) => c.attributes['name'])).toEqual(['before: Where the replicas run', 'node-down: Power off worker2 # now', 'only-moment: A moment']);
    expect(cases.map((c) => c.attributes['classname'])).toEqual(['node-failure.swarm', 'node-failure.swarm', 'node-failure.swarm']);
    expect(childrenNamed(cases[0]!, 'failure')).toHaveLength(0);
    const [failure] = childrenNamed(cases[1]!, 'failure');
    expect(failure?.attributes['message']).toBe('replicas: expected service web: 4 replicas running');
    expect(failure?.text).toContain('saw:      4 desired; 2 running (web.1 on leader, web.2 on worker1); 2 pending (web.3, web.4) & <more>');
    expect(childrenNamed(cases[2]!, 'skipped')).toHaveLength(1);
  });

  it('escapes markup and drops characters XML cannot carry', () => {
    expect(escapeXml(`a<b>&"c"'d'\u0007`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    const odd = { ...report, title: 'bell \u0007 and <tag>' };
    expect(() => parseXml(junitReport(odd))).not.toThrow();
  });
});

describe('tap', () => {
  const tap = tapReport(report);
  const lines = tap.trimEnd().split('\n');

  it('is TAP 14 with a plan that matches its test points', () => {
    expect(lines[0]).toBe('TAP version 14');
    const plan = /^1\.\.(\d+)$/.exec(lines[1] ?? '');
    expect(plan).not.toBeNull();
    const points = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
    expect(points).toHaveLength(Number(plan![1]));
    expect(points.map((l) => /^(?:not )?ok (\d+)/.exec(l)![1])).toEqual(['1', '2', '3']);
  });

  it('marks the failed step not ok with a YAML diagnostic, the skipped one with a SKIP directive', () => {
    expect(lines).toContain('ok 1 - before: Where the replicas run');
    expect(lines).toContain('not ok 2 - node-down: Power off worker2 \\# now');
    expect(lines.find((l) => l.startsWith('ok 3 - '))).toMatch(/ # SKIP transient/);
    const start = lines.indexOf('  ---');
    const end = lines.indexOf('  ...');
    expect(start).toBe(lines.indexOf('not ok 2 - node-down: Power off worker2 \\# now') + 1);
    const diagnostic = parseYaml(lines.slice(start + 1, end).map((l) => l.slice(2)).join('\n')) as { severity: string; points: string; checks: { kind: string; observed: string }[] };
    expect(diagnostic.severity).toBe('fail');
    expect(diagnostic.points).toBe('0/3');
    expect(diagnostic.checks).toEqual([{ kind: 'replicas', expected: 'service web: 4 replicas running', observed: report.steps[1]!.checks[1]!.observed }]);
  });
});

describe('github (Classroom autograding reporter)', () => {
  it('decodes from base64 to the runner result the reporter reads', () => {
    const encoded = githubReport(report).trim();
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as ReturnType<typeof classroomResult>;
    expect(decoded).toEqual(classroomResult(report));
    expect(decoded).toMatchObject({ version: 1, status: 'fail', max_score: 5 });
    expect(decoded.tests.map((t) => [t.name, t.status, t.score])).toEqual([
      ['before: Where the replicas run', 'pass', 2],
      ['node-down: Power off worker2 # now', 'fail', 0],
      ['only-moment: A moment', 'pass', 0],
    ]);
    expect(decoded.tests[1]?.message).toContain('replicas: expected service web: 4 replicas running; saw 4 desired; 2 running');
    // What the reporter sums: the scores of the tests against max_score.
    expect(decoded.tests.reduce((s, t) => s + t.score, 0)).toBe(report.score);
  });

  it('says pass when the lab passed', () => {
    expect(classroomResult({ ...report, passed: true }).status).toBe('pass');
  });
});

describe('text', () => {
  it('shows each step, what failed and the score', () => {
    const text = textReport(report);
    expect(text).toContain('✓ before: Where the replicas run (2/2 points, 3.0 s)');
    expect(text).toContain('✗ node-down: Power off worker2 # now (0/3 points, 9.0 s)');
    expect(text).toContain('    ✗ replicas: expected service web: 4 replicas running\n      saw 4 desired; 2 running');
    expect(text).toContain('- node: not graded (transient');
    expect(text.trimEnd().split('\n').at(-1)).toBe('Score: 2/5: FAILED (12.3 s)');
  });
});

it('every format renders', () => {
  for (const format of REPORT_FORMATS) expect(formatReport(report, format).length, format).toBeGreaterThan(0);
});

describe('the test XML parser', () => {
  it('refuses what is not well-formed', () => {
    for (const bad of ['<a><b></a>', '<a x=1/>', '<a x="1" x="2"/>', '<a>&nbsp;</a>', '<a>1 < 2</a>', '<a/><b/>', '<a>', 'text<a/>', '<a>\u0001</a>']) {
      expect(() => parseXml(bad), bad).toThrow();
    }
    expect(parseXml('<?xml version="1.0"?>\n<a k="&lt;v&gt;"><b>x &amp; y</b></a>')).toEqual({
      name: 'a',
      attributes: { k: '<v>' },
      text: '',
      children: [{ name: 'b', attributes: {}, children: [], text: 'x & y' }],
    });
  });
});
