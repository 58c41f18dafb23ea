/**
 * Per-key exponential back-off as the kubelet's flowcontrol.Backoff: 10 s doubling to 5 min,
 * forgotten once nothing happened for twice the maximum (so a container that ran for 10
 * minutes before crashing starts again at 10 s). Pure: time comes in as arguments.
 */

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const CONTAINER_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly policy: BackoffPolicy = CONTAINER_BACKOFF) {}

  /**
   * How long until `key` may act again, counting the current delay from eventMs (a crash's
   * finishedAt); 0 = not backing off.
   */
  remainingSince(key: string, eventMs: number, nowMs: number): number {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, eventMs)) return 0;
    return Math.max(0, eventMs + entry.delayMs - nowMs);
  }

  /** As remainingSince, counting from the last next() (image pulls). */
  remainingSinceUpdate(key: string, nowMs: number): number {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, nowMs)) return 0;
    return Math.max(0, entry.lastUpdateMs + entry.delayMs - nowMs);
  }

  /** Records another failure: the first gets the initial delay, later ones double it. */
  next(key: string, eventMs: number, nowMs: number): number {
    const entry = this.entries.get(key);
    const delayMs = !entry || this.expired(entry, eventMs) ? this.policy.initialMs : Math.min(entry.delayMs * 2, this.policy.maxMs);
    this.entries.set(key, { delayMs, lastUpdateMs: nowMs });
    return delayMs;
  }

  /** The delay currently in force for key (0 when none). */
  currentDelay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key starting with prefix (a deleted pod's containers). */
  forgetPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private expired(entry: Entry, eventMs: number): boolean {
    return eventMs - entry.lastUpdateMs > 2 * this.policy.maxMs;
  }
}

/** "10s", "2m40s", "5m0s": Go's time.Duration text, as kubelet messages show it. */
export function goDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m${seconds % 60}s`;
}
