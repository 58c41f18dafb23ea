/**
 * `availability: {node: leader, port: 8080, seconds: 10}`: a URL keeps answering for a
 * measured window: the "no failed request while …" of a rolling update or a failover.
 */
import * as z from 'zod';
import { describeTarget, httpGet, httpTargetFields, judgeAnswer, resolveUrl, targetProblem, type HttpTarget } from './http.js';
import type { CheckKind } from './types.js';

const params = z
  .strictObject({
    ...httpTargetFields,
    seconds: z.number().positive().max(600).meta({ description: 'Length of the measured window.' }),
    intervalMs: z.int().min(50).max(10_000).default(250).meta({ description: 'Time between requests.' }),
    maxFailures: z.int().min(0).default(0).meta({ description: 'Failed requests allowed in the window.' }),
    timeoutMs: z.int().min(100).max(60_000).default(2_000).meta({ description: 'How long one request may take.' }),
  })
  .superRefine((p, ctx) => {
    const problem = targetProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { hint: 'like {node: leader, port: 8080, seconds: 10}' } });
  });

type Params = z.output<typeof params> & HttpTarget;

export interface WindowStats {
  requests: number;
  failures: number;
  /** Longest run of consecutive failures, from its first failed request to the next success (or window end). */
  longestOutageMs: number;
  lastFailure: string;
}

export const availabilityCheck: CheckKind<Params> = {
  name: 'availability',
  summary: 'a URL keeps answering during a measured window, with at most N failed requests',
  params,
  measured: true,
  expected: (p) => `${describeTarget(p)} answers for ${p.seconds} s with at most ${p.maxFailures} failed request${p.maxFailures === 1 ? '' : 's'}`,
  async evaluate(p, ctx) {
    const { url, problem } = await resolveUrl(p, ctx);
    if (!url) return { ok: false, observed: problem ?? 'no URL' };
    const stats: WindowStats = { requests: 0, failures: 0, longestOutageMs: 0, lastFailure: '' };
    const started = ctx.clock.now();
    const end = started + p.seconds * 1000;
    let outageStart: number | undefined;
    while (ctx.clock.now() < end && !ctx.signal?.aborted) {
      const sentAt = ctx.clock.now();
      const verdict = judgeAnswer(p, await httpGet(url, p.timeoutMs));
      stats.requests++;
      if (verdict.ok) {
        if (outageStart !== undefined) stats.longestOutageMs = Math.max(stats.longestOutageMs, sentAt - outageStart);
        outageStart = undefined;
      } else {
        stats.failures++;
        stats.lastFailure = verdict.seen;
        outageStart ??= sentAt;
      }
      const wait = sentAt + p.intervalMs - ctx.clock.now();
      if (wait > 0) await ctx.clock.sleep(Math.min(wait, Math.max(0, end - ctx.clock.now())), ctx.signal);
    }
    if (outageStart !== undefined) stats.longestOutageMs = Math.max(stats.longestOutageMs, ctx.clock.now() - outageStart);
    const window = ((ctx.clock.now() - started) / 1000).toFixed(1);
    const failed =
      stats.failures === 0
        ? 'none failed'
        : `${stats.failures} failed (longest outage ${(stats.longestOutageMs / 1000).toFixed(1)} s; last: ${stats.lastFailure})`;
    return { ok: stats.failures <= p.maxFailures && stats.requests > 0, observed: `${url}: ${stats.requests} requests in ${window} s, ${failed}` };
  },
};
