import { describe, expect, it } from 'vitest';
import { parseCpus, parseQuantityBytes } from '../../src/cluster/quantity.js';

const Ki = 1024;
const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const Ti = 1024 ** 4;

describe('parseQuantityBytes', () => {
  it.each<[string | number, number]>([
    // plain bytes
    [0, 0],
    [1024, 1024],
    [1.2, 2], // rounded up, as Kubernetes does
    ['1024', 1024],
    ['0.1', 1],
    // Kubernetes binary suffixes
    ['1Ki', Ki],
    ['512Mi', 512 * Mi],
    ['1.5Gi', 1.5 * Gi],
    ['.5Gi', 0.5 * Gi],
    ['1.15Gi', 1234803098], // exact: ceil(1.15 * 2^30), no binary-fraction error
    ['2Ti', 2 * Ti],
    ['1Pi', 1024 ** 5],
    // Kubernetes decimal suffixes
    ['1k', 1000],
    ['256M', 256_000_000],
    ['1.5G', 1_500_000_000],
    ['1T', 1e12],
    // docker style: powers of 1024, any case, optional b / ib
    ['512m', 512 * Mi],
    ['1g', Gi],
    ['2K', 2 * Ki],
    ['512MiB', 512 * Mi],
    ['512mib', 512 * Mi],
    ['512MB', 512 * Mi],
    ['1gb', Gi],
    ['100b', 100],
    ['100B', 100],
    ['1 GiB', Gi],
    ['  64Mi  ', 64 * Mi],
  ])('%j is %d bytes', (input, bytes) => {
    expect(parseQuantityBytes(input)).toBe(bytes);
  });

  it.each<[string | number, RegExp]>([
    ['lots', /invalid memory quantity "lots"/],
    ['', /invalid memory quantity ""/],
    ['-1Gi', /invalid memory quantity/],
    ['1Xi', /invalid memory quantity/],
    ['1.5.5Gi', /invalid memory quantity/],
    ['Gi', /invalid memory quantity/],
    ['1mi', /invalid memory quantity/],
    ['1bb', /invalid memory quantity/],
    ['1e3', /invalid memory quantity/],
    ['1Ei', /too large/],
    ['9999999999T', /too large/],
    [-1, /non-negative/],
    [Number.NaN, /non-negative/],
    [Number.POSITIVE_INFINITY, /non-negative/],
  ])('%j is rejected', (input, message) => {
    expect(() => parseQuantityBytes(input)).toThrow(message);
  });
});

describe('parseCpus', () => {
  it.each<[string | number, number]>([
    [1, 1],
    [1.5, 1.5],
    [0.25, 0.25],
    ['1.5', 1.5],
    ['.5', 0.5],
    [' 2 ', 2],
    ['500m', 0.5],
    ['250m', 0.25],
    ['1500m', 1.5],
    ['1m', 0.001],
  ])('%j is %d cores', (input, cores) => {
    expect(parseCpus(input)).toBe(cores);
  });

  it.each<[string | number, RegExp]>([
    [0, /must be greater than 0/],
    [-1, /must be greater than 0/],
    [Number.NaN, /must be greater than 0/],
    ['0', /must be greater than 0/],
    ['0m', /must be greater than 0/],
    ['lots', /invalid CPU count "lots": expected cores like 1.5 or millicores like "500m"/],
    ['', /invalid CPU count/],
    ['1.5m', /invalid CPU count/],
    ['-1', /invalid CPU count/],
    ['1e3', /invalid CPU count/],
    ['2 cores', /invalid CPU count/],
  ])('%j is rejected', (input, message) => {
    expect(() => parseCpus(input)).toThrow(message);
  });
});
