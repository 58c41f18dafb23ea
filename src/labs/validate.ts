/**
 * lab.yaml → a validated Lab, or a LabError listing every problem at once with its field
 * path and place in the file (`lab.yaml:14:11: steps[1].checks[0].replicas.running:
 * expected a whole number, got string "three"`). The same loading order as the cluster
 * config: YAML syntax, apiVersion, the schema, then rules across fields.
 */
import type * as z from 'zod';
import { describeValue, didYouMean, formatPath, formatProblem, locate, readYaml, TYPE_NAMES, type ConfigProblem } from '../cluster/config.js';
import { UserError } from '../common/errors.js';
import { LAB_ENGINES, type LabEngine } from './engines.js';
import { isPerEngine, type LabText } from './i18n.js';
import { LAB_API_VERSION, LAB_KIND, labSchema, type LabDoc, type LabScript } from './schema.js';

type Segment = string | number;

export const LAB_HINT = 'see the "Labs and grading" section of the README (JSON Schema: schema/lab.schema.json)';

/** A validated lab, with where it came from. */
export interface Lab extends LabDoc {
  name: string;
  /** The lab's folder (scripts run there). */
  dir: string;
  /** The lab.yaml file. */
  file: string;
}

export type LabProblem = ConfigProblem;

export class LabError extends UserError {
  readonly problems: LabProblem[];

  constructor(source: string, problems: LabProblem[]) {
    super(problems.map((p) => formatProblem(source, p)).join('\n'), { hint: LAB_HINT });
    this.problems = problems;
  }
}

type Issue = z.core.$ZodIssue;
type Located = LabProblem & { segments: Segment[]; atKey?: boolean };

/** How far into the input a branch of a union got before failing: the likeliest meant branch goes furthest. */
function reach(issues: readonly Issue[]): number {
  let best = -1;
  for (const issue of issues) {
    const depth = issue.path.length;
    let score: number;
    if (issue.code === 'invalid_union') score = depth + Math.max(...issue.errors.map(reach));
    else if (issue.code === 'invalid_type' || issue.code === 'invalid_value') score = depth;
    else if (issue.code === 'invalid_key') score = depth - 0.5; // the keys do not fit: likely the wrong branch
    else score = depth + 0.75; // the shape fits, a rule failed
    best = Math.max(best, score);
  }
  return best;
}

function unionProblems(issue: Extract<Issue, { code: 'invalid_union' }>, segments: Segment[]): Located[] {
  const path = formatPath(segments);
  const input = (issue as { input?: unknown }).input;
  const rootTypeOnly = issue.errors.every((branch) => branch.length === 1 && branch[0]!.path.length === 0 && branch[0]!.code === 'invalid_type');
  if (rootTypeOnly) {
    const expected = [...new Set(issue.errors.map((b) => TYPE_NAMES[(b[0] as { expected: string }).expected] ?? 'something else'))];
    return [{ path, segments, message: `expected ${expected.join(' or ')}, got ${describeValue(input)}` }];
  }
  let chosen = issue.errors[0] ?? [];
  let chosenReach = reach(chosen);
  for (const branch of issue.errors.slice(1)) {
    const r = reach(branch);
    if (r > chosenReach || (r === chosenReach && branch.length < chosen.length)) {
      chosen = branch;
      chosenReach = r;
    }
  }
  return chosen.flatMap((inner) => problemsFromIssue(inner, segments));
}

function sizeMessage(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, input: unknown): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === 'array') {
    return small ? `needs at least ${bound} item${bound === 1 ? '' : 's'}` : `has more than ${bound} items`;
  }
  if (issue.origin === 'string') return small ? (bound === 1 ? 'must not be empty' : `must have at least ${bound} characters`) : `must have at most ${bound} characters`;
  const inclusive = (issue as { inclusive?: boolean }).inclusive !== false;
  const relation = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  return `must be ${relation} ${bound}, got ${describeValue(input)}`;
}

