/**
 * The `pod-template-hash` of a pod template, the way Kubernetes names ReplicaSets
 * (`web-5d8f7c9b4`): FNV-32a over the template, then over the collision count (as 8 bytes,
 * the count little-endian in the first 4), and the decimal hash rendered one character per
 * digit from an alphabet without vowels.
 *
 * Kubernetes feeds FNV a Go-specific dump of the struct; here it is the template's canonical
 * JSON (keys sorted, empty values dropped), so names have the same shape but not the same
 * letters as on a real cluster. Only equality matters: ReplicaSets are matched to templates
 * by content (see templates.ts), the hash only names them.
 */

/** The characters of k8s.io/apimachinery/pkg/util/rand: no vowels, no look-alikes, so no words. */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const FNV32_OFFSET_BASIS = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a, 32 bits, continuing from `seed` (to hash several pieces in a row). */
export function fnv32a(bytes: Uint8Array, seed: number = FNV32_OFFSET_BASIS): number {
  let hash = seed >>> 0;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, FNV32_PRIME) >>> 0;
  }
  return hash;
}

/** Each character of `text` replaced by SAFE_ALPHABET[code % 27] (apimachinery's SafeEncodeString). */
export function safeEncodeString(text: string): string {
  let encoded = '';
  for (const char of text) encoded += SAFE_ALPHABET[char.codePointAt(0)! % SAFE_ALPHABET.length];
  return encoded;
}

/**
 * A value with null, empty objects and empty arrays left out, recursively — Kubernetes'
 * semantic equality treats nil and empty the same, and JSON cannot tell them apart anyway.
 * Returns undefined when nothing is left.
 */
export function pruneEmpty(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    // Items keep their positions: an emptied item becomes {} rather than vanishing.
    return value.length === 0 ? undefined : value.map((item) => pruneEmpty(item) ?? {});
  }
  if (typeof value === 'object') {
    const pruned: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const kept = pruneEmpty(child);
      if (kept !== undefined) pruned[key] = kept;
    }
    return Object.keys(pruned).length === 0 ? undefined : pruned;
  }
  return value;
}

/** JSON with object keys sorted and empty values dropped: equal for semantically equal values. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(pruneEmpty(value)) ?? null);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).sort().map((key) => [key, sortKeys(record[key])]));
  }
  return value;
}

/** The pod-template-hash label value for a template (and the owner's status.collisionCount). */
export function computePodTemplateHash(template: unknown, collisionCount?: number): string {
  let hash = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined) {
    const countBytes = new Uint8Array(8);
    new DataView(countBytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(countBytes, hash);
  }
  return safeEncodeString(String(hash));
}
