import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLabDirs, loadLabDir } from '../../src/labs/load.js';
import { gradeReportJsonSchema } from '../../src/labs/report.js';
import { LAB_API_VERSION, labJsonSchema } from '../../src/labs/schema.js';
import { LabError, parseLab } from '../../src/labs/validate.js';

// schema/lab.schema.json and schema/grade-report.schema.json are generated from the zod
// schemas. To regenerate them:
//   UPDATE_SCHEMA=1 npx vitest run --project unit test/unit/labs-schema.test.ts
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'labs');
const REGENERATE = 'UPDATE_SCHEMA=1 npx vitest run --project unit test/unit/labs-schema.test.ts';

function inSync(file: string, generated: string): void {
  const path = join(ROOT, 'schema', file);
  if (process.env['UPDATE_SCHEMA'] === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, generated);
  }
  const onDisk = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (onDisk !== generated) throw new Error(`schema/${file} is ${onDisk ? 'out of date' : 'missing'}; regenerate it with:\n  ${REGENERATE}`);
}

function parseFixture(name: string) {
  const file = join(FIXTURES, name);
  return parseLab(readFileSync(file, 'utf8'), name, { dir: FIXTURES, file });
}

function problemsOf(name: string) {
  try {
    parseFixture(name);
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    return (err as LabError).problems;
  }
  throw new Error(`${name} was accepted`);
}

describe('generated JSON Schemas', () => {
  it('schema/lab.schema.json is in sync with the zod schema', () => {
    inSync('lab.schema.json', `${JSON.stringify(labJsonSchema(), null, 2)}\n`);
  });

  it('schema/grade-report.schema.json is in sync with the report schema', () => {
    inSync('grade-report.schema.json', `${JSON.stringify(gradeReportJsonSchema(), null, 2)}\n`);
  });

  it('describes a strict, versioned format with one property per check kind', () => {
    const schema = labJsonSchema() as { additionalProperties: boolean; required: string[]; properties: Record<string, Record<string, unknown>> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'title', 'description', 'engines', 'steps']));
    expect(schema.properties['apiVersion']?.['const']).toBe(LAB_API_VERSION);
    const step = (schema.properties['steps'] as { items: { properties: Record<string, { items?: { properties?: Record<string, unknown> } }> } }).items;
    const checkProps = Object.keys(step.properties['checks']?.items?.properties ?? {});
    expect(checkProps).toEqual(expect.arrayContaining(['replicas', 'spread', 'node', 'nodes', 'url', 'availability', 'script', 'transient', 'engines']));
  });
});

