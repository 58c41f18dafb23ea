/**
 * The dashboard's HTTP server on 127.0.0.1: the page and its assets (built into dist/), the
 * state as JSON, a server-sent-events stream of changes, and actions. Every request must
 * pass access.ts's check (the token in the URL or a header).
 */
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { UserError, messageOf } from '../common/errors.js';
import { checkAccess, TOKEN_PARAM } from './access.js';
import { parseActionRequest, type ActionRequest } from './actions.js';
import type { LiveCluster, LiveMessage } from './live.js';
import type { PushMessages } from './model.js';

export interface DashboardServerOptions {
  live: Pick<LiveCluster, 'state' | 'timeline' | 'subscribe'>;
  token: string;
  /** 0: any free port. */
  port: number;
  /** Where index.html, app.js and app.css are. */
  assetsDir: string;
  runAction: (request: ActionRequest) => Promise<string>;
  /** Keep-alive comment interval on event streams. */
  heartbeatMs?: number;
}

export interface DashboardServer {
  port: number;
  /** The page, with its token. */
  url: string;
  close(): Promise<void>;
}

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const MAX_BODY_BYTES = 16 * 1024;

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new UserError('request body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new UserError('the request body is not JSON');
  }
}

/** The page with its token and cluster put in (both are safe in HTML: base64url and a DNS label). */
export function renderPage(template: string, token: string, cluster: string): string {
  return template.replaceAll('%TOKEN%', encodeURIComponent(token)).replaceAll('%CLUSTER%', cluster.replace(/[^A-Za-z0-9.-]/g, ''));
}

function sseFrame<K extends keyof PushMessages>(event: K, data: PushMessages[K]): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const template = await readFile(path.join(options.assetsDir, 'index.html'), 'utf8');
  let port = options.port;

  const events = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    res.write(sseFrame('snapshot', { state: options.live.state, timeline: options.live.timeline }));
    const unsubscribe = options.live.subscribe((message: LiveMessage) => {
      res.write(message.type === 'patch' ? sseFrame('patch', message.data) : sseFrame('timeline', message.data));
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  };

  const action = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const request = parseActionRequest(await readBody(req));
      sendJson(res, 200, { ok: true, message: await options.runAction(request) });
    } catch (err) {
      if (err instanceof UserError) sendJson(res, err.exitCode === 2 ? 400 : 409, { ok: false, error: err.message, hint: err.hint });
      else sendJson(res, 500, { ok: false, error: messageOf(err) });
    }
  };

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const verdict = checkAccess({ method, url: req.url ?? '/', headers: req.headers }, options.token, port);
    if (!verdict.ok) return send(res, verdict.status, 'text/plain; charset=utf-8', `${verdict.reason}\n`);
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');

    if (method === 'POST' && pathname === '/api/actions') return void action(req, res);
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    if (pathname === '/' || pathname === '/index.html') {
      return send(res, 200, 'text/html; charset=utf-8', renderPage(template, options.token, options.live.state.cluster));
    }
    if (pathname === '/api/state') return sendJson(res, 200, { state: options.live.state, timeline: options.live.timeline });
    if (pathname === '/api/events') return events(req, res);
    const asset = pathname.startsWith('/assets/') ? pathname.slice('/assets/'.length) : undefined;
    const type = asset !== undefined ? ASSETS[asset] : undefined;
    if (asset !== undefined && type) {
      return void readFile(path.join(options.assetsDir, asset)).then(
        (body) => send(res, 200, type, body),
        () => send(res, 404, 'text/plain; charset=utf-8', `${asset} is not built: run npm run build\n`),
      );
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UserError(`port ${options.port} on 127.0.0.1 is taken`, { hint: 'choose another with --port, or leave it out for a free one', cause: err });
    }
    throw err;
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}/?${TOKEN_PARAM}=${encodeURIComponent(options.token)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams never end by themselves.
        server.closeAllConnections();
      }),
  };
}
