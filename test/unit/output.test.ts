import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatTable, parseOutputFormat } from '../../src/cli/output.js';
import { shellExports } from '../../src/cli/env.js';
import { parseCount } from '../../src/cli/args.js';
import { UsageError } from '../../src/common/errors.js';

describe('formatTable', () => {
  it('aligns columns kubectl-style, three spaces apart, no trailing blanks', () => {
    const out = formatTable(['NAME', 'ROLE', 'ADDRESS'], [['leader', 'manager', '172.30.0.2'], ['worker1', 'worker', '']]);
    expect(out).toBe('NAME      ROLE      ADDRESS\nleader    manager   172.30.0.2\nworker1   worker\n');
  });
});

describe('parseOutputFormat', () => {
  it.each([[undefined, 'table'], ['json', 'json'], ['yaml', 'yaml'], ['wide', 'wide']])('%s → %s', (input, expected) => {
    expect(parseOutputFormat(input)).toBe(expected);
  });
  it('refuses an unknown format with a usage error', () => {
    expect(() => parseOutputFormat('xml')).toThrow(UsageError);
  });
});

describe('formatAge and formatBytes', () => {
  it.each([[5_000, '5s'], [130_000, '2m10s'], [11 * 60_000, '11m'], [5 * 3600_000, '5h'], [3 * 86400_000, '3d']])('%d ms → %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
  it.each([[512, '512B'], [1536, '1.5KiB'], [73 * 1024 * 1024, '73MiB']])('%d → %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe('shellExports', () => {
  const vars = { DOCKER_HOST: 'tcp://127.0.0.1:5000', DOCKER_TLS_VERIFY: '1' };
  it('speaks bash, fish and powershell', () => {
    expect(shellExports(vars, 'bash')).toEqual(['export DOCKER_HOST="tcp://127.0.0.1:5000"', 'export DOCKER_TLS_VERIFY="1"']);
    expect(shellExports(vars, 'fish')).toEqual(['set -gx DOCKER_HOST "tcp://127.0.0.1:5000";', 'set -gx DOCKER_TLS_VERIFY "1";']);
    expect(shellExports(vars, 'powershell')[0]).toBe('$Env:DOCKER_HOST = "tcp://127.0.0.1:5000"');
  });
  it('unsets', () => {
    expect(shellExports({ DOCKER_HOST: undefined }, 'bash')).toEqual(['unset DOCKER_HOST']);
    expect(shellExports({ DOCKER_HOST: undefined }, 'fish')).toEqual(['set -e DOCKER_HOST;']);
  });
});

describe('parseCount', () => {
  it('accepts whole numbers in range and names the flag otherwise', () => {
    expect(parseCount('3', '--nodes', 1, 20)).toBe(3);
    expect(() => parseCount('0', '--nodes', 1, 20)).toThrow(/--nodes must be a whole number from 1 to 20, got "0"/);
    expect(() => parseCount('2.5', '--nodes', 1, 20)).toThrow(UsageError);
    expect(() => parseCount('many', '--nodes', 1, 20)).toThrow(UsageError);
  });
});
