import type { LabelSelector as LabelSelectorObject } from 'kubernetes-types/meta/v1.js';

/**
 * Label and field selectors as the API server reads them from `?labelSelector=` and
 * `?fieldSelector=`, and as objects carry them (Deployment spec.selector). Pure functions.
 */

/** A selector the client got wrong: the API server answers 400 BadRequest with the message. */
export class SelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorParseError';
  }
}

export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: LabelOperator;
  /** One value for =, ==, !=, gt, lt; one or more for in/notin; none for exists/!exists. */
  values: string[];
}

/** All requirements must hold (AND). The empty selector matches everything. */
export type LabelSelector = Requirement[];

// ---------------------------------------------------------------------------------------
// Validation of label keys and values, with Kubernetes' limits and wording.

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_PART_HINT =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const VALUE_HINT =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Problems with a label key (a qualified name: optional DNS-subdomain prefix, '/', name ≤ 63). */
export function labelKeyProblems(key: string): string[] {
  const parts = key.split('/');
  let name = key;
  const problems: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) problems.push('prefix part must be non-empty');
    else if (prefix.length > 253) problems.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix))
      problems.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/'"];
  }
  if (name.length === 0) problems.push('name part must be non-empty');
  else if (name.length > 63) problems.push('name part must be no more than 63 characters');
  else if (!NAME_PART.test(name)) problems.push(NAME_PART_HINT);
  return problems;
}

export function labelValueProblems(value: string): string[] {
  if (value.length > 63) return ['must be no more than 63 characters'];
  if (value.length > 0 && !NAME_PART.test(value)) return [VALUE_HINT];
  return [];
}

