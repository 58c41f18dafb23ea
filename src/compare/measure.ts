/**
 * One event on one cluster, measured: bring the app to its steady state, start a fresh
 * probe window, make the event happen, watch the cluster through its API until it is back
 * to normal (or the event's limit passes), let the probe finish counting, read its figures,
 * then undo what the event changed so the next one starts from the same place.
 */
import { InterruptedError } from '../common/errors.js';
import { httpGet } from '../labs/checks/http.js';
import type { Clock } from '../labs/poller.js';
import { readProbeStats } from '../labs/probe-stats.js';
import type { ClusterView, LabNode, Workload } from '../labs/view.js';
import { APP_REPLICAS, WEB_V1, WEB_V2, WORKLOAD, type EngineDriver } from './app.js';
import type { CompareEvent } from './events.js';
import type { EventFigures, ProbeFigures } from './figures.js';

export interface MeasureContext {
  view: ClusterView;
  driver: EngineDriver;
  clock: Clock;
  signal?: AbortSignal | undefined;
  /** Runs an action script against the cluster; throws when it fails. */
  run(script: string): Promise<void>;
  /** Powers a node off (kill) or on (start, returning once it has rejoined). */
  power(node: string, action: 'kill' | 'start'): Promise<void>;
  /** Progress, for the CLI's status line. */
  progress?: (text: string) => void;
}

/** How often the cluster is looked at while an event plays out. */
const POLL_MS = 500;
/** The probe's answers take up to its timeout to come back: wait that long before reading. */
const SETTLE_MS = 3_000;
/** Normal traffic before the event, so the window starts clean. */
const BASELINE_MS = 2_000;
const STEADY_TIMEOUT_MS = 240_000;

export const EVENT_LIMIT_SECONDS: Record<CompareEvent, number> = { crash: 120, 'node-loss': 240, rollout: 240, scale: 240 };

function running(w: Workload | undefined): number {
  return w ? w.replicas.filter((r) => r.running).length : 0;
}

/** The spec asks for `replicas`, and exactly that many replicas exist, all running and ready. */
export function isServing(w: Workload | undefined, replicas: number): boolean {
  return !!w && w.desired === replicas && running(w) === replicas && w.replicas.length === replicas;
}

/** Serving, and no rollout under way: the state an event starts from. */
export function isSteady(w: Workload | undefined, replicas: number): boolean {
  return isServing(w, replicas) && (w!.rollout?.state ?? 'complete') === 'complete';
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError('interrupted: comparison stopped');
}

async function waitUntil(ctx: MeasureContext, what: string, limitMs: number, done: () => Promise<boolean>): Promise<boolean> {
  const end = ctx.clock.now() + limitMs;
  for (;;) {
    throwIfAborted(ctx.signal);
    if (await done().catch(() => false)) return true;
    if (ctx.clock.now() >= end) return false;
    ctx.progress?.(what);
    await ctx.clock.sleep(POLL_MS, ctx.signal);
  }
}

async function statsUrl(ctx: MeasureContext): Promise<string> {
  const nodes = await ctx.view.nodes();
  const node = nodes.find((n) => n.name === ctx.driver.statsNode);
  if (!node?.address) throw new Error(`no address for node ${ctx.driver.statsNode}, where the probe's figures are served`);
  return `http://${node.address}:${ctx.driver.statsPort}`;
}

/** Waits for the app and the probe after setup: every replica ready, the probe answering. */
export async function waitForApp(ctx: MeasureContext): Promise<void> {
  const ok = await waitUntil(ctx, 'waiting for the app', STEADY_TIMEOUT_MS, async () => isSteady(await ctx.view.workload(WORKLOAD), APP_REPLICAS));
  if (!ok) throw new Error(`the app did not get ${APP_REPLICAS} ready replicas within ${STEADY_TIMEOUT_MS / 1000} s`);
  const url = await statsUrl(ctx);
  const probeUp = await waitUntil(ctx, 'waiting for the probe', STEADY_TIMEOUT_MS, async () => (await readProbeStats(`${url}/stats`)).totals.requests > 0);
  if (!probeUp) throw new Error(`the probe at ${url}/stats did not answer within ${STEADY_TIMEOUT_MS / 1000} s`);
}

function probeFigures(stats: Awaited<ReturnType<typeof readProbeStats>>): ProbeFigures {
  return {
    requests: stats.totals.requests,
    failed: stats.totals.fail,
    downtimeSeconds: Math.round(stats.downtime.longestMs / 100) / 10,
    failuresByReason: stats.failures.byReason,
    latencyP95Ms: stats.latencyMs.p95,
  };
}

/** What an event does, and when the cluster counts as back to normal. */
interface EventPlan {
  /** Not timed: the starting state (scale: down to 1). */
  prepare?(): Promise<void>;
  /** Makes the event happen; returns what was done, in words. */
  trigger(): Promise<string>;
  /** Back to normal. */
  done(w: Workload | undefined): boolean;
  /** Words for the state reached. */
  outcome(w: Workload | undefined): string;
  /** Undoes the event for the next one (not timed). */
  restore?(): Promise<void>;
}

function describeWorkload(w: Workload | undefined): string {
  if (!w) return 'the workload is gone';
  const nodes = new Map<string, number>();
  for (const r of w.replicas.filter((x) => x.running)) nodes.set(r.node, (nodes.get(r.node) ?? 0) + 1);
  const spread = [...nodes.entries()].sort().map(([n, c]) => `${n} ×${c}`).join(', ');
  return `${running(w)} of ${w.desired ?? '?'} running${spread ? ` (${spread})` : ''}`;
}

