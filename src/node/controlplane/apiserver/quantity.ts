/**
 * Kubernetes resource quantities (apimachinery's resource.Quantity) inside the node: the same
 * grammar, the same errors, exact comparison, and the canonical form the API server writes
 * back (`0.5` → `500m`, `1024Mi` → `1Gi`). Values are kept exactly, in nano-units, because
 * Kubernetes itself rounds every quantity up to a whole nano.
 *
 * The host-side config has its own, more permissive parser (src/cluster/quantity.ts).
 */

/** ErrFormatWrong, word for word. */
export const QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** ErrNumeric and ErrSuffix, word for word. */
export const QUANTITY_NUMERIC_ERROR = 'unable to parse numeric part of quantity';
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** A parsed quantity: its exact value in nano-units and the notation it was written in. */
export interface Quantity {
  nanos: bigint;
  format: QuantityFormat;
}

const NANOS_PER_UNIT = 1_000_000_000n;
const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const SUFFIX_CHARS = new Set('eEinumkKMGTP');
const DECIMAL_SUFFIX_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exponent]) => [exponent, suffix]));
const BINARY_SUFFIX_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

interface Multiplier {
  base: 2n | 10n;
  exponent: number;
  format: QuantityFormat;
}

/**
 * Parses a quantity exactly, as resource.ParseQuantity does (numbers as they appear in JSON are
 * accepted too). Throws an Error with Kubernetes' message when the text is not a quantity.
 */
export function parseQuantityExact(input: string | number): Quantity {
  const text = typeof input === 'number' ? numberText(input) : input;
  const { negative, whole, fraction, suffix } = splitQuantity(text);
  const multiplier = interpretSuffix(suffix);
  // value = (whole.fraction) × base^exponent, kept as numerator / 10^scale until rounded to nanos
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let scale = fraction.length;
  if (multiplier.base === 2n) {
    numerator *= 2n ** BigInt(multiplier.exponent);
  } else if (multiplier.exponent >= 0) {
    numerator *= 10n ** BigInt(multiplier.exponent);
  } else {
    scale -= multiplier.exponent;
  }
  // To nanos, rounding away from zero like inf.RoundUp: asking for a sliver gets a nano.
  const shift = scale - 9;
  let nanos: bigint;
  if (shift <= 0) {
    nanos = numerator * 10n ** BigInt(-shift);
  } else {
    const divisor = 10n ** BigInt(shift);
    nanos = numerator / divisor + (numerator % divisor === 0n ? 0n : 1n);
  }
  return { nanos: negative ? -nanos : nanos, format: multiplier.format };
}

/** The value of a quantity in base units ('500m' → 0.5, '1Gi' → 1073741824). Throws on bad input. */
export function parseQuantity(q: string): number {
  return quantityToNumber(parseQuantityExact(q));
}

export function quantityToNumber(q: Quantity): number {
  const whole = q.nanos / NANOS_PER_UNIT;
  const rest = q.nanos % NANOS_PER_UNIT;
  return Number(whole) + Number(rest) / 1e9;
}

export function isValidQuantity(q: unknown): boolean {
  if (typeof q !== 'string' && !(typeof q === 'number' && Number.isFinite(q))) return false;
  try {
    parseQuantityExact(q);
    return true;
  } catch {
    return false;
  }
}

/** Why a value is not a quantity (Kubernetes' text), or undefined when it is one. */
export function quantityProblem(q: unknown): string | undefined {
  if (typeof q === 'number' && Number.isFinite(q)) q = numberText(q);
  if (typeof q !== 'string') return QUANTITY_ERROR;
  try {
    parseQuantityExact(q);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : QUANTITY_ERROR;
  }
}

export function compareQuantities(a: Quantity, b: Quantity): number {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** Quantity.String(): the canonical text the API server stores and returns. */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  const sign = q.nanos < 0n ? '-' : '';
  const magnitude = q.nanos < 0n ? -q.nanos : q.nanos;
  let format = q.format;
  if (format === 'BinarySI') {
    // Small or fractional binary amounts read better (and exactly) as decimal.
    const below1024 = magnitude < 1024n * NANOS_PER_UNIT;
    if (below1024 || magnitude % NANOS_PER_UNIT !== 0n) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let mantissa = magnitude / NANOS_PER_UNIT;
    let power = 0;
    while (power < BINARY_SUFFIX_BY_POWER.length - 1 && mantissa % 1024n === 0n) {
      mantissa /= 1024n;
      power++;
    }
    return `${sign}${mantissa}${BINARY_SUFFIX_BY_POWER[power]}`;
  }
  // Decimal: strip factors of ten, then settle on an exponent that is a multiple of three.
  let mantissa = magnitude;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  const remainder = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(remainder);
  exponent -= remainder;
  return `${sign}${mantissa}${decimalSuffix(exponent, format)}`;
}

/** The canonical form of a quantity given as text or a JSON number; undefined when invalid. */
export function canonicalQuantity(q: unknown): string | undefined {
  if (typeof q !== 'string' && !(typeof q === 'number' && Number.isFinite(q))) return undefined;
  try {
    return formatQuantity(parseQuantityExact(q));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

function decimalSuffix(exponent: number, format: QuantityFormat): string {
  if (format === 'DecimalSI') {
    const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exponent);
    if (suffix !== undefined) return suffix;
  }
  return exponent === 0 ? '' : `e${exponent}`;
}

/** A JSON number as the text Go would have parsed (1e+21 keeps its exponent). */
function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(QUANTITY_ERROR);
  return String(n);
}

interface QuantityParts {
  negative: boolean;
  whole: string;
  fraction: string;
  suffix: string;
}

/** The grammar of parseQuantityString: sign, digits, optional fraction, suffix. */
function splitQuantity(text: string): QuantityParts {
  if (text.length === 0) throw new Error(QUANTITY_ERROR);
  let pos = 0;
  let negative = false;
  if (text[0] === '-' || text[0] === '+') {
    negative = text[0] === '-';
    pos++;
  }
  const wholeStart = pos;
  while (pos < text.length && isDigit(text[pos]!)) pos++;
  const whole = text.slice(wholeStart, pos);
  let fraction = '';
  if (text[pos] === '.') {
    const fractionStart = ++pos;
    while (pos < text.length && isDigit(text[pos]!)) pos++;
    fraction = text.slice(fractionStart, pos);
  }
  if (whole === '' && fraction === '') {
    // A lone sign or dot gets as far as the numeric conversion; anything else fails the grammar.
    throw new Error(pos === text.length ? QUANTITY_NUMERIC_ERROR : QUANTITY_ERROR);
  }
  const suffixStart = pos;
  while (pos < text.length && SUFFIX_CHARS.has(text[pos]!)) pos++;
  if (text[pos] === '-' || text[pos] === '+') pos++;
  while (pos < text.length && isDigit(text[pos]!)) pos++;
  if (pos !== text.length) throw new Error(QUANTITY_ERROR);
  return { negative, whole, fraction, suffix: text.slice(suffixStart) };
}

function interpretSuffix(suffix: string): Multiplier {
  const decimal = DECIMAL_SUFFIXES[suffix];
  if (decimal !== undefined) return { base: 10n, exponent: decimal, format: 'DecimalSI' };
  const binary = BINARY_SUFFIXES[suffix];
  if (binary !== undefined) return { base: 2n, exponent: binary * 10, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    // Beyond this the value has no place in any resource (and BigInt powers would explode).
    if (Math.abs(exponent) <= 1000) return { base: 10n, exponent, format: 'DecimalExponent' };
  }
  throw new Error(QUANTITY_SUFFIX_ERROR);
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}
