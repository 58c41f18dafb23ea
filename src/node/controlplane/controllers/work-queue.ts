/**
 * The controllers' work queue, as client-go's: keys (`namespace/name`) rather than objects,
 * so ten changes to one object while it waits cost one sync; a key is never handed to two
 * workers at once; a failed sync comes back after a growing per-key delay.
 */

export interface WorkQueueOptions {
  /** First retry delay of a failing key; doubles per failure up to maxRetryMs. */
  baseRetryMs?: number;
  maxRetryMs?: number;
  log?: (line: string) => void;
}

export type SyncFn = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly order: string[] = [];
  private readonly running = new Set<string>();
  /** Keys added again while their sync was running: they go back in when it ends. */
  private readonly dirtyWhileRunning = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly baseRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly name: string,
    private readonly opts: WorkQueueOptions = {},
  ) {
    this.baseRetryMs = opts.baseRetryMs ?? 5;
    this.maxRetryMs = opts.maxRetryMs ?? 60_000;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirtyWhileRunning.add(key);
      return;
    }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.order.push(key);
    this.wake?.();
  }

  /** Adds the key after a delay (e.g. a Deployment's progress deadline, minReadySeconds). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Keys waiting (not running): tests and diagnostics. */
  length(): number {
    return this.order.length;
  }

  /**
   * Runs `sync` for queued keys with up to `workers` at a time until the signal aborts.
   * A throwing sync is retried later with back-off; a succeeding one resets the back-off.
   */
  async run(sync: SyncFn, signal: AbortSignal, workers: number = 1): Promise<void> {
    const stop = (): void => {
      this.stopped = true;
      for (const timer of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
      this.wake?.();
    };
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    await Promise.all(Array.from({ length: Math.max(1, workers) }, () => this.worker(sync)));
  }

  private async worker(sync: SyncFn): Promise<void> {
    while (!this.stopped) {
      const key = this.order.shift();
      if (key === undefined) {
        await new Promise<void>((resolve) => {
          const previous = this.wake;
          this.wake = () => {
            this.wake = undefined;
            previous?.();
            resolve();
          };
        });
        continue;
      }
      this.pending.delete(key);
      this.running.add(key);
      try {
        await sync(key);
        this.failures.delete(key);
      } catch (err) {
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        const delay = Math.min(this.maxRetryMs, this.baseRetryMs * 2 ** Math.min(failures - 1, 20));
        this.opts.log?.(`${this.name}: syncing ${key} failed (retry in ${delay} ms): ${err instanceof Error ? err.message : String(err)}`);
        this.addAfter(key, delay);
      } finally {
        this.running.delete(key);
        if (this.dirtyWhileRunning.delete(key)) this.add(key);
      }
    }
  }
}
