/**
 * The probe app's `/stats` answer (images/apps/probe), validated: the lab checks and
 * `clusterlab compare` read the same figures, and a probe of another version fails with the
 * field that differs instead of a figure silently missing.
 */
import * as z from 'zod';
import { httpGet } from './checks/http.js';

const count = z.number().int().min(0);

export const probeStatsSchema = z.object({
  target: z.string().optional(),
  windowStartedAt: z.string().nullable(),
  totals: z.object({ requests: count, ok: count, fail: count }),
  latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), max: z.number().nullable() }),
  failures: z.object({
    byReason: z.record(z.string(), count),
    /** The latest few failures with what they saw (probes from before samples had none). */
    samples: z.array(z.object({ at: z.string(), reason: z.string(), detail: z.string().optional() })).default([]),
  }),
  downtime: z.object({ longestMs: z.number().min(0), failedRequests: count, ongoing: z.boolean().nullable().optional() }),
  tallies: z.record(z.string(), z.record(z.string(), count)).default({}),
});

export type ProbeStats = z.output<typeof probeStatsSchema>;

/** GET the stats; an answer that is not the probe's is an error that says what came back. */
export async function readProbeStats(url: string, timeoutMs = 3_000): Promise<ProbeStats> {
  const answer = await httpGet(url, timeoutMs);
  if (answer.error !== undefined) throw new Error(`${url}: ${answer.error}`);
  if (answer.status !== 200) throw new Error(`${url}: HTTP ${answer.status}`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body ?? '');
  } catch {
    throw new Error(`${url}: not JSON: ${(answer.body ?? '').slice(0, 80)}`);
  }
  const parsed = probeStatsSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${url}: not the probe's stats (${issue?.path.join('.') || 'body'}: ${issue?.message})`);
  }
  return parsed.data;
}

/** "ECONNREFUSED ×3, HTTP 502 ×1", most frequent first. */
export function describeFailureReasons(byReason: Record<string, number>): string {
  return Object.entries(byReason)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason} ×${n}`)
    .join(', ');
}

/** "v1 ×40, v2 ×47". */
export function describeTally(values: Record<string, number>): string {
  return Object.entries(values)
    .sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true }))
    .map(([value, n]) => `${value} ×${n}`)
    .join(', ');
}

/** The latest failure as the checks print it: "HTTP 404 from 10.96.4.2: {"error":"no route GET /"}". */
export function describeLastFailure(samples: ProbeStats['failures']['samples']): string | undefined {
  const last = samples.at(-1);
  return last ? `${last.reason}${last.detail ? ` ${last.detail}` : ''}` : undefined;
}
