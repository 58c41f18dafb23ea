/**
 * The set of daemons of one node: starts them, prints `node-ready` whenever all of them are
 * ready (again after a restart), and stops them in reverse order on shutdown.
 */
import type { BackoffPolicy } from './backoff.js';
import { DaemonRunner, type DaemonSpec } from './daemon.js';
import type { Emit } from './events.js';

export interface SupervisorOptions {
  emit: Emit;
  logDir: string;
  backoff?: BackoffPolicy;
  logRotateBytes?: number;
}

/** How long the daemons get to stop after SIGTERM before they are killed. */
export const STOP_TIMEOUT_MS = 15_000;

export class Supervisor {
  private readonly runners: DaemonRunner[];
  private announced = false;
  private shuttingDown = false;

  constructor(
    specs: DaemonSpec[],
    private readonly opts: SupervisorOptions,
  ) {
    const names = new Set<string>();
    for (const spec of specs) {
      if (names.has(spec.name)) throw new Error(`daemon ${spec.name} listed twice`);
      names.add(spec.name);
    }
    this.runners = specs.map(
      (spec) =>
        new DaemonRunner(spec, {
          emit: opts.emit,
          logDir: opts.logDir,
          onChange: () => this.onChange(),
          ...(opts.backoff ? { backoff: opts.backoff } : {}),
          ...(opts.logRotateBytes ? { logRotateBytes: opts.logRotateBytes } : {}),
        }),
    );
  }

  /** Starts every daemon, in the order given. */
  start(): void {
    for (const runner of this.runners) runner.start();
  }

  get ready(): boolean {
    return this.runners.every((r) => r.ready);
  }

  private onChange(): void {
    if (this.shuttingDown) return;
    if (!this.ready) {
      this.announced = false;
    } else if (!this.announced) {
      this.announced = true;
      this.opts.emit({ event: 'node-ready', message: this.runners.map((r) => `${r.spec.name}:${r.pid}`).join(' ') });
    }
  }

  /** Stops every daemon, last started first, all within `timeoutMs`; then the leftovers are killed. */
  async shutdown(timeoutMs: number = STOP_TIMEOUT_MS): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.opts.emit({ event: 'stopping', message: `stopping ${this.runners.length} daemon(s)` });
    const deadline = Date.now() + timeoutMs;
    for (const runner of [...this.runners].reverse()) await runner.stop(deadline);
    this.opts.emit({ event: 'stopped', message: 'all daemons stopped' });
  }
}
