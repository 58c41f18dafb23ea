// The supervisor's daemon runner with real (tiny Node.js) processes: no Docker needed.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../src/common/node-config.js';
import type { DaemonSpec } from '../../src/node/supervisor/daemon.js';
import type { Emit } from '../../src/node/supervisor/events.js';
import { httpProbe } from '../../src/node/supervisor/probes.js';
import { Supervisor } from '../../src/node/supervisor/supervisor.js';

const FAST = { initialMs: 20, maxMs: 80, resetAfterMs: 60_000 };

function recorder(): { emit: Emit; events: Omit<SupervisorEvent, 'ts'>[] } {
  const events: Omit<SupervisorEvent, 'ts'>[] = [];
  return { emit: (e) => events.push(e), events };
}

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function nodeDaemon(name: string, script: string, extra: Partial<DaemonSpec> = {}): DaemonSpec {
  return { name, command: process.execPath, args: ['-e', script], ...extra };
}

const count = (events: Omit<SupervisorEvent, 'ts'>[], event: string, daemon?: string): number =>
  events.filter((e) => e.event === event && (daemon === undefined || e.daemon === daemon)).length;

describe('Supervisor', () => {
  let dir: string | undefined;
  let supervisor: Supervisor | undefined;
  afterEach(async () => {
    await supervisor?.shutdown(1_000);
    supervisor = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('announces node-ready when all are ready, restarts a killed daemon, and stops all', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-sup-'));
    const socket = path.join(dir, 'api.sock');
    const { emit, events } = recorder();
    supervisor = new Supervisor(
      [
        nodeDaemon('sleeper', 'console.log("sleeper up"); setInterval(() => {}, 1000)'),
        // Serves /_ping on a unix socket after a short delay, like dockerd.
        nodeDaemon(
          'api',
          `const http = require('http'); require('fs').rmSync(${JSON.stringify(socket)}, { force: true });
           setTimeout(() => http.createServer((q, s) => s.end('OK')).listen(${JSON.stringify(socket)}), 150);
           console.error('api starting');`,
          { probe: httpProbe({ socketPath: socket, path: '/_ping', expectBody: 'OK' }), probeIntervalMs: 20 },
        ),
      ],
      { emit, logDir: dir, backoff: FAST },
    );
    supervisor.start();
    await waitFor(() => count(events, 'node-ready') === 1);
    expect(count(events, 'ready')).toBe(2);
    const apiPid = events.find((e) => e.event === 'started' && e.daemon === 'api')!.pid!;

    process.kill(apiPid, 'SIGKILL');
    await waitFor(() => count(events, 'node-ready') === 2);
    const exited = events.find((e) => e.event === 'exited');
    expect(exited).toMatchObject({ daemon: 'api', signal: 'SIGKILL' });
    expect(events.find((e) => e.event === 'restarting')).toMatchObject({ daemon: 'api', message: 'in 0.02 s' });
    // node-ready only after the restarted daemon is ready again
    const order = events.map((e) => `${e.event}${e.daemon ? `:${e.daemon}` : ''}`);
    expect(order.lastIndexOf('node-ready')).toBeGreaterThan(order.lastIndexOf('ready:api'));

    await supervisor.shutdown(2_000);
    expect(count(events, 'stopped', 'api')).toBe(1);
    expect(count(events, 'stopped', 'sleeper')).toBe(1);
    expect(events.at(-1)).toMatchObject({ event: 'stopped', message: 'all daemons stopped' });
    // stopped in reverse order of start
    expect(events.filter((e) => e.event === 'stopped' && e.daemon).map((e) => e.daemon)).toEqual(['api', 'sleeper']);
    expect(count(events, 'exited')).toBe(1);

    const log = await readFile(path.join(dir, 'api.log'), 'utf8');
    expect(log.match(/^api starting$/gm)).toHaveLength(2);
    expect(log).toMatch(/exited \(code null, signal SIGKILL\)/);
    expect(await readFile(path.join(dir, 'sleeper.log'), 'utf8')).toMatch(/sleeper up/);
  });

  it('kills a daemon that ignores SIGTERM when the stop timeout passes', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-sup-'));
    const { emit, events } = recorder();
    const marker = path.join(dir, 'handler-installed');
    const stubborn = nodeDaemon(
      'stubborn',
      `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(marker)}, ''); setInterval(() => {}, 1000)`,
      { probe: async () => existsSync(marker), probeIntervalMs: 10 },
    );
    supervisor = new Supervisor([stubborn], {
      emit,
      logDir: dir,
      backoff: FAST,
    });
    supervisor.start();
    await waitFor(() => count(events, 'node-ready') === 1);
    const started = Date.now();
    await supervisor.shutdown(300);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(events.find((e) => e.event === 'stopped' && e.daemon === 'stubborn')).toMatchObject({ signal: 'SIGKILL' });
  });

  it('backs off a daemon that cannot start, and never announces the node', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-sup-'));
    const { emit, events } = recorder();
    supervisor = new Supervisor([{ name: 'ghost', command: path.join(dir, 'no-such-binary'), args: [] }], {
      emit,
      logDir: dir,
      backoff: FAST,
    });
    supervisor.start();
    await waitFor(() => count(events, 'restarting') >= 4);
    expect(events.filter((e) => e.event === 'restarting').map((e) => e.message).slice(0, 4)).toEqual([
      'in 0.02 s',
      'in 0.04 s',
      'in 0.08 s',
      'in 0.08 s',
    ]);
    expect(events.find((e) => e.event === 'exited')?.message).toMatch(/ENOENT/);
    expect(count(events, 'node-ready')).toBe(0);
  });
});
