/**
 * One supervised daemon: spawn it, send its output to a rotating log file, probe it until it
 * is ready, restart it with back-off when it exits, stop it on request.
 *
 * A daemon is a DaemonSpec (name, command, args, readiness probe); dockerd is the first, and
 * etcd, the API server and the agent become more entries later.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BACKOFF, nextRestartDelay, type BackoffPolicy } from './backoff.js';
import type { Emit } from './events.js';
import { RotatingLogFile } from './log-file.js';

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  /** Added to the supervisor's environment. */
  env?: Record<string, string>;
  /** Runs before every start, restarts included (clean stale files, wait for a dependency). */
  beforeStart?: () => Promise<void>;
  /** Resolves true once the daemon serves. Without a probe a daemon is ready once spawned. */
  probe?: (signal: AbortSignal) => Promise<boolean>;
  /** Pause between probes; 200 ms unless told. */
  probeIntervalMs?: number;
  /** Print an `error` event once when a run is not ready after this long; 60 s unless told. */
  notReadyWarningMs?: number;
}

export interface DaemonDeps {
  emit: Emit;
  /** Output goes to `${logDir}/<name>.log`. */
  logDir: string;
  /** Called whenever readiness may have changed (ready, exited, stopped). */
  onChange: () => void;
  backoff?: BackoffPolicy;
  logRotateBytes?: number;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class DaemonRunner {
  private readonly log: RotatingLogFile;
  private readonly backoff: BackoffPolicy;
  private child: ChildProcess | undefined;
  /** Generation of the current run: callbacks of older runs do nothing. */
  private run = 0;
  private readyAt: number | undefined;
  private lastDelayMs = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private probeAbort: AbortController | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    readonly spec: DaemonSpec,
    private readonly deps: DaemonDeps,
  ) {
    this.log = new RotatingLogFile(path.join(deps.logDir, `${spec.name}.log`), deps.logRotateBytes);
    this.backoff = deps.backoff ?? DEFAULT_BACKOFF;
  }