function validateRequirement(req: Requirement): Requirement {
  const keyProblems = labelKeyProblems(req.key);
  if (keyProblems.length > 0)
    throw new SelectorParseError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(req.key)}: ${keyProblems.join('; ')}`);
  switch (req.operator) {
    case 'in':
    case 'notin':
      if (req.values.length === 0)
        throw new SelectorParseError("unable to parse requirement: values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
      break;
    case '=':
    case '==':
    case '!=':
      if (req.values.length !== 1)
        throw new SelectorParseError("unable to parse requirement: values: Invalid value: exact-match compatibility requires one single value");
      break;
    case 'exists':
    case '!exists':
      if (req.values.length !== 0)
        throw new SelectorParseError("unable to parse requirement: values: Invalid value: values set must be empty for exists and does not exist");
      break;
    case 'gt':
    case 'lt':
      if (req.values.length !== 1 || !/^-?\d+$/.test(req.values[0] ?? ''))
        throw new SelectorParseError("unable to parse requirement: values: Invalid value: for 'Gt', 'Lt' operators, exactly one integer value is required");
      return req;
  }
  req.values.forEach((value, i) => {
    const problems = labelValueProblems(value);
    if (problems.length > 0)
      throw new SelectorParseError(`unable to parse requirement: values[${i}][${req.key}]: Invalid value: ${JSON.stringify(value)}: ${problems.join('; ')}`);
  });
  return req;
}

// ---------------------------------------------------------------------------------------
// The label selector language: a=b,c!=d,e in (x,y),f notin (z),g,!h,n>1

type Token =
  | { kind: 'identifier'; text: string }
  | { kind: 'symbol'; text: '!' | '!=' | '=' | '==' | '(' | ')' | ',' | '>' | '<' }
  | { kind: 'end'; text: '' };

const SYMBOL_CHARS = new Set(['!', '=', '(', ')', ',', '>', '<']);

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
    } else if (SYMBOL_CHARS.has(ch)) {
      const two = s.slice(i, i + 2);
      if (two === '!=' || two === '==') {
        tokens.push({ kind: 'symbol', text: two });
        i += 2;
      } else {
        tokens.push({ kind: 'symbol', text: ch as '!' | '=' | '(' | ')' | ',' | '>' | '<' });
        i++;
      }
    } else {
      let j = i;
      while (j < s.length && !SYMBOL_CHARS.has(s[j] ?? '') && !/\s/.test(s[j] ?? '')) j++;
      tokens.push({ kind: 'identifier', text: s.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

/** Parses kubectl's `-l` syntax. Throws SelectorParseError with a message close to Kubernetes'. */
export function parseLabelSelector(s: string): LabelSelector {
  const tokens = tokenize(s);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { kind: 'end', text: '' };
  const next = (): Token => tokens[pos++] ?? { kind: 'end', text: '' };
  const describe = (t: Token): string => (t.kind === 'end' ? 'EOS' : `'${t.text}'`);

  const requirements: Requirement[] = [];
  if (peek().kind === 'end') return requirements;
  for (;;) {
    requirements.push(validateRequirement(parseRequirement()));
    const t = next();
    if (t.kind === 'end') break;
    if (t.text !== ',') throw new SelectorParseError(`found ${describe(t)}, expected: ',' or 'end of string'`);
    if (peek().kind === 'end') throw new SelectorParseError("found 'EOS', expected: identifier after ','");
  }
  return requirements;

  function parseRequirement(): Requirement {
    let t = next();
    if (t.kind === 'symbol' && t.text === '!') {
      const key = next();
      if (key.kind !== 'identifier') throw new SelectorParseError(`found ${describe(key)}, expected: identifier after '!'`);
      const after = peek();
      if (after.kind !== 'end' && after.text !== ',')
        throw new SelectorParseError(`found ${describe(after)}, expected: ',' or 'end of string'`);
      return { key: key.text, operator: '!exists', values: [] };
    }
    if (t.kind !== 'identifier') throw new SelectorParseError(`found ${describe(t)}, expected: !, identifier, or 'end of string'`);
    const key = t.text;
    t = peek();
    if (t.kind === 'end' || t.text === ',') return { key, operator: 'exists', values: [] };
    next();
    if (t.kind === 'identifier' && (t.text === 'in' || t.text === 'notin')) {
      return { key, operator: t.text, values: parseValueSet() };
    }
    if (t.kind === 'symbol' && (t.text === '=' || t.text === '==' || t.text === '!=' || t.text === '>' || t.text === '<')) {
      const operator: LabelOperator = t.text === '>' ? 'gt' : t.text === '<' ? 'lt' : t.text;
      const value = peek();
      // `a=` selects the empty value, as in Kubernetes.
      if (value.kind === 'end' || value.text === ',') return { key, operator, values: [''] };
      next();
      if (value.kind !== 'identifier') throw new SelectorParseError(`found ${describe(value)}, expected: identifier`);
      return { key, operator, values: [value.text] };
    }
    throw new SelectorParseError(`found ${describe(t)}, expected: in, notin, =, ==, !=, gt, lt`);
  }

  function parseValueSet(): string[] {
    const open = next();
    if (open.text !== '(') throw new SelectorParseError(`found ${describe(open)}, expected: '('`);
    const values: string[] = [];
    if (peek().text === ')' && peek().kind === 'symbol') {
      next();
      return values;
    }
    for (;;) {
      const t = peek();
      if (t.kind === 'identifier') {
        next();
        values.push(t.text);
      } else if (t.text === ',' || t.text === ')') {
        values.push(''); // an empty element, like `(a,)`
      } else {
        throw new SelectorParseError(`found ${describe(t)}, expected: ',', ')' or identifier`);
      }
      const sep = next();
      if (sep.kind === 'symbol' && sep.text === ')') return values;
      if (sep.kind !== 'symbol' || sep.text !== ',') throw new SelectorParseError(`found ${describe(sep)}, expected: ',' or ')'`);
      if (peek().kind === 'symbol' && peek().text === ')') {
        next();
        values.push('');
        return values;
      }
    }
  }
}

export function matchesLabels(sel: LabelSelector, labels?: Record<string, string>): boolean {
  const has = (key: string): boolean => labels !== undefined && Object.prototype.hasOwnProperty.call(labels, key);
  return sel.every((req) => {
    const value = labels?.[req.key];
    switch (req.operator) {
      case '=':
      case '==':
      case 'in':
        return has(req.key) && req.values.includes(value ?? '');
      case '!=':
      case 'notin':
        return !has(req.key) || !req.values.includes(value ?? '');
      case 'exists':
        return has(req.key);
      case '!exists':
        return !has(req.key);
      case 'gt':
      case 'lt': {
        if (!has(req.key) || !/^-?\d+$/.test(value ?? '')) return false;
        const actual = Number(value);
        const bound = Number(req.values[0]);
        return req.operator === 'gt' ? actual > bound : actual < bound;
      }
    }
  });
}

/**
 * Converts an object's selector (matchLabels + matchExpressions). An empty selector matches
 * everything; callers that treat a *missing* selector as "nothing" must check that themselves.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject): LabelSelector {
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    requirements.push(validateRequirement({ key, operator: '=', values: [value] }));
  }
  for (const expr of sel.matchExpressions ?? []) {
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        requirements.push(validateRequirement({ key: expr.key, operator: 'in', values: [...values] }));
        break;
      case 'NotIn':
        requirements.push(validateRequirement({ key: expr.key, operator: 'notin', values: [...values] }));
        break;
      case 'Exists':
        requirements.push(validateRequirement({ key: expr.key, operator: 'exists', values: [...values] }));
        break;
      case 'DoesNotExist':
        requirements.push(validateRequirement({ key: expr.key, operator: '!exists', values: [...values] }));
        break;
      default:
        throw new SelectorParseError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    }
  }
  return requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function formatRequirement(req: Requirement): string {
  const sortedValues = [...req.values].sort();
  switch (req.operator) {
    case '=':
    case '==':
    case '!=':
      return `${req.key}${req.operator}${req.values[0] ?? ''}`;
    case 'in':
    case 'notin':
      return `${req.key} ${req.operator} (${sortedValues.join(',')})`;
    case 'exists':
      return req.key;
    case '!exists':
      return `!${req.key}`;
    case 'gt':
      return `${req.key}>${req.values[0] ?? ''}`;
    case 'lt':
      return `${req.key}<${req.values[0] ?? ''}`;
  }
}

/** The selector as Kubernetes prints it (Scale status.selector): requirements sorted by key. Empty selector: "". */
export function formatLabelSelector(sel: LabelSelectorObject): string {
  return labelSelectorFromObject(sel).map(formatRequirement).join(',');
}

// ---------------------------------------------------------------------------------------
// Field selectors: a=b,c==d,e!=f on a fixed set of fields per resource.

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  resource: string;
  requirements: FieldRequirement[];
}

type FieldReader = (obj: Record<string, unknown>) => string;

/** Reads a dotted path; a missing field reads as "" (so spec.nodeName= selects unbound pods). */
function pathReader(path: string): FieldReader {
  const parts = path.split('.');
  return (obj) => {
    let value: unknown = obj;
    for (const part of parts) {
      if (value === null || typeof value !== 'object') return '';
      value = (value as Record<string, unknown>)[part];
    }
    return value === undefined || value === null ? '' : String(value);
  };
}

/** Like Go's zero values: a missing bool reads "false", a missing count "0". */
function withDefault(path: string, zero: string): FieldReader {
  const read = pathReader(path);
  return (obj) => read(obj) || zero;
}

function paths(...fields: string[]): Record<string, FieldReader> {
  return Object.fromEntries(fields.map((field) => [field, pathReader(field)]));
}

/** The fields each resource can be selected by, as kube-apiserver's field label conversions allow. */
const FIELDS_BY_RESOURCE: Record<string, Record<string, FieldReader>> = {
  pods: paths('spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'),
  events: {
    ...paths(
      'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
      'reason', 'reportingComponent', 'type',
    ),
    source: pathReader('source.component'),
  },
  nodes: { 'spec.unschedulable': withDefault('spec.unschedulable', 'false') },
  secrets: paths('type'),
  namespaces: paths('status.phase'),
  replicasets: { 'status.replicas': withDefault('status.replicas', '0') },
  jobs: { 'status.successful': withDefault('status.successful', '0') },
};

const COMMON_FIELDS: Record<string, FieldReader> = paths('metadata.name', 'metadata.namespace');

function fieldReader(resource: string, field: string): FieldReader | undefined {
  return COMMON_FIELDS[field] ?? FIELDS_BY_RESOURCE[resource]?.[field];
}

/** Splits on commas that are not escaped with a backslash. */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? '';
    if (ch === '\\' && i + 1 < s.length) {
      current += ch + (s[i + 1] ?? '');
      i++;
    } else if (ch === ',') {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms;
}

/** Finds the first unescaped occurrence of `op` in `term`. */
function indexOfUnescaped(term: string, op: string): number {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++;
      continue;
    }
    if (term.startsWith(op, i)) return i;
  }
  return -1;
}

function unescapeValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (ch === '\\') {
      const escaped = value[i + 1];
      if (escaped !== '\\' && escaped !== ',' && escaped !== '=')
        throw new SelectorParseError(`invalid field selector: invalid escape sequence: \\${escaped ?? ''}`);
      out += escaped;
      i++;
    } else if (ch === ',' || ch === '=') {
      throw new SelectorParseError(`invalid field selector: unescaped ${ch} in value: ${value}`);
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * resource is the plural ('pods', 'events', 'nodes', ...). Unsupported fields throw
 * SelectorParseError('field label not supported: X') as Kubernetes answers.
 */
export function parseFieldSelector(s: string, resource: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (s.trim() === '') return { resource, requirements };
  for (const term of splitTerms(s)) {
    let requirement: FieldRequirement | undefined;
    // The order matters: '!=' and '==' contain '='.
    for (const op of ['!=', '==', '='] as const) {
      const at = indexOfUnescaped(term, op);
      if (at < 0) continue;
      requirement = { field: term.slice(0, at).trim(), operator: op === '!=' ? '!=' : '=', value: unescapeValue(term.slice(at + op.length)) };
      break;
    }
    if (requirement === undefined || requirement.field === '')
      throw new SelectorParseError(`invalid selector: '${s}'; can't understand '${term}'`);
    if (fieldReader(resource, requirement.field) === undefined)
      throw new SelectorParseError(`field label not supported: ${requirement.field}`);
    requirements.push(requirement);
  }
  return { resource, requirements };
}

export function matchesFields(sel: FieldSelector, obj: object): boolean {
  return sel.requirements.every((req) => {
    const read = fieldReader(sel.resource, req.field);
    const actual = read === undefined ? '' : read(obj as Record<string, unknown>);
    return req.operator === '=' ? actual === req.value : actual !== req.value;
  });
}
