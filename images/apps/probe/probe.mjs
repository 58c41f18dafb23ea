// The labs' measuring instrument: sends requests to a URL at a steady rate and records, per
// second, how many succeeded and failed and how long the successful ones took. Prints a JSON
// line per second and serves its summary over HTTP, so a lab check can ask "how long was the
// service down during that rolling update?":
//
//   GET  /stats    totals, latency p50/p95/max, failures (first, last, by reason), the longest
//                  run of failed requests (= measured downtime), tallies of answer headers,
//                  and the per-second rows
//   POST /reset    start a new window (GET works too, for a browser); sends again if
//                  --duration had run out
//   GET  /healthz
//
// node probe.mjs --url URL [--rate 10] [--timeout 2000] [--simulate N] [--duration SECONDS]
//                [--port 8080] [--tally x-served-by,x-app-version] [--quiet]
//
// --simulate N: instead of GET URL, N chat conversations take turns posting a message to
// URL/api/conversations/probe-K/messages (the chat frontend's API), users a and b alternating.
// --duration: stop sending after that many seconds but keep serving /stats (0: never stop).
// Every address the URL's host resolves to gets requests in turn, as the chat frontend does.
import { parseArgs } from 'node:util';
import { log, replica, sendJson, serve } from '../shared/http.mjs';
import { AddressPool, request } from '../shared/upstream.mjs';
import { Recorder } from './recorder.mjs';

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.PROBE_URL },
      rate: { type: 'string', default: process.env.PROBE_RATE ?? '10' },
      timeout: { type: 'string', default: process.env.PROBE_TIMEOUT_MS ?? '2000' },
      simulate: { type: 'string', default: process.env.PROBE_SIMULATE ?? '0' },
      duration: { type: 'string', default: process.env.PROBE_DURATION ?? '0' },
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      tally: { type: 'string', default: process.env.PROBE_TALLY ?? 'x-served-by,x-app-version' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const number = (name, min, max) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got "${values[name]}"`);
    return n;
  };
  if (!values.url) throw new Error('--url (or PROBE_URL) is required');
  const url = new URL(values.url);
  if (url.protocol !== 'http:') throw new Error(`--url must be an http:// URL, got ${values.url}`);
  return {
    url,
    rate: number('rate', 0.1, 1000),
    timeoutMs: number('timeout', 10, 60_000),
    conversations: Math.floor(number('simulate', 0, 1000)),
    durationSeconds: number('duration', 0, 7 * 24 * 3600),
    port: Math.floor(number('port', 0, 65535)),
    tally: values.tally.split(',').map((h) => h.trim()).filter(Boolean),
    quiet: values.quiet,
  };
}

/** The request of step `seq`: a plain GET, or a turn of one of the simulated conversations. */
function requestFor(config, seq) {
  if (config.conversations === 0) return { url: config.url.href, method: 'GET' };
  const k = seq % config.conversations;
  const from = `probe-${k}-${Math.floor(seq / config.conversations) % 2 ? 'b' : 'a'}`;
  const base = config.url.href.replace(/\/+$/, '');
  return {
    url: `${base}/api/conversations/probe-${k}/messages`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, text: `message ${seq} from ${from}` }),
  };
}

const config = (() => {
  try {
    return options();
  } catch (err) {
    process.stderr.write(`probe: ${err.message}\n`);
    process.exit(2);
  }
})();

const recorder = new Recorder({ tally: config.tally, onSecond: (row) => config.quiet || log('second', row) });
const pool = new AddressPool(config.url.hostname);
const startedAt = new Date();
/** Answers still awaited are capped, so a dead target cannot pile up connections. */
const maxInFlight = Math.max(4, Math.ceil(config.rate * (config.timeoutMs / 1000) * 2));
let inFlight = 0;
let seq = 0;
let sending = false;

async function sendOne() {
  if (inFlight >= maxInFlight) return recorder.skip();
  const step = requestFor(config, seq++);
  const record = recorder.start();
  inFlight++;
  let address;
  try {
    address = await pool.next();
    const answer = await request(step.url, { ...step, timeoutMs: config.timeoutMs, address });
    const ok = answer.status < 400;
    recorder.finish(record, { ok, reason: ok ? null : `HTTP ${answer.status}`, detail: ok ? null : answerDetail(address, answer), headers: answer.headers });
  } catch (err) {
    recorder.finish(record, { ok: false, reason: err.code ?? err.message, detail: address ? `at ${address}` : null });
  } finally {
    inFlight--;
  }
}

/** Who gave a failing answer and what it said: "from 10.96.0.7 (web-1): {"error":…}". */
function answerDetail(address, answer) {
  const servedBy = answer.headers['x-served-by'];
  const body = answer.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 80);
  return `from ${address}${servedBy ? ` (${servedBy})` : ''}${body ? `: ${body}` : ''}`;
}

/** Sends at the configured rate, for --duration seconds when one is given. */
function startSending() {
  sending = true;
  const sender = setInterval(sendOne, 1000 / config.rate);
  if (config.durationSeconds > 0) {
    setTimeout(() => {
      clearInterval(sender);
      sending = false;
      log('stopped-sending', { afterSeconds: config.durationSeconds });
    }, config.durationSeconds * 1000);
  }
}

startSending();
// Seconds close as time passes, also when no answer arrives to trigger it.
setInterval(() => recorder.fold(), 250);

serve(
  'probe',
  (req, res) => {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    switch (`${req.method} ${path}`) {
      case 'GET /healthz':
        return sendJson(res, 200, { status: 'ok', replica });
      case 'GET /stats':
        return sendJson(res, 200, {
          target: config.url.href,
          mode: config.conversations > 0 ? 'simulate' : 'get',
          conversations: config.conversations,
          rate: config.rate,
          timeoutMs: config.timeoutMs,
          sending,
          startedAt: startedAt.toISOString(),
          replica,
          ...recorder.summary(),
        });
      case 'GET /reset':
      case 'POST /reset':
        recorder.reset();
        // After --duration ran out, a new window sends again (for another --duration).
        if (!sending) startSending();
        log('reset');
        return sendJson(res, 200, { reset: true, windowStartedAt: new Date().toISOString() });
      default:
        return sendJson(res, 404, { error: `no route ${req.method} ${path}` });
    }
  },
  { port: config.port },
);
