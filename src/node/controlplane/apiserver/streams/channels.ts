/**
 * Kubernetes' channel protocol over WebSocket (v4.channel.k8s.io, v5.channel.k8s.io): each
 * binary message starts with its channel number. exec/attach: 0 stdin, 1 stdout, 2 stderr,
 * 3 the final metav1.Status, 4 terminal resize; v5 adds [255, channel] to close a channel
 * (the client's stdin EOF is [255, 0]). Port-forward: channel 2i data and 2i+1 errors of the
 * i-th port, each opening with the port number (2 bytes, little-endian).
 */
import type { Status } from 'kubernetes-types/meta/v1.js';

export const V5_CHANNEL_PROTOCOL = 'v5.channel.k8s.io';
export const V4_CHANNEL_PROTOCOL = 'v4.channel.k8s.io';
/** kubectl's port-forward (1.31+): SPDY frames inside the WebSocket's binary messages. */
export const SPDY_TUNNEL_PORTFORWARD_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io';

export const Channel = {
  STDIN: 0,
  STDOUT: 1,
  STDERR: 2,
  ERROR: 3,
  RESIZE: 4,
  CLOSE: 255,
} as const;

export type ChannelMessage = { kind: 'data'; channel: number; data: Buffer } | { kind: 'close'; channel: number };

export function encodeChannelMessage(channel: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([Buffer.of(channel), payload]);
}

export function encodeCloseMessage(channel: number): Buffer {
  return Buffer.of(Channel.CLOSE, channel);
}

/** A message as read off the WebSocket; undefined for an empty one. */
export function decodeChannelMessage(message: Buffer): ChannelMessage | undefined {
  if (message.length === 0) return undefined;
  const channel = message[0]!;
  if (channel === Channel.CLOSE && message.length >= 2) return { kind: 'close', channel: message[1]! };
  return { kind: 'data', channel, data: message.subarray(1) };
}

/** The port prefix every port-forward channel opens with. */
export function encodePortPrefix(channel: number, port: number): Buffer {
  const message = Buffer.alloc(3);
  message.writeUInt8(channel, 0);
  message.writeUInt16LE(port, 1);
  return message;
}

/** Pick the first protocol the client offers that the server supports (kube's wsstream and httpstream order). */
export function negotiateProtocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}

/** The values of a protocol header, whether sent as several lines or one comma-separated list. */
export function headerList(value: string | string[] | undefined): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

export function successStatus(): Status {
  return { metadata: {}, status: 'Success' };
}

export function failureStatus(message: string): Status {
  return { metadata: {}, status: 'Failure', message };
}

/** Decodes the status channel's JSON; a malformed one becomes a Failure saying so. */
export function parseStatus(data: Buffer): Status {
  try {
    const value = JSON.parse(data.toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as Status).status === 'string') return value as Status;
  } catch {
    // fall through
  }
  return failureStatus(`error stream protocol error: invalid status ${JSON.stringify(data.toString('utf8'))}`);
}

/** What the protocols before v4 put on the error stream: nothing on success, else the message. */
export function legacyErrorText(status: Status): string {
  return status.status === 'Success' ? '' : (status.message ?? 'error executing command in container');
}
