/**
 * `probe: {node: leader, port: 8082, maxFailures: 0, seen: {x-app-version: [v2]}}`: what the
 * probe app measured since its last reset, read from its `/stats`: the clients' view of a
 * rollout or a failover (failed requests, the longest outage, which versions answered).
 */
import * as z from 'zod';
import { describeFailureReasons, describeLastFailure, describeTally, readProbeStats, type ProbeStats } from '../probe-stats.js';
import { resolveUrl, targetProblem } from './http.js';
import { plural, type CheckKind } from './types.js';

const params = z
  .strictObject({
    url: z.string().url().optional().meta({ description: "The probe's stats URL, like http://127.0.0.1:8082/stats." }),
    node: z.string().min(1).optional().meta({ description: "Ask this node's address (the probe's host-mode port or NodePort)." }),
    port: z.int().min(1).max(65535).optional().meta({ description: 'Port on the node (with node).' }),
    path: z.string().startsWith('/').default('/stats').meta({ description: 'Path on the node; default /stats.' }),
    minRequests: z.int().min(1).default(20).meta({ description: 'The window holds at least this many requests (default 20).' }),
    maxFailures: z.int().min(0).default(0).meta({ description: 'Failed requests allowed in the window (default 0).' }),
    maxDowntimeSeconds: z.number().min(0).optional().meta({ description: 'The longest run of failures lasts at most this long.' }),
    seen: z
      .record(z.string().min(1), z.array(z.string().min(1)).min(1))
      .optional()
      .meta({ description: 'Each value was seen at least once in this header of successful answers, like {x-app-version: [v2]}.' }),
  })
  .superRefine((p, ctx) => {
    const problem = targetProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { hint: 'like {node: leader, port: 8082}' } });
  });

type Params = z.output<typeof params>;

function describeWhere(p: Params): string {
  return p.url ?? `http://${p.node}:${p.port}${p.path}`;
}

export const probeCheck: CheckKind<Params> = {
  name: 'probe',
  summary: "the probe app's /stats since its last reset: enough requests, at most N failed, a bounded outage, versions seen",
  params,
  expected: (p) => {
    const parts = [`at least ${plural(p.minRequests, 'request')}`, `at most ${plural(p.maxFailures, 'failed request')}`];
    if (p.maxDowntimeSeconds !== undefined) parts.push(`no outage longer than ${p.maxDowntimeSeconds} s`);
    for (const [header, values] of Object.entries(p.seen ?? {})) parts.push(`${header} ${values.join(' and ')} seen`);
    return `the probe at ${describeWhere(p)} measured ${parts.join(', ')}`;
  },
  async evaluate(p, ctx) {
    const { url, problem } = await resolveUrl({ ...p, path: p.path }, ctx);
    if (!url) return { ok: false, observed: problem ?? 'no URL' };
    let stats: ProbeStats;
    try {
      stats = await readProbeStats(url);
    } catch (err) {
      return { ok: false, observed: (err as Error).message };
    }
    const { requests, fail } = stats.totals;
    const downtimeSeconds = stats.downtime.longestMs / 1000;
    const missing = Object.entries(p.seen ?? {}).flatMap(([header, values]) =>
      values.filter((v) => !(stats.tallies[header.toLowerCase()]?.[v] ?? 0)).map((v) => `${header} ${v}`),
    );
    const ok =
      requests >= p.minRequests &&
      fail <= p.maxFailures &&
      (p.maxDowntimeSeconds === undefined || downtimeSeconds <= p.maxDowntimeSeconds) &&
      missing.length === 0;
    const parts = [`${plural(requests, 'request')} since ${stats.windowStartedAt ?? 'its start'}`];
    parts.push(
      fail === 0
        ? 'none failed'
        : `${fail} failed (${describeFailureReasons(stats.failures.byReason)}; longest outage ${downtimeSeconds.toFixed(1)} s${stats.downtime.ongoing ? ', still going on' : ''})`,
    );
    for (const header of Object.keys(p.seen ?? {})) {
      const tally = stats.tallies[header.toLowerCase()] ?? {};
      parts.push(`${header}: ${describeTally(tally) || 'none'}`);
    }
    if (missing.length > 0) parts.push(`never saw ${missing.join(', ')}`);
    const lastFailure = fail > 0 ? describeLastFailure(stats.failures.samples) : undefined;
    if (lastFailure) parts.push(`last failure: ${lastFailure}`);
    const figures = {
      windowStartedAt: stats.windowStartedAt,
      requests,
      failed: fail,
      downtimeSeconds,
      failuresByReason: stats.failures.byReason,
      latencyP95Ms: stats.latencyMs.p95,
    };
    return { ok, observed: parts.join('; '), figures };
  },
};
