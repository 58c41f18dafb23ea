/**
 * Who may use the dashboard: whoever holds the random token printed with its URL. The server
 * listens on 127.0.0.1 only, and still other local users and web pages in the same browser
 * could reach it; so every request carries the token, the Host must be the loopback address
 * we serve (no DNS rebinding), and actions (POST) take the token from a header, which a form
 * on another site cannot set, from our own origin only.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_HEADER = 'x-clusterlab-token';
export const TOKEN_PARAM = 'token';

/** 192 random bits, URL-safe. */
export function newAccessToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison (of digests, so lengths may differ). */
export function tokensMatch(expected: string, given: string | undefined): boolean {
  if (given === undefined || given === '') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** The Host values that name this server: its loopback address and `localhost`, with its port. */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (!host) return false;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host.toLowerCase());
}

export interface AccessRequest {
  method: string;
  /** The request target, path and query. */
  url: string;
  headers: IncomingHttpHeaders;
}

export type AccessVerdict = { ok: true } | { ok: false; status: 403 | 421; reason: string };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a request may be served; why not when not. */
export function checkAccess(request: AccessRequest, token: string, port: number): AccessVerdict {
  if (!hostAllowed(header(request.headers, 'host'), port)) {
    return { ok: false, status: 421, reason: 'this dashboard answers only to its own address (127.0.0.1)' };
  }
  const url = new URL(request.url, `http://127.0.0.1:${port}`);
  if (request.method === 'GET' || request.method === 'HEAD') {
    const given = url.searchParams.get(TOKEN_PARAM) ?? header(request.headers, TOKEN_HEADER);
    return tokensMatch(token, given ?? undefined) ? { ok: true } : { ok: false, status: 403, reason: 'a valid access token is required: open the URL `clusterlab dashboard` printed' };
  }
  const origin = header(request.headers, 'origin');
  if (origin !== undefined && !hostAllowed(origin.replace(/^http:\/\//, ''), port)) {
    return { ok: false, status: 403, reason: 'actions are accepted from the dashboard page only' };
  }
  return tokensMatch(token, header(request.headers, TOKEN_HEADER))
    ? { ok: true }
    : { ok: false, status: 403, reason: `actions need the access token in the ${TOKEN_HEADER} header` };
}
