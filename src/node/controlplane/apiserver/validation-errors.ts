/**
 * Field errors as apimachinery's field.Error writes them: the cause types, the field paths
 * (`spec.containers[0].name`, `data[key]`) and the message bodies (`Required value`,
 * `Invalid value: "x": detail`), values printed the way Go's fmt prints them.
 */
import { isJsonObject } from './json-value.js';
import type { FieldCause } from './status.js';

export type CauseType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueNotFound'
  | 'FieldValueTypeInvalid';

/** A value already rendered as Go would print it (%#v of a typed struct, map or slice). */
export class GoValue {
  constructor(readonly text: string) {}
}

/** Collects the causes of one validation, in the order they are found. */
export class FieldErrors {
  readonly causes: FieldCause[] = [];

  get size(): number {
    return this.causes.length;
  }

  required(field: string, detail = ''): void {
    this.add('FieldValueRequired', field, withDetail('Required value', detail));
  }

  invalid(field: string, value: unknown, detail: string): void {
    this.add('FieldValueInvalid', field, withDetail(`Invalid value: ${renderValue(value)}`, detail));
  }

  /** The supported values are listed in the order given (Kubernetes sorts some lists, not all). */
  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    const detail = supported.length > 0 ? `supported values: ${supported.map(goQuote).join(', ')}` : '';
    this.add('FieldValueNotSupported', field, withDetail(`Unsupported value: ${renderValue(value)}`, detail));
  }

  duplicate(field: string, value: unknown, detail = ''): void {
    this.add('FieldValueDuplicate', field, withDetail(`Duplicate value: ${renderValue(value)}`, detail));
  }

  forbidden(field: string, detail: string): void {
    this.add('FieldValueForbidden', field, withDetail('Forbidden', detail));
  }

  tooLong(field: string, maxBytes: number): void {
    this.add('FieldValueTooLong', field, `Too long: may not be more than ${maxBytes} ${maxBytes === 1 ? 'byte' : 'bytes'}`);
  }

  notFound(field: string, value: unknown): void {
    this.add('FieldValueNotFound', field, `Not found: ${renderValue(value)}`);
  }

  /** A value of the wrong JSON type (Kubernetes refuses those while decoding). */
  typeInvalid(field: string, value: unknown, detail: string): void {
    this.add('FieldValueTypeInvalid', field, withDetail(`Invalid value: ${renderValue(value)}`, detail));
  }

  private add(type: CauseType, field: string, message: string): void {
    this.causes.push({ type, field, message });
  }
}

function withDetail(body: string, detail: string): string {
  return detail ? `${body}: ${detail}` : body;
}

// ---------------------------------------------------------------------------------------------
// Field paths (field.Path.String())
// ---------------------------------------------------------------------------------------------

export function child(path: string, ...names: string[]): string {
  return names.reduce((p, name) => (p ? `${p}.${name}` : name), path);
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** A map key: written bare inside brackets, as Kubernetes does (`metadata.labels[app]`). */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

// ---------------------------------------------------------------------------------------------
// Values as Go prints them
// ---------------------------------------------------------------------------------------------

/**
 * The bad value in a message: strings quoted (%q), numbers and booleans bare, nil as `null`,
 * GoValue as rendered; other JSON (Go would print a typed struct with %#v) as compact JSON.
 */
export function renderValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof GoValue) return value.text;
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** strconv.Quote: double quotes, Go escapes, printable Unicode kept. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const escaped = SIMPLE_ESCAPES[ch];
    if (escaped) out += escaped;
    else if (isPrintable(ch)) out += ch;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

function isPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/** %#v of map[string]string: keys sorted, `map[string]string(nil)` for none. */
export function goStringMap(map: unknown): GoValue {
  if (!isJsonObject(map)) return new GoValue('map[string]string(nil)');
  const entries = Object.keys(map)
    .sort()
    .map((k) => `${goQuote(k)}:${goQuote(String(map[k]))}`);
  return new GoValue(`map[string]string{${entries.join(', ')}}`);
}

/** %#v of []string. */
export function goStringSlice(items: unknown): GoValue {
  if (!Array.isArray(items)) return new GoValue('[]string(nil)');
  return new GoValue(`[]string{${items.map((s) => goQuote(String(s))).join(', ')}}`);
}

/** %#v of a metav1.LabelSelector, as in `spec.selector: Invalid value: v1.LabelSelector{...}`. */
export function goLabelSelector(selector: unknown): GoValue {
  if (!isJsonObject(selector)) return new GoValue('null');
  const expressions = Array.isArray(selector.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${selector.matchExpressions
        .filter(isJsonObject)
        .map(
          (e) =>
            `v1.LabelSelectorRequirement{Key:${goQuote(String(e.key ?? ''))}, Operator:${goQuote(String(e.operator ?? ''))}, Values:${goStringSlice(e.values).text}}`,
        )
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return new GoValue(`v1.LabelSelector{MatchLabels:${goStringMap(selector.matchLabels).text}, MatchExpressions:${expressions}}`);
}

/** %#v of an intstr.IntOrString (Type 0 for an integer, 1 for a string). */
export function goIntOrString(value: unknown): GoValue {
  if (typeof value === 'number') return new GoValue(`intstr.IntOrString{Type:0, IntVal:${value}, StrVal:""}`);
  return new GoValue(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(String(value ?? ''))}}`);
}
