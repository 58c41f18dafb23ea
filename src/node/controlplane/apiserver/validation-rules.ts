/**
 * The syntax rules of apimachinery's util/validation (DNS names, qualified names, label values,
 * ports, percentages) with their exact messages, and the field checks built on them that every
 * kind shares: labels, annotations, label selectors, non-negative numbers, immutable fields,
 * resource quantities.
 */
import { isIP } from 'node:net';
import { isJsonObject } from './json-value.js';
import { formatQuantity, parseQuantityExact, quantityProblem, type Quantity } from './quantity.js';
import { FieldErrors, child, index, key } from './validation-errors.js';

export const IS_NEGATIVE_ERROR = 'must be greater than or equal to 0';
export const FIELD_IMMUTABLE = 'field is immutable';
export const MAX_INT32 = 2147483647;
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

const EMPTY_ERROR = 'must be non-empty';

/** RegexError: the message, examples, and the expression. */
function regexError(message: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${format}')`;
  return `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${format}')`;
}

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+';
const PERCENT_FMT = '[0-9]+%';

const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const CONFIG_MAP_KEY_RE = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`);
const PERCENT_RE = new RegExp(`^${PERCENT_FMT}$`);

const DNS1123_LABEL_ERROR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_ERROR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_ERROR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_ERROR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_ERROR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

export function isDns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!DNS1123_LABEL_RE.test(value)) {
    // A valid subdomain that is no label has dots in it.
    errs.push(DNS1123_SUBDOMAIN_RE.test(value) ? 'must not contain dots' : regexError(DNS1123_LABEL_ERROR, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

export function isDns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_ERROR, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

export function isDns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!DNS1035_LABEL_RE.test(value)) errs.push(regexError(DNS1035_LABEL_ERROR, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  return errs;
}

export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push(`prefix part ${EMPTY_ERROR}`);
    else errs.push(...isDns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERROR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${EMPTY_ERROR}`);
  else if (name.length > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!QUALIFIED_NAME_RE.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_ERROR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_ERROR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!CONFIG_MAP_KEY_RE.test(value)) {
    errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_MAP_KEY_FMT, 'key.name', 'KEY_NAME', 'key_name'));
  }
  if (value === '.') errs.push("must not be '.'");
  else if (value === '..') errs.push("must not be '..'");
  else if (value.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** RelaxedEnvironmentVariableValidation, on by default since Kubernetes 1.32. */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push(`environment variable name ${EMPTY_ERROR}`);
  if (/[^\x20-\x3c\x3e-\x7e]/.test(value)) errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
  return errs;
}

