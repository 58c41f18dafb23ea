// The chat's frontend: serves the page (page.html) and forwards /api/X to the backend as /X.
//
// The backend is found by its service name (BACKEND_URL, default http://backend:8080). Every
// address the name resolves to gets requests in turn (see AddressPool), so the spread over
// replicas is the same with swarm's dnsrr (one address per task) as behind a kube ClusterIP.
// The name is looked up again every DNS_TTL_MS (5 s, as client-side DNS caches do): a
// replica that crashed stays in the list until then, and the requests sent to it fail. They
// are not retried (RETRIES=0): the page and the probe are meant to see what a crash costs.
// RETRIES=1 shows how a proxy can hide it, DNS_TTL_MS=500 how a short cache shortens it.
//
//   GET /           the page
//   GET /healthz    liveness;  GET /readyz: readiness (fails while shutting down)
//   ANY /api/...    forwarded; errors answer 502 (no answer) or 504 (too slow) with a JSON reason
import { readFile } from 'node:fs/promises';
import { HttpError, envNumber, log, readBody, replica, sendJson, serve } from '../shared/http.mjs';
import { AddressPool, request } from '../shared/upstream.mjs';

const backendUrl = new URL(process.env.BACKEND_URL || 'http://backend:8080');
const timeoutMs = envNumber('UPSTREAM_TIMEOUT_MS', 1_000);
const retries = envNumber('RETRIES', 0);
const pool = new AddressPool(backendUrl.hostname, { ttlMs: envNumber('DNS_TTL_MS', 5_000) });
const page = await readFile(new URL('./page.html', import.meta.url));

/** Request headers worth passing on (hop-by-hop ones like connection are not). */
const FORWARDED = ['content-type', 'accept', 'user-agent'];

async function forward(req, res) {
  const path = req.url.slice('/api'.length) || '/';
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
  const headers = Object.fromEntries(FORWARDED.filter((h) => req.headers[h]).map((h) => [h, req.headers[h]]));
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';

  let lastError;
  for (let attempt = 0; attempt <= retries; attempt++) {
    let address;
    try {
      address = await pool.next();
      const answer = await request(`${backendUrl.origin}${path}`, { method: req.method, headers, body, timeoutMs, address });
      res.writeHead(answer.status, {
        'content-type': answer.headers['content-type'] ?? 'application/octet-stream',
        'x-served-by': answer.headers['x-served-by'] ?? address,
        'x-frontend': replica,
      });
      return res.end(answer.body);
    } catch (err) {
      lastError = { code: err.code ?? 'ERROR', message: err.message, address };
      log('upstream-error', { path, attempt, ...lastError });
    }
  }
  const status = lastError.code === 'ETIMEDOUT' ? 504 : 502;
  return sendJson(res, status, { error: `backend unavailable: ${lastError.code}`, upstream: lastError.address ?? null, frontend: replica }, { 'x-frontend': replica });
}

const { lifecycle } = serve('chat-frontend', async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://frontend').pathname;
  if (path === '/api' || path.startsWith('/api/')) return forward(req, res);
  if (req.method !== 'GET') throw new HttpError(405, 'only GET outside /api');
  switch (path) {
    case '/':
    case '/index.html':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
      return res.end(page);
    case '/healthz':
      return sendJson(res, 200, { status: 'ok', replica });
    case '/readyz':
      return sendJson(res, lifecycle.draining ? 503 : 200, { status: lifecycle.draining ? 'draining' : 'ready', replica });
    default:
      throw new HttpError(404, `no route ${path}`);
  }
});
