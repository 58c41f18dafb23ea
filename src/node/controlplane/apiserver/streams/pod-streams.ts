/**
 * The stream subresources of pods — log, exec, attach, portforward — in the protocols the
 * real clients use:
 *   log                 plain GET, text streamed from the node agent
 *   exec, attach        WebSocket v5/v4 (kubectl 1.30+, client libraries) relayed to the agent;
 *                       SPDY/3.1 (kubectl 1.20-1.29 and fallback) translated to the agent's v5
 *   portforward         SPDY/3.1 directly (kubectl <= 1.30) or tunnelled in a WebSocket (1.31+),
 *                       and the WebSocket channel protocol (client libraries); the pod is dialled here
 * Everything is checked (pod, container, node, state) before the connection is switched, so
 * that a refusal is an HTTP answer kubectl can print.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { WebSocketServer } from 'ws';
import type { ResourceType } from '../resources.js';
import { ApiStatusError, badRequest, internalError, methodNotAllowed } from '../status.js';
import { headerList, negotiateProtocol, PORTFORWARD_PROTOCOL, SPDY_TUNNEL_PORTFORWARD_PROTOCOL, V4_CHANNEL_PROTOCOL, V5_CHANNEL_PROTOCOL } from './channels.js';
import { agentError, type PodStreamContext } from './context.js';
import { SPDY_EXEC_PROTOCOLS, translateSpdyExec } from './exec-spdy.js';
import { relayChannelWebSockets } from './exec-websocket.js';
import { KubeletResponseError, type AgentChannelStream } from './kubelet-client.js';
import { serveLogs } from './logs.js';
import { notRunningReason, requireNode, resolveContainer } from './pod-target.js';
import { servePortForwardChannels, servePortForwardSpdy, type PortForwardTarget } from './portforward.js';
import { execOptions, portForwardPorts, agentStreamQuery } from './stream-options.js';
import { acceptSpdyUpgrade, negotiateStreamProtocol, refuseStreamProtocol, spdyOverWebSocket, upgradeKind, writeHttpResponse, writeStatusResponse } from './upgrade.js';

export const STREAM_SUBRESOURCES = ['log', 'exec', 'attach', 'portforward'] as const;
export type StreamSubresource = (typeof STREAM_SUBRESOURCES)[number];

export function isStreamSubresource(subresource: string | undefined): subresource is StreamSubresource {
  return (STREAM_SUBRESOURCES as readonly string[]).includes(subresource ?? '');
}

export interface StreamTarget {
  namespace: string;
  name: string;
  subresource: StreamSubresource;
  query: URLSearchParams;
}

const EXEC_WEBSOCKET_PROTOCOLS = [V5_CHANNEL_PROTOCOL, V4_CHANNEL_PROTOCOL];
const PORTFORWARD_WEBSOCKET_PROTOCOLS = [SPDY_TUNNEL_PORTFORWARD_PROTOCOL, V4_CHANNEL_PROTOCOL, PORTFORWARD_PROTOCOL];

export class PodStreams {
  /** The subprotocol chosen for each WebSocket upgrade, answered by the server's handshake. */
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  private readonly wss: WebSocketServer;

  constructor(
    private readonly ctx: PodStreamContext,
    private readonly pods: ResourceType,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      handleProtocols: (_offered, req) => this.chosenProtocol.get(req) ?? false,
    });
  }

  /** A plain (not upgraded) request: logs, or a stream subresource asked without the upgrade it needs. */
  async handleRequest(req: IncomingMessage, resp: ServerResponse, target: StreamTarget): Promise<void> {
    const method = req.method ?? 'GET';
    if (target.subresource === 'log') {
      if (method !== 'GET') throw methodNotAllowed();
      await serveLogs(resp, this.ctx, { pods: this.pods, namespace: target.namespace, name: target.name, query: target.query });
      return;
    }
    if (method !== 'GET' && method !== 'POST') throw methodNotAllowed();
    // kube's upgrade-aware proxy answers a plain request this way.
    throw badRequest('Upgrade request required');
  }

  /** An upgrade request (WebSocket or SPDY/3.1) for exec, attach or portforward; answers on the socket. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget): Promise<void> {
    try {
      const kind = upgradeKind(req);
      if (!kind || target.subresource === 'log') throw badRequest('Upgrade request required');
      if (target.subresource === 'portforward') await this.portForward(req, socket, head, target, kind);
      else await this.execOrAttach(req, socket, head, target, target.subresource, kind);
    } catch (err) {
      if (err instanceof ApiStatusError) writeStatusResponse(socket, err);
      else {
        this.ctx.log(`${req.method ?? ''} ${req.url ?? ''}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        writeStatusResponse(socket, internalError(err instanceof Error ? err.message : String(err)));
      }
    }
  }

  private async execOrAttach(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: StreamTarget,
    subresource: 'exec' | 'attach',
    kind: 'websocket' | 'spdy',
  ): Promise<void> {
    const opts = execOptions(target.query, subresource);
    const pod = await this.ctx.getPod(target.namespace, target.name);
    const container = resolveContainer(pod, opts.container);
    const endpoint = await this.ctx.endpointFor(pod);
    const notRunning = notRunningReason(pod, container);
    if (notRunning) return writeHttpResponse(socket, 404, notRunning);

    const protocol = kind === 'websocket' ? this.negotiateWebSocket(req, EXEC_WEBSOCKET_PROTOCOLS) : negotiateStreamProtocol(req, SPDY_EXEC_PROTOCOLS);
    if (!protocol) {
      if (kind === 'spdy') return refuseStreamProtocol(socket, req, SPDY_EXEC_PROTOCOLS);
      return writeHttpResponse(socket, 400, `unable to upgrade: unable to negotiate protocol: client supports [${offeredWebSocketProtocols(req).join(' ')}], server accepts [${EXEC_WEBSOCKET_PROTOCOLS.join(' ')}]`);
    }

    // The agent first, as kube's proxy dials the kubelet first: its refusal reaches the client as an HTTP answer.
    let agent: AgentChannelStream;
    try {
      agent = await this.ctx.kubelet.openChannelStream(endpoint, subresource, target.namespace, target.name, container, agentStreamQuery(opts));
    } catch (err) {
      if (err instanceof KubeletResponseError) return writeHttpResponse(socket, err.statusCode, err.body);
      throw agentError(err, 'dial');
    }
    if (socket.destroyed) {
      agent.close();
      return;
    }
    if (kind === 'websocket') {
      // A handshake ws refuses (a malformed key, say) never calls back: the agent goes with the socket.
      let relayed = false;
      socket.once('close', () => {
        if (!relayed) agent.close();
      });
      this.wss.handleUpgrade(req, socket, head, (client) => {
        relayed = true;
        relayChannelWebSockets(client, agent);
      });
    } else {
      const session = acceptSpdyUpgrade(socket, head, protocol, this.ctx.log);
      translateSpdyExec(session, protocol, opts, agent, this.ctx.log);
    }
  }

  private async portForward(req: IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget, kind: 'websocket' | 'spdy'): Promise<void> {
    const pod = await this.ctx.getPod(target.namespace, target.name);
    requireNode(pod);
    const forwardTarget = this.forwardTarget(pod);

    if (kind === 'spdy') {
      const protocol = negotiateStreamProtocol(req, [PORTFORWARD_PROTOCOL]);
      if (!protocol) return refuseStreamProtocol(socket, req, [PORTFORWARD_PROTOCOL]);
      servePortForwardSpdy(acceptSpdyUpgrade(socket, head, protocol, this.ctx.log), forwardTarget);
      return;
    }
    const offered = offeredWebSocketProtocols(req);
    const protocol = this.negotiateWebSocket(req, PORTFORWARD_WEBSOCKET_PROTOCOLS);
    if (protocol === SPDY_TUNNEL_PORTFORWARD_PROTOCOL) {
      this.wss.handleUpgrade(req, socket, head, (ws) => servePortForwardSpdy(spdyOverWebSocket(ws, this.ctx.log), forwardTarget));
      return;
    }
    if (!protocol && offered.length > 0) {
      return writeHttpResponse(socket, 400, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORTFORWARD_WEBSOCKET_PROTOCOLS.join(' ')}]`);
    }
    const ports = portForwardPorts(target.query);
    if (ports.length === 0) throw badRequest('query parameter "port" is required');
    this.wss.handleUpgrade(req, socket, head, (ws) => servePortForwardChannels(ws, ports, forwardTarget));
  }

  private forwardTarget(pod: Pod): PortForwardTarget {
    return {
      podLabel: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`,
      podUid: pod.metadata?.uid ?? '',
      podIp: pod.status?.podIP || undefined,
      dial: this.ctx.dial,
      log: this.ctx.log,
    };
  }

  private negotiateWebSocket(req: IncomingMessage, supported: string[]): string | undefined {
    const protocol = negotiateProtocol(offeredWebSocketProtocols(req), supported);
    if (protocol) this.chosenProtocol.set(req, protocol);
    return protocol;
  }
}

function offeredWebSocketProtocols(req: IncomingMessage): string[] {
  return headerList(req.headers['sec-websocket-protocol']);
}
