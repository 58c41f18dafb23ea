/**
 * pods/NAME/portforward: the API server dials the pod's IP itself (the pod network is routed
 * on every node) and joins each forwarded connection to the client's streams.
 *   SPDY (kubectl, directly or tunnelled in a WebSocket): per connection the client opens an
 *     error stream and a data stream with headers streamType, port and requestID.
 *   WebSocket channels (client libraries): `?ports=`, channel 2i data and 2i+1 errors of the
 *     i-th port, one connection per port for the life of the WebSocket.
 * A connection that cannot be made is reported on the error stream/channel as the kubelet words it.
 */
import type net from 'node:net';
import WebSocket from 'ws';
import { decodeChannelMessage, encodeChannelMessage, encodePortPrefix } from './channels.js';
import type { SpdySession, SpdyStream } from './spdy-session.js';
import { rawDataToBuffer } from './upgrade.js';

export interface PortForwardTarget {
  /** What the kubelet's messages call the pod (kube: the sandbox; here namespace/name). */
  podLabel: string;
  podUid: string;
  /** status.podIP; undefined while the pod has none. */
  podIp: string | undefined;
  dial(host: string, port: number): net.Socket;
  log(line: string): void;
}

interface StreamPair {
  error?: SpdyStream;
  data?: SpdyStream;
}

/** The kubelet's words for a failed forward (kubectl prints them after "an error occurred forwarding"). */
export function forwardError(target: Pick<PortForwardTarget, 'podLabel' | 'podUid'>, port: number | string, why: string): string {
  return `error forwarding port ${port} to pod ${target.podLabel}, uid ${target.podUid}: ${why}`;
}

/** Serves the port-forward streams a SPDY client opens on the session. */
export function servePortForwardSpdy(session: SpdySession, target: PortForwardTarget): void {
  const pairs = new Map<string, StreamPair>();
  session.on('stream', (stream) => {
    const type = stream.header('streamType');
    if (type !== 'error' && type !== 'data') {
      target.log(`port-forward: unexpected stream type ${JSON.stringify(type)}`);
      stream.destroy();
      return;
    }
    stream.on('error', () => undefined);
    const id = requestId(stream, type);
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    if (pair[type]) {
      stream.destroy();
      return;
    }
    pair[type] = stream;
    if (type === 'error') stream.resume(); // the client closes its side at once and sends nothing
    if (pair.error && pair.data) {
      pairs.delete(id);
      forwardSpdyPair(pair.error, pair.data, target);
    }
  });
}

/** kubectl sends requestID; the oldest clients did not, and the kubelet derives it from the stream ids. */
function requestId(stream: SpdyStream, type: 'error' | 'data'): string {
  return stream.header('requestID') ?? String(type === 'error' ? stream.id : stream.id - 2);
}

function parsePort(text: string | undefined): number | undefined {
  const port = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

function forwardSpdyPair(errorStream: SpdyStream, dataStream: SpdyStream, target: PortForwardTarget): void {
  const portText = dataStream.header('port');
  const port = parsePort(portText);
  const fail = (why: string) => {
    if (errorStream.writable && !errorStream.destroyed) errorStream.end(forwardError(target, portText ?? '', why));
    if (dataStream.writable && !dataStream.destroyed) dataStream.end();
  };
  if (port === undefined) return fail(portText === undefined ? 'port header is required' : `invalid port ${JSON.stringify(portText)}`);
  if (!target.podIp) return fail('the pod has no IP address yet');

  const socket = target.dial(target.podIp, port);
  let connected = false;
  socket.on('connect', () => {
    connected = true;
    dataStream.on('data', (chunk: Buffer) => {
      if (!socket.write(chunk)) {
        dataStream.pause();
        socket.once('drain', () => dataStream.resume());
      }
    });
    dataStream.on('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => {
      if (dataStream.writable && !dataStream.destroyed && !dataStream.write(chunk)) {
        socket.pause();
        dataStream.once('drain', () => socket.resume());
      }
    });
    socket.on('end', () => {
      if (dataStream.writable && !dataStream.destroyed) dataStream.end();
    });
  });
  socket.on('error', (err) => {
    if (!connected) fail(`failed to connect to ${target.podIp}:${port}: ${err.message}`);
    socket.destroy();
  });
  socket.on('close', () => {
    if (connected) {
      if (dataStream.writable && !dataStream.destroyed) dataStream.end();
      if (errorStream.writable && !errorStream.destroyed) errorStream.end();
    }
  });
  // kubectl resets the data stream when its local side is done: the connection goes with it.
  // A stream that simply finished leaves the socket to flush what it was given.
  dataStream.on('close', () => {
    if (socket.destroyed) return;
    if (dataStream.wasReset) socket.destroy();
    else socket.end();
  });
}

/**
 * Serves the WebSocket channel protocol on an accepted WebSocket: one connection to the pod
 * per requested port, closed together with the WebSocket.
 */
export function servePortForwardChannels(ws: WebSocket, ports: number[], target: PortForwardTarget): void {
  const sockets: Array<net.Socket | undefined> = [];
  let open = ports.length;
  const send = (message: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(message, { binary: true });
  };
  const portDone = () => {
    open -= 1;
    if (open === 0 && ws.readyState === WebSocket.OPEN) ws.close(1000);
  };

  ports.forEach((port, index) => {
    const dataChannel = index * 2;
    const errorChannel = dataChannel + 1;
    send(encodePortPrefix(dataChannel, port));
    send(encodePortPrefix(errorChannel, port));
    if (!target.podIp) {
      send(encodeChannelMessage(errorChannel, forwardError(target, port, 'the pod has no IP address yet')));
      portDone();
      return;
    }
    const socket = target.dial(target.podIp, port);
    sockets[index] = socket;
    let connected = false;
    socket.on('connect', () => (connected = true));
    socket.on('data', (chunk: Buffer) => send(encodeChannelMessage(dataChannel, chunk)));
    socket.on('error', (err) => {
      if (!connected) send(encodeChannelMessage(errorChannel, forwardError(target, port, `failed to connect to ${target.podIp}:${port}: ${err.message}`)));
      socket.destroy();
    });
    socket.on('close', portDone);
  });

  ws.on('message', (data: WebSocket.RawData) => {
    const message = decodeChannelMessage(rawDataToBuffer(data));
    if (!message || message.channel % 2 !== 0) return;
    const socket = sockets[message.channel / 2];
    if (!socket || socket.destroyed) return;
    if (message.kind === 'close') socket.end();
    else socket.write(message.data);
  });
  ws.on('close', () => {
    for (const socket of sockets) socket?.destroy();
  });
  ws.on('error', () => ws.terminate());
}
