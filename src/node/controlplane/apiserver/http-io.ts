/** Reading request bodies and writing JSON answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, requestEntityTooLarge, type ApiStatusError } from './status.js';

/** kube-apiserver's limit for a request body (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit: number = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw requestEntityTooLarge(limit);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** JSON text as a value; empty text is undefined. Malformed JSON is a 400. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function sendJson(resp: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  resp.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  resp.end(text);
}

export function sendStatus(resp: ServerResponse, err: ApiStatusError): void {
  sendJson(resp, err.code, err.status);
}

export function sendText(resp: ServerResponse, code: number, text: string, contentType: string = 'text/plain; charset=utf-8'): void {
  resp.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  resp.end(text);
}