describe('lab files', () => {
  it('accepts a minimal lab and applies the defaults', () => {
    const lab = parseFixture('valid-minimal.yaml');
    expect(lab.cluster).toEqual({ nodes: 3, managers: 1 });
    expect(lab.steps[0]).toMatchObject({ id: 'look', timeoutSeconds: 60, points: 1, hints: [] });
    expect(lab.steps[0]?.checks[0]).toEqual({ nodes: { ready: 1 }, transient: false });
    expect(lab.confirmSeconds).toBe(3);
  });

  it('reports every problem at once, each with its field path and place in the file', () => {
    const problems = problemsOf('invalid-several-problems.yaml');
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath)).toEqual([
      'title',
      'engines[1]',
      'steps[0].id',
      'steps[0].checks[0].replicas.running',
      'steps[0].checks[1].replicaz',
      'steps[0].checks[2].spread.minNodes',
      'steps[0].timeoutSeconds',
    ]);
    expect(byPath['title']?.message).toContain('English');
    expect(byPath['engines[1]']).toMatchObject({ line: 5, hint: 'did you mean "kube"?' });
    expect(byPath['steps[0].checks[0].replicas.running']).toMatchObject({ line: 11, message: 'expected a number, got string "three"' });
    expect(byPath['steps[0].checks[1].replicaz']?.hint).toContain('did you mean "replicas"?');
    expect(byPath['steps[0].checks[2].spread.minNodes']?.message).toBe('missing required field "minNodes"');
    expect(byPath['steps[0].timeoutSeconds']).toMatchObject({ line: 14, message: 'must be more than 0, got number -5' });
  });

  it('formats problems as file:line:column: path: message', () => {
    try {
      parseFixture('invalid-several-problems.yaml');
    } catch (err) {
      const lines = (err as LabError).message.split('\n');
      expect(lines).toContain('invalid-several-problems.yaml:11:44: steps[0].checks[0].replicas.running: expected a number, got string "three"');
      return;
    }
    throw new Error('accepted');
  });

  it('reads apiVersion first', () => {
    const problems = problemsOf('invalid-api-version.yaml');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'apiVersion', line: 1 });
    expect(problems[0]?.message).toContain(LAB_API_VERSION);
  });

  it('refuses checks with no kind, two kinds, or incomplete parameters', () => {
    const problems = problemsOf('invalid-check-kinds.yaml');
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ['steps[0].checks[0]', 'a check has one kind, found nodes and replicas'],
      ['steps[0].checks[1]', 'a check needs one kind'],
      ['steps[0].checks[2].url', 'give url, or node and port'],
      ['steps[0].checks[3].node', 'say what to look at: ready, schedulable, role or present'],
    ]);
  });

  it('checks rules across fields: texts, solutions and checks for every engine, unique ids', () => {
    const problems = problemsOf('invalid-cross-field.yaml');
    expect(problems.map((p) => p.path)).toEqual(['description.kube', 'steps[0].solution.kube', 'steps[0].checks', 'steps[1].id']);
    expect(problems[2]?.message).toBe('no check applies to kube: the step would pass without doing anything');
    expect(problems[3]?.message).toBe('duplicate step id "one", also steps[0]');
  });

  it('a misspelt field is reported alone, not also as the rule its object then breaks', () => {
    const text = readFileSync(join(FIXTURES, 'valid-minimal.yaml'), 'utf8').replace('nodes: {ready: 1}', 'replicas: {workload: web, runing: 3}');
    try {
      parseLab(text, 'lab.yaml', { dir: FIXTURES, file: 'lab.yaml' });
    } catch (err) {
      expect((err as LabError).problems.map((p) => [p.path, p.message, p.hint?.split('?')[0]])).toEqual([
        ['steps[0].checks[0].replicas.runing', 'unknown field "runing"', 'did you mean "running"'],
      ]);
      return;
    }
    throw new Error('accepted');
  });

  it('reports YAML syntax errors with their position', () => {
    const problems = problemsOf('invalid-yaml.yaml');
    expect(problems[0]?.message).toMatch(/^invalid YAML: /);
    expect(problems[0]?.line).toBeGreaterThan(0);
  });

  it('requires a lab to carry its folder name', () => {
    const text = readFileSync(join(FIXTURES, 'valid-minimal.yaml'), 'utf8').replace('kind: Lab', 'kind: Lab\nname: other');
    expect(() => parseLab(text, 'lab.yaml', { dir: '/labs/minimal', file: '/labs/minimal/lab.yaml', folderName: 'minimal' })).toThrow(
      'name: is "other", but the lab\'s folder is "minimal"',
    );
  });

  it('every fixture named invalid-* is refused', () => {
    for (const file of readdirSync(FIXTURES).filter((f) => f.startsWith('invalid-'))) expect(() => parseFixture(file), file).toThrow(LabError);
  });
});

describe('bundled labs', () => {
  it('all validate, carry English, Italian and Spanish titles, and a solution for every step and engine', async () => {
    const dirs = await listLabDirs({});
    const names = dirs.map((d) => d.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['first-cluster', 'crash-recovery', 'scaling', 'node-failure']));
    for (const dir of dirs) {
      const lab = await loadLabDir(dir);
      expect(lab.engines[0], lab.name).toBe('swarm');
      for (const lang of ['en', 'it', 'es']) expect((lab.title as Record<string, string>)[lang], `${lab.name} title ${lang}`).toBeTruthy();
      for (const step of lab.steps) {
        for (const engine of lab.engines) {
          const solution = typeof step.solution === 'string' ? step.solution : step.solution?.[engine];
          expect(solution, `${lab.name}/${step.id} ${engine}`).toBeTruthy();
        }
      }
    }
  });
});
