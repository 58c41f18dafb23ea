/**
 * exec/attach for WebSocket clients (kubectl 1.30+ with v5, client libraries with v4 or v5):
 * the agent always speaks v5, so messages pass through both ways unchanged, except close
 * messages from the agent: v5's close is the client's signal (its stdin EOF); kubectl logs
 * "Unknown stream id 255" and client-node throws on one coming from the server, and a v4
 * client has no such thing. A v4 client's stdin simply never sends one.
 */
import WebSocket from 'ws';
import { Channel } from './channels.js';
import type { AgentChannelStream } from './kubelet-client.js';
import { rawDataToBuffer } from './upgrade.js';

export function relayChannelWebSockets(client: WebSocket, agent: AgentChannelStream): void {
  agent.onMessage((message, isBinary) => {
    if (message[0] === Channel.CLOSE) return;
    if (client.readyState === WebSocket.OPEN) client.send(message, { binary: isBinary });
  });
  client.on('message', (data: WebSocket.RawData, isBinary: boolean) => agent.send(rawDataToBuffer(data), isBinary));

  // The agent closes after the status; the client closes when it is done (or Ctrl-C).
  agent.onClose((code, reason) => {
    if (client.readyState === WebSocket.OPEN) client.close(sendableCode(code), sendableCode(code) === code ? reason : undefined);
  });
  client.on('close', (code: number, reason: Buffer) => agent.close(sendableCode(code), sendableCode(code) === code ? reason : undefined));
  client.on('error', () => client.terminate());
}

/** Codes a peer may not send (1005 none given, 1006 abnormal, ...) become a normal closure. */
function sendableCode(code: number): number {
  const sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  return sendable ? code : 1000;
}
