// What the probe measures, kept apart from how it sends requests: a record per request,
// folded in the order the requests STARTED (not the order their answers came back), so a
// slow failure cannot make a later success look earlier. A second is reported once every
// request started in it has finished.

/** Nearest-rank percentile of sorted numbers; null for none. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function latencySummary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.length ? sorted[sorted.length - 1] : null };
}

const iso = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
const round = (ms) => (ms === null ? null : Math.round(ms * 10) / 10);

/** Latencies kept for the window's percentiles; beyond this the oldest are dropped. */
const MAX_LATENCIES = 200_000;
/** Per-second rows kept for /stats. */
const MAX_SECONDS = 600;
/** The latest failures kept with what they saw, to tell who answered a 404 or refused. */
const MAX_FAILURE_SAMPLES = 5;

export class Recorder {
  /**
   * @param {object} options
   * @param {string[]} [options.tally] headers of successful answers whose values are counted (x-served-by…)
   * @param {() => number} [options.now] the clock, in ms (tests pass a fake one)
   * @param {(row: object) => void} [options.onSecond] called with each finished second
   */
  constructor({ tally = [], now = () => performance.timeOrigin + performance.now(), onSecond = () => {} } = {}) {
    this.tallyHeaders = tally.map((h) => h.toLowerCase());
    this.now = now;
    this.onSecond = onSecond;
    this.reset();
  }

  /** Starts a new window: everything counted so far, and answers still on their way, are dropped. */
  reset() {
    this.generation = (this.generation ?? 0) + 1;
    this.windowStartedAt = this.now();
    this.queue = []; // started, not yet folded in (oldest first)
    this.totals = { requests: 0, ok: 0, fail: 0, skipped: 0 };
    this.latencies = [];
    this.failures = { first: null, last: null, secondsWithFailures: 0, byReason: {}, samples: [] };
    this.run = null; // the failure run going on: {from, failedRequests, lastFailureEnd}
    this.longestRun = null; // the longest finished or ongoing run: {from, to, ms, failedRequests, ongoing}
    this.tallies = Object.fromEntries(this.tallyHeaders.map((h) => [h, {}]));
    this.seconds = []; // finished rows
    this.current = null; // the second being folded: {second, ok, fail, latencies, tallies}
  }

  /** A request starts now; pass the returned record to finish(). */
  start() {
    const record = { generation: this.generation, startedAt: this.now(), done: false };
    this.queue.push(record);
    return record;
  }

  /** A request that was not sent (too many already waiting for an answer). */
  skip() {
    this.totals.skipped++;
  }

  /**
   * The request's outcome: `ok` (an answer under 400), or a failure with a `reason`
   * ("HTTP 502", "ECONNREFUSED"…) and a `detail` (the address, what the answer said);
   * `headers` of the answer, when there was one.
   */
  finish(record, { ok, reason = null, detail = null, headers = {} }) {
    if (record.generation !== this.generation) return;
    Object.assign(record, { done: true, ok, reason, detail, headers, finishedAt: this.now() });
    this.fold();
  }

  /** Folds finished requests in start order, and closes the seconds that are complete. */
  fold() {
    while (this.queue.length > 0 && this.queue[0].done) this.foldOne(this.queue.shift());
    // A second is complete when it is over and nothing started in it is still waiting.
    const openFrom = this.queue.length > 0 ? this.queue[0].startedAt : this.now();
    if (this.current && (this.current.second + 1) * 1000 <= openFrom) this.closeSecond();
  }

  foldOne(record) {
    const second = Math.floor(record.startedAt / 1000);
    if (this.current && this.current.second !== second) this.closeSecond();
    this.current ??= { second, ok: 0, fail: 0, latencies: [], tallies: {} };
    this.totals.requests++;
    if (record.ok) {
      const latency = record.finishedAt - record.startedAt;
      this.totals.ok++;
      this.current.ok++;
      this.current.latencies.push(latency);
      this.latencies.push(latency);
      if (this.latencies.length > MAX_LATENCIES) this.latencies.splice(0, this.latencies.length - MAX_LATENCIES);
      if (this.run) this.endRun(record.startedAt);
    } else {
      this.totals.fail++;
      this.current.fail++;
      this.failures.first ??= record.startedAt;
      this.failures.last = record.startedAt;
      this.failures.byReason[record.reason] = (this.failures.byReason[record.reason] ?? 0) + 1;
      this.failures.samples.push({ at: iso(record.startedAt), reason: record.reason, ...(record.detail ? { detail: record.detail } : {}) });
      if (this.failures.samples.length > MAX_FAILURE_SAMPLES) this.failures.samples.shift();
      this.run ??= { from: record.startedAt, failedRequests: 0 };
      this.run.failedRequests++;
      this.run.lastFailureEnd = record.finishedAt;
    }
    // Who answered, counted for successful answers only (an error page may come from a proxy).
    for (const header of record.ok ? this.tallyHeaders : []) {
      const value = record.headers[header];
      if (typeof value !== 'string') continue;
      this.tallies[header][value] = (this.tallies[header][value] ?? 0) + 1;
      this.current.tallies[header] ??= {};
      this.current.tallies[header][value] = (this.current.tallies[header][value] ?? 0) + 1;
    }
  }

  /** A run of failures ends at the start of the first request that succeeded after it. */
  endRun(recoveredAt) {
    this.considerRun({ ...this.run, to: recoveredAt, ongoing: false });
    this.run = null;
  }

  considerRun(run) {
    const ms = run.to - run.from;
    if (!this.longestRun || ms > this.longestRun.ms) this.longestRun = { ...run, ms };
  }

  closeSecond() {
    const c = this.current;
    this.current = null;
    if (c.fail > 0) this.failures.secondsWithFailures++;
    const row = { t: iso(c.second * 1000), ok: c.ok, fail: c.fail, ...mapValues(latencySummary(c.latencies), round) };
    if (Object.keys(c.tallies).length > 0) row.tallies = c.tallies;
    this.seconds.push(row);
    if (this.seconds.length > MAX_SECONDS) this.seconds.shift();
    this.onSecond(row);
  }

  /** The window so far, as /stats serves it. */
  summary() {
    this.fold();
    // A run still going on counts up to the end of its last failure, marked ongoing.
    let downtime = this.longestRun;
    if (this.run) {
      const ongoing = { ...this.run, to: this.run.lastFailureEnd, ongoing: true, ms: this.run.lastFailureEnd - this.run.from };
      if (!downtime || ongoing.ms > downtime.ms) downtime = ongoing;
    }
    return {
      windowStartedAt: iso(this.windowStartedAt),
      totals: { ...this.totals, inFlight: this.queue.filter((r) => !r.done).length },
      latencyMs: mapValues(latencySummary(this.latencies), round),
      failures: {
        ...this.failures,
        first: iso(this.failures.first),
        last: iso(this.failures.last),
        byReason: { ...this.failures.byReason },
        samples: this.failures.samples.map((sample) => ({ ...sample })),
      },
      downtime: downtime
        ? { longestMs: Math.round(downtime.ms), from: iso(downtime.from), to: iso(downtime.to), failedRequests: downtime.failedRequests, ongoing: downtime.ongoing }
        : { longestMs: 0, from: null, to: null, failedRequests: 0, ongoing: false },
      tallies: structuredClone(this.tallies),
      seconds: [...this.seconds],
    };
  }
}

function mapValues(object, fn) {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, fn(v)]));
}
