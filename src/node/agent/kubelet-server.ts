/**
 * The agent's kubelet API on KUBELET_PORT, which the API server relays kubectl's streams to:
 * GET /containerLogs/{namespace}/{pod}/{container}, and /exec/… and /attach/… as WebSocket
 * upgrades. HTTPS with the node's serving pair; only clients whose certificate the cluster CA
 * signed for O=system:masters (the control plane) get in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { WebSocketServer } from 'ws';
import { parseLogOptions, selectLogContainer, serveContainerLogs } from './container-logs.js';
import {
  chooseStreamProtocol,
  execEndStatus,
  internalErrorStatus,
  parseStreamSelection,
  runChannelSession,
  selectRunningContainer,
  successStatus,
  type ChannelSessionOptions,
} from './exec-stream.js';
import { KubeletApiError, refuseUpgrade, sendTextError } from './kubelet-errors.js';
import type { ContainerStreams, RuntimeContainer } from './runtime.js';

/** What the server needs to know about pods: the agent's pods and the runtime's containers. */
export interface PodLookup {
  /** A pod bound to this node, as the agent knows it. */
  findPod(namespace: string, name: string): Pod | undefined;
  /** The runtime's containers of one pod (sandboxes included). */
  podContainers(podUid: string): Promise<RuntimeContainer[]>;
}

export interface KubeletServerOptions {
  /** PEM: the cluster CA (client certificates must chain to it) and the node's serving pair. */
  tls: { ca: string; cert: string; key: string };
  host?: string;
  /** KUBELET_PORT in production; 0 for any free port (tests). */
  port: number;
  pods: PodLookup;
  streams: ContainerStreams;
  log(line: string): void;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

const ALLOWED_GROUP = 'system:masters';

type Route = { kind: 'containerLogs' | 'exec' | 'attach'; namespace: string; pod: string; uid?: string; container: string };

/** /{kind}/{namespace}/{pod}/{container}, or with the pod's uid before the container (exec, attach). */
export function parseRoute(pathname: string): Route | undefined {
  let parts: string[];
  try {
    parts = pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined; // malformed escapes
  }
  const [kind, namespace, pod, ...rest] = parts;
  if (kind !== 'containerLogs' && kind !== 'exec' && kind !== 'attach') return undefined;
  if (!namespace || !pod) return undefined;
  if (rest.length === 1 && rest[0]) return { kind, namespace, pod, container: rest[0] };
  if (rest.length === 2 && kind !== 'containerLogs' && rest[0] && rest[1]) return { kind, namespace, pod, uid: rest[0], container: rest[1] };
  return undefined;
}

/** undefined when the client may in; otherwise the status and message to refuse it with. */
function authorize(req: IncomingMessage): { status: number; message: string } | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return { status: 401, message: 'Unauthorized' };
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined;
  const groups = ([] as (string | undefined)[]).concat(subject?.O ?? []);
  if (groups.includes(ALLOWED_GROUP)) return undefined;
  const user = ([] as (string | undefined)[]).concat(subject?.CN ?? [])[0] ?? '';
  const verb = req.method === 'GET' ? 'get' : 'create';
  return { status: 403, message: `Forbidden (user=${user}, verb=${verb}, resource=nodes, subresource=proxy)` };
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const { pods, streams, log } = opts;
  // Protocols are chosen (or refused) before the upgrade; ws only echoes the choice.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => chooseStreamProtocol([...offered].join(',')) ?? false });

  const resolvePod = (route: Route, notFound: string): Pod => {
    const pod = pods.findPod(route.namespace, route.pod);
    if (!pod || (route.uid !== undefined && pod.metadata?.uid !== route.uid)) throw new KubeletApiError(404, notFound);
    return pod;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = parseRoute(url.pathname);
    const refused = authorize(req);
    if (refused) return sendTextError(res, refused.status, refused.message);
    if (!route) return sendTextError(res, 404, '404 page not found');
    if (route.kind !== 'containerLogs') return sendTextError(res, 400, 'Upgrade request required');
    if (req.method !== 'GET') return sendTextError(res, 405, 'Method Not Allowed');
    void (async () => {
      const options = parseLogOptions(url.searchParams);
      const pod = resolvePod(route, `pod "${route.pod}" does not exist`);
      const containers = await pods.podContainers(pod.metadata?.uid ?? '');
      const container = selectLogContainer(pod, containers, route.container, options.previous);
      await serveContainerLogs(res, streams, container, options);
    })().catch((err: unknown) => {
      if (err instanceof KubeletApiError) return sendTextError(res, err.statusCode, err.message);
      log(`kubelet API: ${req.url}: ${(err as Error).message}`);
      sendTextError(res, 500, (err as Error).message);
    });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = parseRoute(url.pathname);
    const refused = authorize(req);
    if (refused) return refuseUpgrade(socket, refused.status, refused.message);
    if (!route || route.kind === 'containerLogs') return refuseUpgrade(socket, 404, '404 page not found');
    void (async () => {
      const selection = parseStreamSelection(url.searchParams);
      const pod = resolvePod(route, 'pod does not exist');
      const container = selectRunningContainer(await pods.podContainers(pod.metadata?.uid ?? ''), route.container);
      const protocol = chooseStreamProtocol(req.headers['sec-websocket-protocol']);
      if (!protocol) throw new KubeletApiError(400, `no supported stream protocol: expected one of v5.channel.k8s.io, v4.channel.k8s.io`);
      const command = url.searchParams.getAll('command');
      const session: ChannelSessionOptions =
        route.kind === 'exec'
          ? {
              protocol,
              selection,
              open: (onOutput) => streams.exec(container.id, command, selection, onOutput),
              endStatus: (end) => execEndStatus(command, end),
              openErrorStatus: (message) => internalErrorStatus(`error executing command in container: ${message}`),
            }
          : {
              protocol,
              // The container's own TTY decides docker's framing, whatever the client asked.
              selection: { ...selection, tty: container.tty === true },
              open: (onOutput) => streams.attach(container.id, { ...selection, tty: container.tty === true }, onOutput),
              endStatus: (end) => (end.error ? internalErrorStatus(`error attaching to container: ${end.error}`) : successStatus()),
              openErrorStatus: (message) => internalErrorStatus(`error attaching to container: ${message}`),
            };
      wss.handleUpgrade(req, socket, head, (ws) => {
        void runChannelSession(ws, session).catch((err: Error) => log(`kubelet API: ${route.kind} ${route.namespace}/${route.pod}/${route.container}: ${err.message}`));
      });
    })().catch((err: unknown) => {
      if (err instanceof KubeletApiError) return refuseUpgrade(socket, err.statusCode, err.message);
      log(`kubelet API: ${req.url}: ${(err as Error).message}`);
      refuseUpgrade(socket, 500, (err as Error).message);
    });
  };

  const server = https.createServer({ ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key, requestCert: true, rejectUnauthorized: false }, onRequest);
  // Followed logs and interactive sessions last as long as the client wants.
  server.requestTimeout = 0;
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
