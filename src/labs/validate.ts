/**
 * lab.yaml → a validated Lab, or a LabError listing every problem at once with its field
 * path and place in the file (`lab.yaml:14:11: steps[1].checks[0].replicas.running:
 * expected a whole number, got string "three"`). The same loading order as the cluster
 * config: YAML syntax, apiVersion, the schema, then rules across fields.
 */
import { formatProblem, locate, readYaml, type ConfigProblem } from '../cluster/config.js';
import { UserError } from '../common/errors.js';
import { describeValue, formatPath, problemsFromIssue, type LocatedProblem, type Segment } from '../common/schema-problems.js';
import { LAB_ENGINES, type LabEngine } from './engines.js';
import { isPerEngine, type LabText } from './i18n.js';
import { LAB_API_VERSION, LAB_KIND, labSchema, type LabDoc, type LabScript } from './schema.js';

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

// ---------------------------------------------------------------------------
// Rules across fields, on the parsed lab

function scriptEngines(script: LabScript | undefined): LabEngine[] {
  if (script === undefined || typeof script === 'string') return [];
  return LAB_ENGINES.filter((e) => script[e] !== undefined);
}

function crossFieldProblems(lab: LabDoc, folderName: string | undefined): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
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
function dropEchoes(problems: LocatedProblem[]): LocatedProblem[] {
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
  const place = ({ segments, atKey, ...problem }: LocatedProblem): LabProblem => {
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
    : dropEchoes(result.error.issues.flatMap((issue) => problemsFromIssue(issue, { schema: labSchema })));
  if (!result.success || located.length > 0) {
    const placed = located.map(place);
    placed.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    throw new LabError(source, placed);
  }
  const lab = result.data;
  return { ...lab, name: lab.name ?? where.folderName ?? 'lab', dir: where.dir, file: where.file };
}
