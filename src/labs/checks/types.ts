/**
 * A check kind: the parameters it takes in lab.yaml (a zod schema, so lab files are
 * validated with field paths) and how it looks at the cluster. Every kind says what it
 * expected and what it saw, so a failing check explains itself.
 */
import type * as z from 'zod';
import type { LabEngine } from '../engines.js';
import type { Clock } from '../poller.js';
import type { ClusterView } from '../view.js';

export interface Observation {
  ok: boolean;
  /** What the cluster showed, in words: "2 running (web.1 on leader, web.3 on worker2)". */
  observed: string;
  /** The probe's figures, from a probe check: a step that `measures` an event keeps them. */
  figures?: ProbeWindow;
}

/** What the probe app counted since its last reset (the start of the window). */
export interface ProbeWindow {
  windowStartedAt: string | null;
  requests: number;
  failed: number;
  /** The longest run of failed requests (s). */
  downtimeSeconds: number;
  failuresByReason: Record<string, number>;
  latencyP95Ms: number | null;
}

export interface CheckContext {
  view: ClusterView;
  engine: LabEngine;
  /** Environment for commands that talk to the cluster (script checks). */
  env: Record<string, string>;
  /** The lab's folder: script checks run there. */
  cwd: string;
  clock: Clock;
  signal?: AbortSignal;
}

export interface CheckKind<P> {
  /** The key in lab.yaml: `- replicas: {…}`. */
  readonly name: string;
  /** One line for the README and the JSON Schema. */
  readonly summary: string;
  readonly params: z.ZodType<P>;
  /**
   * Measured checks watch the cluster for a window themselves (availability): the poller
   * does not repeat them for the confirmation window.
   */
  readonly measured?: boolean;
  /** What passing means: "3 running replicas of service web". */
  expected(params: P, engine: LabEngine): string;
  evaluate(params: P, ctx: CheckContext): Promise<Observation>;
}

/** "1 replica", "3 replicas". */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}
