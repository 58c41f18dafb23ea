// HTTP plumbing shared by the sample apps (chat, web, probe). Node's own http module only:
// the images hold a Node.js binary and these files, no npm packages.
import http from 'node:http';
import os from 'node:os';

/** Which replica this is: the container's hostname (swarm: task container id; kube: pod name). */
export const replica = os.hostname();

/** An error that becomes an HTTP answer with its status (anything else answers 500). */
export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** One JSON object per line on stdout: what `docker service logs` and `kubectl logs` show. */
export function log(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
}

export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res, status, text, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The request body, at most `limit` bytes. */
export async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The request body parsed as a JSON object; 400 when it is not one. */
export async function readJson(req) {
  const text = (await readBody(req)).toString('utf8');
  let value;
  try {
    value = JSON.parse(text || '{}');
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'body must be a JSON object');
  return value;
}

/** A whole number from the environment, or `fallback` when unset. */
export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${raw}"`);
  return value;
}

/**
 * Serves `handler` on PORT (default 8080; 0 picks a free port, as the unit tests do) and logs
 * {"event":"listening","port":N} once it listens. Thrown HttpErrors answer with their status,
 * anything else with 500.
 *
 * Shutdown as orchestrators expect it: on SIGTERM (or SIGINT) the server first keeps answering
 * for DRAIN_MS while its readiness fails (`lifecycle.draining`), so load balancers and DNS stop
 * sending new clients here before it goes away; then it closes and exits 0. As PID 1 in a
 * container Node has no default signal handlers, so without this `docker stop` would wait its
 * full timeout and then kill.
 */
export function serve(name, handler, options = {}) {
  const port = options.port ?? envNumber('PORT', 8080);
  // Every interface by default (a container's own); HOST=127.0.0.1 keeps it on loopback (tests).
  const host = options.host ?? (process.env.HOST || undefined);
  const drainMs = options.drainMs ?? envNumber('DRAIN_MS', 0);
  const lifecycle = { draining: false };

  const server = http.createServer(async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log('error', { app: name, url: req.url, message: String(err?.stack ?? err) });
      if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err), replica });
      else res.destroy();
    }
  });
  // Clients of these apps open a connection per request; a short keep-alive frees sockets fast.
  server.keepAliveTimeout = 2_000;

  const stop = (signal) => {
    if (lifecycle.draining) return;
    lifecycle.draining = true;
    log('draining', { app: name, signal, drainMs });
    setTimeout(() => {
      server.close(() => process.exit(0));
      server.closeIdleConnections();
      // Requests still running after 5 s more do not hold the shutdown.
      setTimeout(() => process.exit(0), 5_000).unref();
    }, drainMs);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  server.listen(port, host, () => log('listening', { app: name, port: server.address().port, replica }));
  return { server, lifecycle };
}
