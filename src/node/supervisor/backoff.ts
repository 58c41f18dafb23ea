/** Restart back-off for supervised daemons: pure, so the policy is tested without processes. */

export interface BackoffPolicy {
  /** First delay after an exit. */
  initialMs: number;
  /** The delay doubles up to this. */
  maxMs: number;
  /** A run that stayed healthy (ready) this long resets the delay to initialMs. */
  resetAfterMs: number;
}

/** 1 s doubling to 30 s, reset after 60 s of healthy running. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

/**
 * The delay before restarting a daemon that just exited.
 *
 * @param previousDelayMs the delay used before the run that ended (0 when it was the first run)
 * @param healthyMs how long that run was ready before it exited (0 when it never got ready)
 */
export function nextRestartDelay(previousDelayMs: number, healthyMs: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (previousDelayMs <= 0 || healthyMs >= policy.resetAfterMs) return policy.initialMs;
  return Math.min(previousDelayMs * 2, policy.maxMs);
}
