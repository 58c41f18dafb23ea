import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, nextRestartDelay } from '../../src/node/supervisor/backoff.js';
import { RotatingLogFile } from '../../src/node/supervisor/log-file.js';

describe('nextRestartDelay', () => {
  it('doubles from 1 s up to 30 s while a daemon keeps failing', () => {
    const delays: number[] = [];
    let previous = 0;
    for (let i = 0; i < 8; i++) {
      previous = nextRestartDelay(previous, 500);
      delays.push(previous);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it.each([
    { previous: 30_000, healthy: 60_000, expected: 1_000 },
    { previous: 30_000, healthy: 59_999, expected: 30_000 },
    { previous: 8_000, healthy: 0, expected: 16_000 },
    { previous: 0, healthy: 0, expected: 1_000 },
  ])('after $previous ms and $healthy ms healthy: $expected ms', ({ previous, healthy, expected }) => {
    expect(nextRestartDelay(previous, healthy)).toBe(expected);
  });

  it('follows a custom policy', () => {
    const policy = { ...DEFAULT_BACKOFF, initialMs: 10, maxMs: 25 };
    expect([nextRestartDelay(0, 0, policy), nextRestartDelay(10, 0, policy), nextRestartDelay(20, 0, policy)]).toEqual([10, 20, 25]);
  });
});

describe('RotatingLogFile', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('appends, and moves the file to .1 before it would pass the limit', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-log-'));
    const file = path.join(dir, 'sub', 'dockerd.log');
    const log = new RotatingLogFile(file, 10);
    log.write('12345\n');
    log.write('abc\n');
    log.write('xyz\n'); // 10 + 4 > 10: rotate first
    log.close();
    expect(await readFile(`${file}.1`, 'utf8')).toBe('12345\nabc\n');
    expect(await readFile(file, 'utf8')).toBe('xyz\n');

    const again = new RotatingLogFile(file, 10); // reopening counts the existing size
    again.write('0123456789');
    again.close();
    expect(await readFile(`${file}.1`, 'utf8')).toBe('xyz\n');
    expect(await readFile(file, 'utf8')).toBe('0123456789');
  });
});
