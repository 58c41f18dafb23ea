import { describe, expect, it } from 'vitest';
import {
  QUANTITY_ERROR,
  QUANTITY_NUMERIC_ERROR,
  QUANTITY_SUFFIX_ERROR,
  canonicalQuantity,
  compareQuantities,
  isValidQuantity,
  parseQuantity,
  parseQuantityExact,
  quantityProblem,
} from '../../src/node/controlplane/apiserver/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5],
    ['1Gi', 1073741824],
    ['1', 1],
    ['0', 0],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1.', 1],
    ['+3k', 3000],
    ['-1', -1],
    ['2M', 2e6],
    ['4G', 4e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['250u', 0.00025],
    ['7n', 7e-9],
    ['1Ki', 1024],
    ['1Mi', 1048576],
    ['1.5Gi', 1610612736],
    ['1Ti', 2 ** 40],
    ['1e3', 1000],
    ['1E3', 1000],
    ['12e-3', 0.012],
    ['5e+2', 500],
  ])('%s = %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 12);
  });

  it('rounds a sliver up to one nano, as Kubernetes does', () => {
    expect(parseQuantityExact('0.1n').nanos).toBe(1n);
    expect(parseQuantityExact('-0.1n').nanos).toBe(-1n);
    expect(parseQuantity('0.1n')).toBe(1e-9);
  });

  it.each([
    ['', QUANTITY_ERROR],
    ['abc', QUANTITY_ERROR],
    ['1KiB', QUANTITY_ERROR],
    ['1 ', QUANTITY_ERROR],
    ['1.2.3', QUANTITY_ERROR],
    ['1e+3x', QUANTITY_ERROR],
    ['1i', QUANTITY_SUFFIX_ERROR],
    ['1e', QUANTITY_SUFFIX_ERROR],
    ['1K', QUANTITY_SUFFIX_ERROR],
    ['-', QUANTITY_NUMERIC_ERROR],
    ['.', QUANTITY_NUMERIC_ERROR],
  ])('rejects %j with %s', (text, message) => {
    expect(() => parseQuantity(text)).toThrow(message);
    expect(quantityProblem(text)).toBe(message);
  });

  it('uses the exact texts of apimachinery', () => {
    expect(QUANTITY_ERROR).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    expect(QUANTITY_SUFFIX_ERROR).toBe("unable to parse quantity's suffix");
  });
});

describe('isValidQuantity', () => {
  it('accepts quantity strings and JSON numbers, nothing else', () => {
    expect(isValidQuantity('100Mi')).toBe(true);
    expect(isValidQuantity(0.5)).toBe(true);
    expect(isValidQuantity(2)).toBe(true);
    expect(isValidQuantity('100MB')).toBe(false);
    expect(isValidQuantity(Number.NaN)).toBe(false);
    expect(isValidQuantity(null)).toBe(false);
    expect(isValidQuantity({})).toBe(false);
    expect(isValidQuantity(undefined)).toBe(false);
  });
});

describe('canonicalQuantity (Quantity.String())', () => {
  it.each([
    ['500m', '500m'],
    ['0.5', '500m'],
    [0.5, '500m'],
    [1, '1'],
    ['1000m', '1'],
    ['1500', '1500'],
    ['2000', '2k'],
    ['0.0001', '100u'],
    ['1024Mi', '1Gi'],
    ['1000Mi', '1000Mi'],
    ['1.5Gi', '1536Mi'],
    ['1.5Mi', '1536Ki'],
    ['0.5Ki', '512'],
    ['1536', '1536'],
    ['100Mi', '100Mi'],
    ['1e3', '1e3'],
    ['1500e0', '1500'],
    ['15e2', '1500'],
    ['1E', '1E'],
    ['-2048Ki', '-2Mi'],
    ['-1.5', '-1500m'],
    ['0Gi', '0'],
    ['0.1n', '1n'],
    [1e21, '1e21'],
  ])('%j → %s', (input, canonical) => {
    expect(canonicalQuantity(input)).toBe(canonical);
  });

  it('is undefined for what is not a quantity', () => {
    expect(canonicalQuantity('lots')).toBeUndefined();
    expect(canonicalQuantity(true)).toBeUndefined();
  });
});

describe('compareQuantities', () => {
  it('compares exactly across notations', () => {
    const cmp = (a: string, b: string) => compareQuantities(parseQuantityExact(a), parseQuantityExact(b));
    expect(cmp('1', '1000m')).toBe(0);
    expect(cmp('1Gi', '1G')).toBe(1);
    expect(cmp('999m', '1')).toBe(-1);
    expect(cmp('1.15Gi', '1177Mi')).toBe(1); // 1.15Gi = 1177.6Mi
    expect(cmp('1.15Gi', '1178Mi')).toBe(-1);
    expect(cmp('0.1', '100m')).toBe(0);
  });
});