async function steadyAt(ctx: MeasureContext, replicas: number): Promise<void> {
  const ok = await waitUntil(ctx, `waiting for ${replicas} ready replicas`, STEADY_TIMEOUT_MS, async () => isSteady(await ctx.view.workload(WORKLOAD), replicas));
  if (!ok) throw new Error(`the app did not settle at ${replicas} ready replicas within ${STEADY_TIMEOUT_MS / 1000} s`);
}

function planFor(event: CompareEvent, ctx: MeasureContext): EventPlan {
  const { driver } = ctx;
  switch (event) {
    case 'crash': {
      let restartsBefore = 0;
      return {
        async trigger() {
          const w = await ctx.view.workload(WORKLOAD);
          const victim = w?.replicas.find((r) => r.running);
          if (!w || !victim) throw new Error('no running replica to crash');
          restartsBefore = w.restarts;
          await ctx.run(driver.crash(victim));
          return `killed the container of ${victim.name} on ${victim.node}`;
        },
        done: (w) => !!w && w.restarts > restartsBefore && isServing(w, APP_REPLICAS),
        outcome: (w) => `${w ? w.restarts - restartsBefore : 0} replica(s) restarted or replaced; ${describeWorkload(w)}`,
      };
    }
    case 'node-loss': {
      let lost = '';
      return {
        async trigger() {
          const [w, nodes] = await Promise.all([ctx.view.workload(WORKLOAD), ctx.view.nodes()]);
          lost = busiestWorker(w, nodes, driver.statsNode);
          if (!lost) throw new Error('no worker runs a replica');
          const onIt = w?.replicas.filter((r) => r.running && r.node === lost).length ?? 0;
          await ctx.power(lost, 'kill');
          return `powered ${lost} off (SIGKILL), with ${onIt} replica(s) on it`;
        },
        // Pods on a dead node stay Terminating until it returns (as on any Kubernetes):
        // back to normal is enough replicas running elsewhere.
        done: (w) => !!w && w.desired === APP_REPLICAS && running(w) === APP_REPLICAS && !w.replicas.some((r) => r.running && r.node === lost),
        outcome: (w) => `${describeWorkload(w)}`,
        async restore() {
          await ctx.power(lost, 'start');
        },
      };
    }
    case 'rollout':
      return {
        async trigger() {
          await ctx.run(driver.rollout(WEB_V2));
          return `updated the image ${WEB_V1} → ${WEB_V2}`;
        },
        done: (w) => isServing(w, APP_REPLICAS) && w!.replicas.every((r) => r.image === WEB_V2),
        outcome: (w) => `${describeWorkload(w)}; rollout ${w?.rollout?.state ?? 'unknown'}`,
        async restore() {
          // The next comparison starts from v1 again; nothing else depends on the version.
          await ctx.run(driver.rollout(WEB_V1));
          await steadyAt(ctx, APP_REPLICAS);
        },
      };
    case 'scale':
      return {
        async prepare() {
          await ctx.run(driver.scale(1));
          await steadyAt(ctx, 1);
        },
        async trigger() {
          await ctx.run(driver.scale(10));
          return 'scaled from 1 to 10 replicas';
        },
        done: (w) => isServing(w, 10),
        outcome: (w) => describeWorkload(w),
        async restore() {
          await ctx.run(driver.scale(APP_REPLICAS));
          await steadyAt(ctx, APP_REPLICAS);
        },
      };
  }
}

/** The worker (not the probe's node) running the most replicas: losing it hurts the most. */
export function busiestWorker(w: Workload | undefined, nodes: LabNode[], spare: string): string {
  const counts = new Map<string, number>();
  for (const n of nodes) if (n.role === 'worker' && n.name !== spare && n.ready) counts.set(n.name, 0);
  for (const r of w?.replicas ?? []) if (r.running && counts.has(r.node)) counts.set(r.node, counts.get(r.node)! + 1);
  const [best] = [...counts.entries()].filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return best?.[0] ?? '';
}

/** Runs one event and returns its figures; failures of the event itself are figures too. */
export async function measureEvent(ctx: MeasureContext, event: CompareEvent): Promise<EventFigures> {
  const plan = planFor(event, ctx);
  const limitMs = EVENT_LIMIT_SECONDS[event] * 1000;
  try {
    if (plan.prepare) await plan.prepare();
    else await steadyAt(ctx, APP_REPLICAS);
    const url = await statsUrl(ctx);
    const reset = await httpGet(`${url}/reset`, 3_000);
    if (reset.status !== 200) throw new Error(`could not reset the probe at ${url}/reset: ${reset.error ?? `HTTP ${reset.status}`}`);
    await ctx.clock.sleep(BASELINE_MS, ctx.signal);
    throwIfAborted(ctx.signal);
    const started = ctx.clock.now();
    const what = await plan.trigger();
    let last: Workload | undefined;
    const completed = await waitUntil(ctx, `${event}: waiting until back to normal`, limitMs, async () => {
      last = await ctx.view.workload(WORKLOAD);
      return plan.done(last);
    });
    const seconds = Math.round((ctx.clock.now() - started) / 100) / 10;
    await ctx.clock.sleep(SETTLE_MS, ctx.signal);
    const probe = probeFigures(await readProbeStats(`${url}/stats`));
    const detail = `${what}; ${completed ? `back after ${seconds.toFixed(1)} s` : `not back within ${EVENT_LIMIT_SECONDS[event]} s`}: ${plan.outcome(last)}`;
    await plan.restore?.();
    return { event, completed, seconds: completed ? seconds : null, probe, detail };
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    // Put things back as well as possible, so the next event still means something.
    await plan.restore?.().catch(() => undefined);
    return { event, completed: false, seconds: null, probe: null, detail: 'not measured', error: (err as Error).message };
  }
}