function problemsFromIssue(issue: Issue, basePath: readonly Segment[] = []): Located[] {
  const segments = [...basePath, ...(issue.path as Segment[])];
  const path = formatPath(segments);
  const input = (issue as { input?: unknown }).input;
  const missing = input === undefined && ['invalid_type', 'invalid_value', 'invalid_union'].includes(issue.code);
  if (missing) {
    const field = segments[segments.length - 1];
    return [{ path, segments, atKey: true, message: `missing required field ${JSON.stringify(field)}` }];
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = fieldsAt(segments);
      return issue.keys.map((key) => {
        const suggestion = didYouMean(key, allowed);
        return {
          path: formatPath([...segments, key]),
          segments: [...segments, key],
          atKey: true,
          message: `unknown field ${JSON.stringify(key)}`,
          hint: `${suggestion ? `did you mean ${JSON.stringify(suggestion)}? ` : ''}${allowed.length ? `allowed fields here: ${allowed.join(', ')}` : ''}`.trim(),
        };
      });
    }
    case 'invalid_type':
      return [{ path, segments, message: `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(input)}` }];
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const suggestion = typeof input === 'string' ? didYouMean(input, issue.values.map(String)) : undefined;
      const message = values.length === 1 ? `must be ${values[0]}, got ${describeValue(input)}` : `must be one of ${values.join(', ')}, got ${describeValue(input)}`;
      return [{ path, segments, message, ...(suggestion ? { hint: `did you mean ${JSON.stringify(suggestion)}?` } : {}) }];
    }
    case 'invalid_union':
      return unionProblems(issue, segments);
    case 'invalid_key':
    case 'invalid_element':
      return issue.issues.flatMap((inner) => problemsFromIssue(inner, segments)).map((p) => ({ ...p, atKey: issue.code === 'invalid_key' }));
    case 'too_small':
    case 'too_big':
      return [{ path, segments, message: sizeMessage(issue, input) }];
    case 'invalid_format':
      return [{ path, segments, message: `must be ${issue.format === 'url' ? 'a URL, like http://127.0.0.1:8080/' : `in ${issue.format} format`}, got ${describeValue(input)}` }];
    case 'not_multiple_of':
      return [{ path, segments, message: issue.message }];
    case 'custom': {
      const hint = (issue.params as { hint?: string } | undefined)?.hint;
      return [{ path, segments, message: issue.message, ...(hint ? { hint } : {}) }];
    }
    default:
      return [{ path, segments, message: (issue as { message: string }).message }];
  }
}

/** Field names allowed at a path of the lab format (for "did you mean" on unknown fields). */
function fieldsAt(segments: readonly Segment[]): string[] {
  let current: z.ZodType | undefined = labSchema;
  const objectOf = (s: z.ZodType | undefined): z.ZodType | undefined => {
    let t = s;
    for (let guard = 0; t && guard < 20; guard++) {
      const def = (t as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[] } }).def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'prefault' || def.type === 'nullable') t = def.innerType;
      else if (def.type === 'pipe') t = def.in;
      else if (def.type === 'union') t = def.options?.map((o) => objectOf(o)).find((o) => o && (o as unknown as { def: { type: string } }).def.type === 'object');
      else return t;
    }
    return t;
  };
  for (const seg of segments) {
    const s = objectOf(current);
    if (!s) return [];
    const def = (s as unknown as { def: { type: string; element?: z.ZodType; shape?: Record<string, z.ZodType> } }).def;
    if (typeof seg === 'number' && def.type === 'array') current = def.element;
    else if (typeof seg === 'string' && def.type === 'object') current = def.shape?.[seg];
    else return [];
  }
  const s = objectOf(current);
  const def = (s as unknown as { def?: { type: string; shape?: Record<string, z.ZodType> } } | undefined)?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

// ---------------------------------------------------------------------------
// Rules across fields, on the parsed lab

function scriptEngines(script: LabScript | undefined): LabEngine[] {
  if (script === undefined || typeof script === 'string') return [];
  return LAB_ENGINES.filter((e) => script[e] !== undefined);
}

