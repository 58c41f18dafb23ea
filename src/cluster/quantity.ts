/**
 * Resource quantities as people write them: memory in Kubernetes quantities (512Mi, 1Gi,
 * 1.5G) or docker's units (512m, 1g, 512MB), CPUs in cores (1.5) or millicores ("500m").
 */
const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIXES: Record<string, number> = { k: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };
const DOCKER_POWERS: Record<string, number> = { b: 0, k: 1, m: 2, g: 3, t: 4, p: 5 };
const QUANTITY_RE = /^(\d+(?:\.\d+)?|\.\d+) ?([A-Za-z]*)$/;
/** For the JSON Schema; parseQuantityBytes is the authority. */
export const QUANTITY_PATTERN = '^(\\d+(\\.\\d+)?|\\.\\d+) ?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|[bBkKmMgGtTpP]|[kKmMgGtTpP][iI]?[bB])?$';

/**
 * A memory quantity in bytes, rounded up. Accepts
 * - plain bytes: `1073741824` (number or string);
 * - Kubernetes quantities: `Ki Mi Gi Ti Pi Ei` (powers of 1024), `k M G T P E` (powers of 1000),
 *   fractions allowed (`1.5Gi`);
 * - docker's units (`docker run --memory`), all powers of 1024, any case, with an optional
 *   `b`/`ib`: `512m`, `1g`, `512MiB`, `512MB`, `2K`, `100b`.
 * Where the two disagree the Kubernetes meaning wins: `512M` is 512·10⁶ bytes, `512m` is 512MiB
 * (a Kubernetes milli-byte means nothing for memory), `1k` is 1000 bytes, `1K` is 1024.
 */
export function parseQuantityBytes(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`invalid memory quantity ${value}: must be a non-negative number of bytes`);
    }
    const bytes = Math.ceil(value);
    if (!Number.isSafeInteger(bytes)) throw new Error(`memory quantity ${value} is too large`);
    return bytes;
  }
  const text = value.trim();
  const m = QUANTITY_RE.exec(text);
  const multiplier = m ? quantityMultiplier(m[2] ?? '') : undefined;
  if (!m || multiplier === undefined) {
    throw new Error(
      `invalid memory quantity ${JSON.stringify(value)}: expected bytes with an optional unit, like 512Mi, 1Gi, 1.5G or 512m`,
    );
  }
  // Exact arithmetic: 1.15Gi must not round up because of a binary fraction.
  const [whole = '', fraction = ''] = (m[1] ?? '').split('.');
  const scale = 10n ** BigInt(fraction.length);
  const numerator = BigInt(`${whole || '0'}${fraction}`) * multiplier;
  const bytes = (numerator + scale - 1n) / scale;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`memory quantity ${JSON.stringify(value)} is too large`);
  return Number(bytes);
}

function quantityMultiplier(suffix: string): bigint | undefined {
  if (suffix === '') return 1n;
  const binary = BINARY_SUFFIXES[suffix];
  if (binary !== undefined) return 1024n ** BigInt(binary);
  const decimal = DECIMAL_SUFFIXES[suffix];
  if (decimal !== undefined) return 1000n ** BigInt(decimal);
  const docker = /^([bkmgtp])(i?b)?$/i.exec(suffix);
  if (!docker?.[1]) return undefined;
  const letter = docker[1].toLowerCase();
  if (letter === 'b' && docker[2]) return undefined; // "bb", "bib"
  return 1024n ** BigInt(DOCKER_POWERS[letter] ?? 0);
}

export const CPU_STRING_RE = /^(?:(\d+(?:\.\d+)?|\.\d+)|(\d+)m)$/;
export const CPU_PATTERN = '^((\\d+(\\.\\d+)?|\\.\\d+)|\\d+m)$';

/** A CPU limit in cores: `1.5`, `"1.5"`, or millicores `"500m"` (0.5). Must be greater than 0. */
export function parseCpus(value: string | number): number {
  let cores: number;
  if (typeof value === 'number') {
    cores = value;
  } else {
    const m = CPU_STRING_RE.exec(value.trim());
    if (!m) {
      throw new Error(`invalid CPU count ${JSON.stringify(value)}: expected cores like 1.5 or millicores like "500m"`);
    }
    cores = m[1] !== undefined ? Number(m[1]) : Number(m[2]) / 1000;
  }
  if (!Number.isFinite(cores) || cores <= 0) {
    throw new Error(`invalid CPU count ${JSON.stringify(value)}: must be greater than 0`);
  }
  return cores;
}
