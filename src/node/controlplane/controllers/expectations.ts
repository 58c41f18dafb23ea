/**
 * What a controller is still waiting to see in its informer after acting (kube's
 * UIDTrackingControllerExpectations): after creating 3 pods, a sync that runs before the
 * cache shows them would create 3 more. A key syncs again only once every create and delete
 * it asked for has been observed — or after a timeout, in case an event was lost.
 */

/** Kubernetes' ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  creations: number;
  /** Keys (namespace/name) of pods whose deletion has not been observed yet. */
  deletions: Set<string>;
  setAtMs: number;
}

export class Expectations {
  private readonly byKey = new Map<string, Expectation>();

  constructor(
    private readonly timeoutMs: number = EXPECTATIONS_TIMEOUT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the controller may act on `key` (nothing outstanding, or the wait expired). */
  satisfied(key: string): boolean {
    const expectation = this.byKey.get(key);
    if (expectation === undefined) return true;
    if (expectation.creations <= 0 && expectation.deletions.size === 0) return true;
    return this.now() - expectation.setAtMs > this.timeoutMs;
  }

  expectCreations(key: string, count: number): void {
    this.byKey.set(key, { creations: count, deletions: new Set(), setAtMs: this.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.byKey.set(key, { creations: 0, deletions: new Set(podKeys), setAtMs: this.now() });
  }

  creationObserved(key: string): void {
    const expectation = this.byKey.get(key);
    if (expectation !== undefined && expectation.creations > 0) expectation.creations -= 1;
  }

  deletionObserved(key: string, podKey: string): void {
    this.byKey.get(key)?.deletions.delete(podKey);
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }
}
