// The chat's backend: stateless, run with several replicas behind the name `backend`. Users
// and messages live in the store (STORE_URL), so any replica can answer any request, and
// every answer says which replica it was (`replica` in the body, X-Served-By header).
//
//   GET  /whoami                        {replica, version, uptimeSeconds}
//   GET  /users                         every user that has written: {users}
//   POST /users                         body {name}: register a user
//   GET  /conversations/ID/messages     ?last=N (default 20): {messages, length}
//   POST /conversations/ID/messages     body {from, text}: {message, length}
//   POST /crash                         answers, then the process exits with status 1
//   GET  /healthz                       liveness: the process runs
//   GET  /readyz                        readiness: the store answers, and not shutting down
//
// The frontend forwards /api/X here as /X.
import { HttpError, envNumber, log, readJson, replica, sendJson, serve } from '../shared/http.mjs';
import { jsonOf, request } from '../shared/upstream.mjs';

const storeUrl = (process.env.STORE_URL || 'http://store:8080').replace(/\/+$/, '');
const version = process.env.APP_VERSION || '1';
const storeTimeoutMs = envNumber('STORE_TIMEOUT_MS', 1_000);
const startedAt = Date.now();
const NAME = /^[\w.-]{1,40}$/;
const MAX_TEXT = 500;

/** A call to the store; its failures answer 503 (the backend is fine, its dependency is not). */
async function store(method, path, body) {
  let answer;
  try {
    answer = await request(`${storeUrl}${path}`, {
      method,
      timeoutMs: storeTimeoutMs,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  } catch (err) {
    throw new HttpError(503, `store unavailable: ${err.code ?? err.message}`);
  }
  if (answer.status >= 500) throw new HttpError(503, `store answered ${answer.status}`);
  return { status: answer.status, body: jsonOf(answer) };
}

function checkName(name, field) {
  if (typeof name !== 'string' || !NAME.test(name)) throw new HttpError(400, `${field} must be 1-40 letters, digits, "_", "." or "-"`);
  return name;
}

async function saveUser(name) {
  await store('PUT', `/kv/${encodeURIComponent(`users/${name}`)}`, { name, lastSeen: new Date().toISOString() });
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://backend');
  const path = url.pathname;
  const reply = (status, body) => sendJson(res, status, { ...body, replica }, { 'x-served-by': replica });
  const conversation = /^\/conversations\/([\w.-]{1,40})\/messages$/.exec(path);

  if (conversation) {
    const key = `/lists/${encodeURIComponent(`conversations/${conversation[1]}`)}`;
    if (req.method === 'GET') {
      const last = url.searchParams.get('last') ?? '20';
      const { body } = await store('GET', `${key}?last=${encodeURIComponent(last)}`);
      return reply(200, { messages: body?.items ?? [], length: body?.length ?? 0 });
    }
    if (req.method === 'POST') {
      const input = await readJson(req);
      const from = checkName(input.from, 'from');
      if (typeof input.text !== 'string' || input.text.length === 0 || input.text.length > MAX_TEXT) {
        throw new HttpError(400, `text must be a string of 1-${MAX_TEXT} characters`);
      }
      const message = { from, text: input.text, at: new Date().toISOString(), replica };
      await saveUser(from);
      const { body } = await store('POST', key, { value: message, max: 100 });
      return reply(201, { message, length: body?.length ?? 0 });
    }
    throw new HttpError(405, 'GET or POST');
  }

  switch (`${req.method} ${path}`) {
    case 'GET /whoami':
      return reply(200, { version, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
    case 'GET /users': {
      const { body } = await store('GET', `/kv?prefix=${encodeURIComponent('users/')}`);
      return reply(200, { users: (body?.items ?? []).map((item) => item.value) });
    }
    case 'POST /users': {
      const name = checkName((await readJson(req)).name, 'name');
      await saveUser(name);
      return reply(201, { user: { name } });
    }
    case 'POST /crash':
      // The lab's "crash a backend": answer first, so the caller sees who crashed, then die
      // the way a bug would (non-zero status), leaving the restart to the orchestrator.
      log('crash', { replica });
      res.on('finish', () => setTimeout(() => process.exit(1), 50));
      return reply(202, { crashing: true });
    case 'GET /healthz':
      return reply(200, { status: 'ok' });
    case 'GET /readyz': {
      if (lifecycle.draining) return reply(503, { status: 'draining' });
      try {
        await store('GET', '/healthz');
      } catch (err) {
        return reply(503, { status: 'not ready', reason: err.message });
      }
      return reply(200, { status: 'ready' });
    }
    default:
      throw new HttpError(404, `no route ${req.method} ${path}`);
  }
}

const { lifecycle } = serve('chat-backend', handle);
