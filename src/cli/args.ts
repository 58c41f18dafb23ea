import { UsageError } from '../common/errors.js';

/** A whole number within [min, max] from a flag, or a UsageError naming the flag. */
export function parseCount(value: unknown, flag: string, min: number, max: number): number {
  const text = String(value);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

export function stringOption(options: Record<string, unknown>, key: string): string | undefined {
  const v = options[key];
  return typeof v === 'string' ? v : undefined;
}
