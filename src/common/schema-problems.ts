/**
 * zod's issues in the words of someone editing YAML: "nodes[1].cpu: unknown field "cpu"
 * — did you mean "cpus"?", "expected a whole number, got string "three"", "missing required
 * field "role"". Shared by the cluster config and the lab format, which differ only in the
 * IssueRules they pass.
 */
import type * as z from 'zod';

export type Segment = string | number;

/** How a YAML value is named in messages: 'a list', 'string "x"', 'number 3'. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** `nodes[1].ports[0].hostPort`, `nodes[0].labels["example.com/zone"]` */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(seg))) out += out ? `.${String(seg)}` : String(seg);
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** zod's type names as a YAML author thinks of them. */
const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The closest candidate, if it is close enough to be a likely typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  if (!best) return undefined;
  if (best.distance <= Math.max(1, Math.min(2, Math.floor(best.candidate.length / 3)))) return best.candidate;
  // "mem" → "memory", "kubernetes" → "kube": one field starts with the other.
  const related = candidates.filter((c) => {
    const other = c.toLowerCase();
    return Math.min(other.length, lower.length) >= 3 && (other.startsWith(lower) || lower.startsWith(other));
  });
  return related.length === 1 ? related[0] : undefined;
}

type Issue = z.core.$ZodIssue;

/** A problem with the field path it is at, before the path is placed in the file. */
export interface LocatedProblem {
  path: string;
  segments: Segment[];
  /** Point at the key rather than the value (unknown or missing fields). */
  atKey?: boolean;
  message: string;
  hint?: string;
}


/** What a format adds to the translation of its schema's issues. */
export interface IssueRules {
  /** The whole schema: unknown-field hints list the fields allowed where the key was. */
  schema: z.ZodType;
  /** A hint for a field, when the problem has none of its own. */
  hintAt?: (segments: readonly Segment[]) => string | undefined;
  /**
   * The schema words its own messages for unions and bounds (`{error}` on z.union, min,
   * max): keep them instead of working out which branch or bound was meant.
   */
  ownMessages?: boolean;
}

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

function unionProblems(issue: Extract<Issue, { code: 'invalid_union' }>, segments: Segment[], rules: IssueRules): LocatedProblem[] {
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
  return chosen.flatMap((inner) => problemsFromIssue(inner, rules, segments));
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

/** One zod issue as problems a YAML author can act on, each at its field path. */
export function problemsFromIssue(issue: Issue, rules: IssueRules, basePath: readonly Segment[] = []): LocatedProblem[] {
  const segments = [...basePath, ...(issue.path as Segment[])];
  const path = formatPath(segments);
  const input = (issue as { input?: unknown }).input;
  const fieldHint = rules.hintAt?.(segments);
  const withHint = (hint: string | undefined) => (hint ? { hint } : {});
  // YAML has no undefined: a schema that saw undefined saw a missing field.
  const missing = input === undefined && ['invalid_type', 'invalid_value', 'invalid_union'].includes(issue.code);
  if (missing) {
    const field = segments[segments.length - 1];
    return [{ path, segments, atKey: true, message: `missing required field ${JSON.stringify(field)}`, ...withHint(fieldHint) }];
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = fieldsAt(rules.schema, segments);
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
      return [{ path, segments, message: `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(input)}`, ...withHint(fieldHint) }];
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const suggestion = typeof input === 'string' ? didYouMean(input, issue.values.map(String)) : undefined;
      const message = values.length === 1 ? `must be ${values[0]}, got ${describeValue(input)}` : `must be one of ${values.join(', ')}, got ${describeValue(input)}`;
      return [{ path, segments, message, ...withHint(suggestion ? `did you mean ${JSON.stringify(suggestion)}?` : fieldHint) }];
    }
    case 'invalid_union':
      return rules.ownMessages ? [{ path, segments, message: issue.message, ...withHint(fieldHint) }] : unionProblems(issue, segments, rules);
    case 'invalid_key':
    case 'invalid_element':
      return issue.issues.flatMap((inner) => problemsFromIssue(inner, rules, segments)).map((p) => ({ ...p, atKey: issue.code === 'invalid_key' }));
    case 'too_small':
    case 'too_big':
      return [{ path, segments, message: rules.ownMessages ? issue.message : sizeMessage(issue, input) }];
    case 'invalid_format':
      return [{ path, segments, message: `must be ${issue.format === 'url' ? 'a URL, like http://127.0.0.1:8080/' : `in ${issue.format} format`}, got ${describeValue(input)}` }];
    case 'not_multiple_of':
      return [{ path, segments, message: issue.message }];
    case 'custom': {
      const hint = (issue.params as { hint?: string } | undefined)?.hint ?? fieldHint;
      return [{ path, segments, message: issue.message, ...withHint(hint) }];
    }
    default:
      return [{ path, segments, message: (issue as { message: string }).message }];
  }
}

/** Field names allowed at a path of the schema (for "did you mean" on unknown fields). */
function fieldsAt(schema: z.ZodType, segments: readonly Segment[]): string[] {
  let current: z.ZodType | undefined = schema;
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
