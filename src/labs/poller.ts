/**
 * Polls a set of checks until they all pass or time runs out. A pass counts only when it
 * holds for a confirmation window: a replica count that is right for one instant while a
 * task is still crash-looping is not a pass. The clock is injected, so the timing rules are
 * unit-tested without waiting.
 */

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface PollOptions {
  /** How long the checks may take to pass, from the first round. */
  timeoutMs: number;
  /** Time between rounds. */
  intervalMs: number;
  /** How long a pass must hold; rounds keep running through it. 0: the first passing round counts. */
  confirmMs: number;
  clock: Clock;
  signal?: AbortSignal | undefined;
  /** Told after each round (a spinner shows what is still missing). */
  onRound?: ((round: PollRound) => void) | undefined;
}

export interface PollRound {
  /** 1-based. */
  attempt: number;
  allOk: boolean;
  /** While a pass is being confirmed: since when it holds. */
  okSince: number | undefined;
  /** ms left before the timeout (or before the confirmation ends, while confirming). */
  remainingMs: number;
}

export interface PollOutcome<R> {
  passed: boolean;
  /** The last round's results, one per check. */
  results: R[];
  attempts: number;
  elapsedMs: number;
  /** The run was stopped from outside (Ctrl-C, quit). */
  aborted: boolean;
  /** On a pass: the clock time of the round from which every result held. */
  okSince?: number;
}

/**
 * One evaluation round. `confirming` is true while a pass is being confirmed: measured
 * checks (which watched a window themselves) may return their earlier result then.
 */
export type Evaluate<R extends { ok: boolean }> = (confirming: boolean) => Promise<R[]>;

/**
 * Runs rounds until every result is ok and stays ok for `confirmMs`, or until `timeoutMs`
 * passes. A confirmation started before the timeout may finish after it (at most
 * `confirmMs` later), so the whole run is bounded by timeoutMs + confirmMs + one round.
 */
export async function pollUntilStable<R extends { ok: boolean }>(evaluate: Evaluate<R>, options: PollOptions): Promise<PollOutcome<R>> {
  const { clock, signal } = options;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  let okSince: number | undefined;
  let attempts = 0;
  let results: R[] = [];
  for (;;) {
    const roundStart = clock.now();
    results = await evaluate(okSince !== undefined);
    attempts++;
    const allOk = results.every((r) => r.ok);
    const now = clock.now();
    if (!allOk) okSince = undefined;
    else okSince ??= roundStart;
    const confirmed = okSince !== undefined && now - okSince >= options.confirmMs;
    const remainingMs = okSince !== undefined ? okSince + options.confirmMs - now : deadline - now;
    options.onRound?.({ attempt: attempts, allOk, okSince, remainingMs: Math.max(0, remainingMs) });
    if (confirmed) return { passed: true, results, attempts, elapsedMs: now - started, aborted: false, okSince };
    if (signal?.aborted) return { passed: false, results, attempts, elapsedMs: now - started, aborted: true };
    if (okSince === undefined && now >= deadline) return { passed: false, results, attempts, elapsedMs: now - started, aborted: false };
    await clock.sleep(Math.max(0, Math.min(options.intervalMs, remainingMs)), signal);
  }
}
