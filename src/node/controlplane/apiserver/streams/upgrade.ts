/**
 * HTTP connection upgrades on the raw socket: answering before the switch (errors, as plain
 * text or a Status), switching to SPDY/3.1 with the negotiated X-Stream-Protocol-Version, and
 * carrying a SPDY session over either the upgraded socket or a WebSocket's binary messages.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { ApiStatusError } from '../status.js';
import { headerList, negotiateProtocol } from './channels.js';
import { SpdySession } from './spdy-session.js';

export const SPDY_31 = 'SPDY/3.1';
const STREAM_PROTOCOL_HEADER = 'x-stream-protocol-version';
/** After our side is done, how long the client gets to close the connection itself. */
const CLIENT_CLOSE_GRACE_MS = 10_000;
/** A socket ended on our side is destroyed if the client does not close it within this. */
const SOCKET_END_GRACE_MS = 2_000;

export type UpgradeKind = 'websocket' | 'spdy';

export function upgradeKind(req: IncomingMessage): UpgradeKind | undefined {
  const connection = (req.headers.connection ?? '').toLowerCase();
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (!connection.includes('upgrade')) return undefined;
  if (upgrade === 'websocket') return 'websocket';
  if (upgrade.includes(SPDY_31.toLowerCase())) return 'spdy';
  return undefined;
}

/** An HTTP answer on a socket that was never switched, then the socket is closed. */
export function writeHttpResponse(socket: Duplex, code: number, body: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const bytes = Buffer.from(body, 'utf8');
  const lines = [
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}`,
    ...Object.entries({ 'Content-Type': 'text/plain; charset=utf-8', ...headers, 'Content-Length': String(bytes.length), Connection: 'close' }).map(
      ([k, v]) => `${k}: ${v}`,
    ),
    '',
    '',
  ];
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), bytes]));
}

export function writeStatusResponse(socket: Duplex, err: ApiStatusError): void {
  writeHttpResponse(socket, err.code, JSON.stringify(err.status), { 'Content-Type': 'application/json' });
}

/** The X-Stream-Protocol-Version the client offers, matched against ours (kube's httpstream.Handshake). */
export function negotiateStreamProtocol(req: IncomingMessage, supported: readonly string[]): string | undefined {
  return negotiateProtocol(headerList(req.headers[STREAM_PROTOCOL_HEADER]), supported);
}

/** The refusal kube's handshake gives when no protocol matches (403, listing what it accepts). */
export function refuseStreamProtocol(socket: Duplex, req: IncomingMessage, supported: readonly string[]): void {
  const offered = headerList(req.headers[STREAM_PROTOCOL_HEADER]);
  const message =
    offered.length === 0
      ? 'unable to upgrade: X-Stream-Protocol-Version is required'
      : `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`;
  writeHttpResponse(socket, offered.length === 0 ? 400 : 403, message, { 'X-Accepted-Stream-Protocol-Versions': supported.join(', ') });
}

/** 101 to SPDY/3.1 on the socket, and the server side of a session over it. */
export function acceptSpdyUpgrade(socket: Duplex, head: Buffer, protocol: string, log: (line: string) => void): SpdySession {
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', `Upgrade: ${SPDY_31}`, `X-Stream-Protocol-Version: ${protocol}`, '', ''].join('\r\n'));
  const session = new SpdySession(
    {
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      close: () => endSocket(socket),
    },
    { role: 'server', log },
  );
  socket.on('data', (chunk: Buffer) => session.receive(chunk));
  socket.on('close', () => session.transportClosed());
  socket.on('error', () => socket.destroy());
  if (head.length > 0) session.receive(head);
  return session;
}

/** The server side of a SPDY session carried in a WebSocket's binary messages (kubectl 1.31+ port-forward). */
export function spdyOverWebSocket(ws: WebSocket, log: (line: string) => void): SpdySession {
  const session = new SpdySession(
    {
      write: (bytes) => {
        if (ws.readyState === ws.OPEN) ws.send(bytes, { binary: true });
      },
      close: () => {
        if (ws.readyState === ws.OPEN) ws.close(1000);
      },
    },
    { role: 'server', log },
  );
  ws.on('message', (data: WebSocket.RawData) => session.receive(rawDataToBuffer(data)));
  ws.on('close', () => session.transportClosed());
  ws.on('error', () => ws.terminate());
  return session;
}

export function rawDataToBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Once the server has said everything on a session, the client (kubectl) reads it and closes
 * the connection itself; closing first could make it drop frames it has not handled yet
 * (spdystream discards its queues when the connection ends). So wait for the client, and
 * only after a grace period close from our side.
 */
export function finishSession(session: SpdySession, graceMs: number = CLIENT_CLOSE_GRACE_MS): void {
  if (session.isClosed) return;
  const timer = setTimeout(() => void session.close(), graceMs);
  timer.unref();
  session.once('close', () => clearTimeout(timer));
}

function endSocket(socket: Duplex): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), SOCKET_END_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end();
}