function crossFieldProblems(lab: LabDoc, folderName: string | undefined): Located[] {
  const problems: Located[] = [];
  const engines = new Set<LabEngine>(lab.engines);
  const at = (segments: Segment[], message: string, hint?: string): void => {
    problems.push({ path: formatPath(segments), segments, message, ...(hint ? { hint } : {}) });
  };

  if (folderName !== undefined && lab.name !== undefined && lab.name !== folderName) {
    at(['name'], `is ${JSON.stringify(lab.name)}, but the lab's folder is ${JSON.stringify(folderName)}`, 'name the folder after the lab, or leave name out');
  }
  lab.engines.forEach((engine, i) => {
    if (lab.engines.indexOf(engine) !== i) at(['engines', i], `${engine} is listed twice`);
  });
  if (lab.cluster.kube && !engines.has('kube')) at(['cluster', 'kube'], 'applies to the kube engine only, and the lab does not list kube in engines');
  if (lab.cluster.managers > lab.cluster.nodes) at(['cluster', 'managers'], `is ${lab.cluster.managers}, more than the ${lab.cluster.nodes} nodes`);

  const textCovers = (text: LabText, segments: Segment[]) => {
    if (!isPerEngine(text)) return;
    for (const engine of engines) if (text[engine] === undefined) at([...segments, engine], `missing the ${engine} text: the lab runs on ${engine}`);
    for (const key of Object.keys(text) as LabEngine[]) {
      if (!engines.has(key)) at([...segments, key], `text for ${key}, which is not in the lab's engines (${lab.engines.join(', ')})`);
    }
  };
  const scriptFits = (script: LabScript | undefined, segments: Segment[]) => {
    for (const engine of scriptEngines(script)) {
      if (!engines.has(engine)) at([...segments, engine], `script for ${engine}, which is not in the lab's engines (${lab.engines.join(', ')})`);
    }
  };
  textCovers(lab.description, ['description']);
  scriptFits(lab.setup, ['setup']);
  scriptFits(lab.cleanup, ['cleanup']);

  const ids = new Map<string, number>();
  lab.steps.forEach((step, i) => {
    const first = ids.get(step.id);
    if (first !== undefined) at(['steps', i, 'id'], `duplicate step id ${JSON.stringify(step.id)}, also steps[${first}]`, 'step ids are unique in a lab');
    else ids.set(step.id, i);
    textCovers(step.text, ['steps', i, 'text']);
    step.hints.forEach((hint, h) => {
      if (isPerEngine(hint)) {
        for (const key of Object.keys(hint) as LabEngine[]) if (!engines.has(key)) at(['steps', i, 'hints', h, key], `hint for ${key}, which is not in the lab's engines`);
      }
    });
    scriptFits(step.solution, ['steps', i, 'solution']);
    if (step.solution !== undefined && typeof step.solution !== 'string') {
      for (const engine of engines) {
        if (step.solution[engine] === undefined) at(['steps', i, 'solution', engine], `missing the ${engine} solution: the lab runs on ${engine}`, 'every step of a lab has a reference solution per engine, or none at all');
      }
    }
    step.checks.forEach((check, c) => {
      for (const engine of check.engines ?? []) {
        if (!engines.has(engine)) at(['steps', i, 'checks', c, 'engines'], `lists ${engine}, which is not in the lab's engines (${lab.engines.join(', ')})`);
      }
    });
    for (const engine of engines) {
      const applies = step.checks.filter((c) => !c.engines || c.engines.includes(engine));
      if (applies.length === 0) at(['steps', i, 'checks'], `no check applies to ${engine}: the step would pass without doing anything`);
      else if (applies.every((c) => c.transient) && step.points > 0) {
        // Fine for the runner; the grader then scores the step by nothing: say so.
        at(['steps', i, 'checks'], `every check for ${engine} is transient, so the grader cannot score this step`, 'give the step points: 0, or add a check that still holds after the step');
      }
    }
  });
  return problems;
}

// ---------------------------------------------------------------------------

/**
 * A misspelt field also makes its object's own rule complain ("a check needs one kind", "say
 * how many"); the unknown field, with its "did you mean", says it better alone.
 */
function dropEchoes(problems: Located[]): Located[] {
  const unknownParents = new Set(problems.filter((p) => p.message.startsWith('unknown field')).map((p) => formatPath(p.segments.slice(0, -1))));
  return problems.filter((p) => p.message.startsWith('unknown field') || !unknownParents.has(p.path));
}

/**
 * Parses and validates a lab file's text. `folderName` is the lab's folder (its name must
 * match); `dir` and `file` are kept on the result.
 */
export function parseLab(text: string, source: string, where: { dir: string; file: string; folderName?: string }): Lab {
  const read = readYaml(text);
  if ('problems' in read) throw new LabError(source, read.problems);
  const { doc, lines, raw } = read;
  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LabError(source, [
      {
        path: '',
        message: raw == null ? 'the file is empty' : `expected a mapping with apiVersion and kind at the top, got ${describeValue(raw)}`,
        hint: `a lab starts with "apiVersion: ${LAB_API_VERSION}" and "kind: ${LAB_KIND}"`,
      },
    ]);
  }
  const place = ({ segments, atKey, ...problem }: Located): LabProblem => {
    const out: LabProblem = { path: problem.path, message: problem.message };
    if (problem.hint) out.hint = problem.hint;
    const pos = locate(doc, lines, segments, atKey ?? false);
    if (pos) Object.assign(out, pos);
    return out;
  };
  const fields = raw as Record<string, unknown>;
  if (fields['apiVersion'] !== LAB_API_VERSION) {
    const given = fields['apiVersion'];
    throw new LabError(source, [
      place({
        path: 'apiVersion',
        segments: ['apiVersion'],
        atKey: given === undefined,
        message: given === undefined ? 'missing required field "apiVersion"' : `unsupported apiVersion ${JSON.stringify(given)}: the supported version is "${LAB_API_VERSION}"`,
        hint: `start the file with "apiVersion: ${LAB_API_VERSION}" and "kind: ${LAB_KIND}"`,
      }),
    ]);
  }
  const result = labSchema.safeParse(raw, { reportInput: true });
  const located = result.success
    ? crossFieldProblems(result.data, where.folderName)
    : dropEchoes(result.error.issues.flatMap((issue) => problemsFromIssue(issue)));
  if (!result.success || located.length > 0) {
    const placed = located.map(place);
    placed.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    throw new LabError(source, placed);
  }
  const lab = result.data;
  return { ...lab, name: lab.name ?? where.folderName ?? 'lab', dir: where.dir, file: where.file };
}