export function isValidPercent(value: string): string[] {
  return PERCENT_RE.test(value) ? [] : [regexError("a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FMT, '1%', '93%')];
}

export function isValidIp(value: string): boolean {
  return isIP(value) !== 0;
}

export const IP_ERROR = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

// ---------------------------------------------------------------------------------------------
// Names of objects (ValidateNameFunc: `prefix` is true for generateName)
// ---------------------------------------------------------------------------------------------

export type NameRule = (name: string, prefix: boolean) => string[];

/** generateName may end in '-': Kubernetes masks it before checking (and so drops a character). */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDnsSubdomain: NameRule = (name, prefix) => isDns1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDnsLabel: NameRule = (name, prefix) => isDns1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDns1035Label: NameRule = (name, prefix) => isDns1035Label(prefix ? maskTrailingDash(name) : name);

/** path.ValidatePathSegmentName: what any name must be to sit in a URL. */
export const pathSegmentName: NameRule = (name, prefix) => {
  if (!prefix && (name === '.' || name === '..')) return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
};

// ---------------------------------------------------------------------------------------------
// Shared field checks
// ---------------------------------------------------------------------------------------------

/** ValidateLabels: every error names the map (`metadata.labels`), not the key. */
export function validateLabels(errors: FieldErrors, labels: unknown, path: string): void {
  if (!isJsonObject(labels)) return;
  for (const k of Object.keys(labels).sort()) {
    for (const msg of isQualifiedName(k)) errors.invalid(path, k, msg);
    const v = labels[k];
    if (typeof v !== 'string') {
      errors.typeInvalid(key(path, k), v, 'must be a string');
      continue;
    }
    for (const msg of isValidLabelValue(v)) errors.invalid(path, v, msg);
  }
}

export function validateAnnotations(errors: FieldErrors, annotations: unknown, path: string): void {
  if (!isJsonObject(annotations)) return;
  let total = 0;
  for (const k of Object.keys(annotations).sort()) {
    for (const msg of isQualifiedName(k.toLowerCase())) errors.invalid(path, k, msg);
    const v = annotations[k];
    if (typeof v !== 'string') errors.typeInvalid(key(path, k), v, 'must be a string');
    total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errors.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT);
}

/** ValidateLabelSelector (metav1): matchLabels as labels, matchExpressions well formed. */
export function validateLabelSelector(errors: FieldErrors, selector: unknown, path: string): void {
  if (!isJsonObject(selector)) return;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  expressions.forEach((expr, i) => {
    const exprPath = index(child(path, 'matchExpressions'), i);
    if (!isJsonObject(expr)) return;
    const operator = typeof expr.operator === 'string' ? expr.operator : '';
    const values = Array.isArray(expr.values) ? expr.values : [];
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) errors.required(child(exprPath, 'values'), 'must be specified when `operator` is \'In\' or \'NotIn\'');
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) errors.forbidden(child(exprPath, 'values'), 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'');
    } else {
      errors.invalid(child(exprPath, 'operator'), operator, 'not a valid selector operator');
    }
    for (const msg of isQualifiedName(typeof expr.key === 'string' ? expr.key : '')) errors.invalid(child(exprPath, 'key'), expr.key ?? '', msg);
    values.forEach((v, j) => {
      for (const msg of isValidLabelValue(typeof v === 'string' ? v : '')) errors.invalid(index(child(exprPath, 'values'), j), v, msg);
    });
  });
  validateLabels(errors, selector.matchLabels, child(path, 'matchLabels'));
}

/** Whether a (valid) label selector selects these labels; an absent selector selects nothing. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (!isJsonObject(selector)) return false;
  const matchLabels = isJsonObject(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isJsonObject) : [];
  for (const expr of expressions) {
    const k = String(expr.key ?? '');
    const values = Array.isArray(expr.values) ? expr.values.map(String) : [];
    const has = Object.hasOwn(labels, k);
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[k]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[k]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function selectorIsEmpty(selector: unknown): boolean {
  if (!isJsonObject(selector)) return true;
  const labels = isJsonObject(selector.matchLabels) ? Object.keys(selector.matchLabels).length : 0;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.length : 0;
  return labels + expressions === 0;
}

/** An optional integer field: wrong types reported, negatives refused. */
export function validateNonNegative(errors: FieldErrors, value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (!isInteger(value, path, errors)) return;
  if ((value as number) < 0) errors.invalid(path, value, IS_NEGATIVE_ERROR);
}

/** Reports a value that is present but not an integer; true when it is one. */
export function isInteger(value: unknown, path: string, errors: FieldErrors): value is number {
  if (typeof value === 'number' && Number.isInteger(value)) return true;
  errors.typeInvalid(path, value, 'must be an integer');
  return false;
}

/** The quantities of a resource list, each checked; the ones that parse come back. */
export function parseResourceList(errors: FieldErrors, list: unknown, path: string): Map<string, Quantity> {
  const parsed = new Map<string, Quantity>();
  if (!isJsonObject(list)) return parsed;
  for (const name of Object.keys(list).sort()) {
    const value = list[name];
    const problem = quantityProblem(value);
    if (problem) {
      errors.invalid(key(path, name), typeof value === 'number' ? String(value) : value, problem);
      continue;
    }
    parsed.set(name, parseQuantityExact(value as string | number));
  }
  return parsed;
}

/** ValidateNonnegativeQuantity, with the canonical value in the message. */
export function validateNonNegativeQuantity(errors: FieldErrors, q: Quantity, path: string): boolean {
  if (q.nanos >= 0n) return true;
  errors.invalid(path, formatQuantity(q), IS_NEGATIVE_ERROR);
  return false;
}
