/**
 * Errors of the agent's kubelet API, answered as the kubelet does: plain text with its
 * message and an HTTP status, on a normal response or on a socket that asked for an upgrade.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export class KubeletApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubeletApiError';
  }
}

export function sendTextError(res: ServerResponse, statusCode: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(statusCode, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

/** An HTTP answer written straight onto a socket whose upgrade we refuse. */
export function refuseUpgrade(socket: Duplex, statusCode: number, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