  get ready(): boolean {
    return this.child !== undefined && this.readyAt !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopping) return;
    this.restartTimer = undefined;
    this.launch().catch((err: unknown) => {
      this.deps.emit({ event: 'error', daemon: this.spec.name, message: `start failed: ${String(err)}` });
      this.scheduleRestart(0);
    });
  }

  private async launch(): Promise<void> {
    const run = ++this.run;
    const { name, command, args } = this.spec;
    this.deps.emit({ event: 'starting', daemon: name, message: [command, ...args].join(' ') });
    await this.spec.beforeStart?.();
    if (this.stopping || run !== this.run) return;

    this.log.write(`\n=== clusterlab supervisor ${new Date().toISOString()}: starting ${[command, ...args].join(' ')}\n`);
    // detached: the daemon leads its own process group, so a signal the supervisor gets (tini
    // forwards docker stop's SIGTERM to our group) does not reach it: the supervisor stops the
    // daemons itself, in order, and can kill a daemon's leftover children by group.
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: DEFAULT_PATH, ...process.env, ...this.spec.env },
    });
    this.child = child;
    this.readyAt = undefined;
    const startedAt = Date.now();
    let markExited: () => void = () => {};
    this.exited = new Promise<void>((resolve) => (markExited = resolve));

    child.stdout?.on('data', (chunk: Buffer) => this.log.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.log.write(chunk));

    let gone = false;
    const onGone = (code: number | null, signal: NodeJS.Signals | null, message?: string): void => {
      if (gone) return;
      gone = true;
      this.probeAbort?.abort();
      if (this.child === child) this.child = undefined;
      markExited();
      this.handleExit(run, child.pid, startedAt, code, signal, message);
    };
    child.on('exit', (code, signal) => onGone(code, signal));
    child.on('error', (err) => {
      // Spawn failures (ENOENT, EACCES) have no pid and no 'exit'; other errors are just reported.
      if (child.pid === undefined) onGone(null, null, err.message);
      else this.deps.emit({ event: 'error', daemon: name, pid: child.pid, message: err.message });
    });
    if (child.pid === undefined) return;

    this.deps.emit({ event: 'started', daemon: name, pid: child.pid });
    void this.probeUntilReady(run, child.pid, startedAt);
  }

  private async probeUntilReady(run: number, pid: number, startedAt: number): Promise<void> {
    const abort = new AbortController();
    this.probeAbort = abort;
    const probe = this.spec.probe;
    const warnAfter = this.spec.notReadyWarningMs ?? 60_000;
    let warned = false;
    while (!abort.signal.aborted && run === this.run) {
      let ok = true;
      if (probe) {
        try {
          ok = await probe(abort.signal);
        } catch {
          ok = false;
        }
      }
      if (abort.signal.aborted || run !== this.run || this.child?.pid !== pid) return;
      if (ok) {
        this.readyAt = Date.now();
        this.deps.emit({ event: 'ready', daemon: this.spec.name, pid, message: `ready after ${this.readyAt - startedAt} ms` });
        this.deps.onChange();
        return;
      }
      if (!warned && Date.now() - startedAt >= warnAfter) {
        warned = true;
        this.deps.emit({
          event: 'error',
          daemon: this.spec.name,
          pid,
          message: `not ready after ${Math.round(warnAfter / 1000)} s; see ${this.log.file}`,
        });
      }
      try {
        await sleep(this.spec.probeIntervalMs ?? 200, undefined, { signal: abort.signal });
      } catch {
        return;
      }
    }
  }

  private handleExit(
    run: number,
    pid: number | undefined,
    startedAt: number,
    code: number | null,
    signal: NodeJS.Signals | null,
    message: string | undefined,
  ): void {
    const name = this.spec.name;
    // Whatever the daemon left in its process group (helpers, proxies) goes with it.
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    this.log.write(
      `=== clusterlab supervisor ${new Date().toISOString()}: ${name} exited (code ${code}, signal ${signal})${message ? `: ${message}` : ''}\n`,
    );
    const healthyMs = this.readyAt !== undefined ? Date.now() - this.readyAt : 0;
    this.readyAt = undefined;
    if (this.stopping) {
      this.deps.emit({ event: 'stopped', daemon: name, ...(pid !== undefined ? { pid } : {}), code, signal });
      this.deps.onChange();
      return;
    }
    this.deps.emit({
      event: 'exited',
      daemon: name,
      ...(pid !== undefined ? { pid } : {}),
      code,
      signal,
      message: message ?? `ran ${Math.round((Date.now() - startedAt) / 100) / 10} s`,
    });
    this.deps.onChange();
    if (run === this.run) this.scheduleRestart(healthyMs);
  }

  private scheduleRestart(healthyMs: number): void {
    if (this.stopping) return;
    const delay = nextRestartDelay(this.lastDelayMs, healthyMs, this.backoff);
    this.lastDelayMs = delay;
    this.deps.emit({ event: 'restarting', daemon: this.spec.name, message: `in ${delay / 1000} s` });
    this.restartTimer = setTimeout(() => this.start(), delay);
  }

  /**
   * Stops the daemon: no more restarts, SIGTERM, and SIGKILL to its process group when it is
   * still there at `deadline` (epoch ms).
   */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.probeAbort?.abort();
    const child = this.child;
    if (child === undefined || child.pid === undefined) {
      this.log.close();
      return;
    }
    const pid = child.pid;
    this.deps.emit({ event: 'stopping', daemon: this.spec.name, pid });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    if (!(await settlesWithin(this.exited, deadline - Date.now()))) {
      this.deps.emit({ event: 'error', daemon: this.spec.name, pid, message: 'did not stop in time; killing it' });
      killGroup(pid, 'SIGKILL');
      await settlesWithin(this.exited, 2_000);
    }
    this.log.close();
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // no such group: nothing left
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
