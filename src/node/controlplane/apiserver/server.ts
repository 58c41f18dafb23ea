/**
 * The Kubernetes API server: HTTPS with client-certificate authentication, discovery, the
 * REST verbs on the Store, health endpoints. kubectl should not notice it is not
 * kube-apiserver (see /work/shared/notes/kubectl-against-a-custom-apiserver.md).
 *
 * Authorization: none yet. Every authenticated user (any certificate signed by the cluster
 * CA) may do everything, as if in system:masters; RBAC is not implemented.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Store } from '../store/store.js';
import { apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { ResourceHandlers } from './handlers.js';
import { sendJson, sendStatus, sendText } from './http-io.js';
import { NamespaceLifecycle } from './namespaces.js';
import { ObjectRegistry } from './objects.js';
import { parseResourcePath, type PathInfo } from './request-info.js';
import { findResource } from './resources.js';
import { ServiceAllocator } from './service-allocator.js';
import { ApiStatusError, internalError, notServed, pathNotFound, unauthorized } from './status.js';
import { createPodStreamContext } from './streams/context.js';
import { KubeletClient, type KubeletClientOptions } from './streams/kubelet-client.js';
import { isStreamSubresource, PodStreams, type StreamTarget } from './streams/pod-streams.js';
import { writeStatusResponse } from './streams/upgrade.js';

export interface ApiServerOptions {
  store: Store;
  /** HTTPS with client-certificate auth (PEM). Omit only in tests: plain HTTP, every request is user 'test'. */
  tls?: { ca: string; cert: string; key: string };
  host: string;
  port: number; // 0.0.0.0:6443 in a node; port 0 in tests
  serviceCidr: string; // ClusterIP allocation, e.g. '10.96.0.0/16'
  version: string; // '1.33.0' -> /version gitVersion 'v1.33.0', minor '33'
  log?: (line: string) => void;
  /** How often watches that allow bookmarks get one; 30 s unless told (tests shorten it). */
  bookmarkIntervalMs?: number;
  /** --default-{not-ready,unreachable}-toleration-seconds (kube: 300). */
  defaultTolerationSeconds?: number;
  /**
   * How logs/exec/attach reach the node agents (the kubelet API): the cluster CA and the
   * control plane's client pair. Omit only in tests: plain HTTP to the agents.
   */
  kubelet?: KubeletClientOptions;
}

export interface User {
  name: string;
  groups: string[];
}

/** Health and version answer without a certificate (kube allows them to anyone). */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
const READY_TIMEOUT_MS = 2000;
const BOOTSTRAP_RETRY_MS = 2000;
const OPENAPI_V2_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export async function startApiServer(opts: ApiServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const log = opts.log ?? (() => undefined);
  const allocator = new ServiceAllocator(opts.store, opts.serviceCidr);
  const registry = new ObjectRegistry({
    store: opts.store,
    allocator,
    log,
    ...(opts.defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds: opts.defaultTolerationSeconds } : {}),
  });
  const namespaces = new NamespaceLifecycle(registry, allocator);
  const handlers = new ResourceHandlers(registry, { store: opts.store, log, ...(opts.bookmarkIntervalMs ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}) });
  const podsResource = findResource('', 'v1', 'pods')!;
  const nodesResource = findResource('', 'v1', 'nodes')!;
  const podStreams = new PodStreams(
    createPodStreamContext({
      // Stored objects are Pods and Nodes by construction; the registry types them loosely.
      getPod: async (namespace, name) => (await registry.get(podsResource, namespace, name)) as unknown as Pod,
      getNode: async (name) => (await registry.get(nodesResource, undefined, name)) as unknown as Node,
      kubelet: new KubeletClient(opts.kubelet),
      log,
    }),
    podsResource,
  );
  let serverAddress = `${opts.host}:${opts.port}`;

  const onRequest = (req: IncomingMessage, resp: ServerResponse) => {
    const started = Date.now();
    const user = opts.tls ? certificateUser(req) : { name: 'test', groups: ['system:masters'] };
    resp.on('finish', () => {
      const method = req.method ?? 'GET';
      if (method !== 'GET' || resp.statusCode >= 400) {
        log(`${method} ${req.url ?? ''} ${resp.statusCode} ${Date.now() - started}ms user=${user ? describeUser(user) : '-'}`);
      }
    });
    route(req, resp, user).catch((err: unknown) => {
      const status = err instanceof ApiStatusError ? err : internalError(err instanceof Error ? err.message : String(err));
      if (!(err instanceof ApiStatusError)) log(`${req.method ?? ''} ${req.url ?? ''}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (resp.headersSent) resp.end();
      else sendStatus(resp, status);
    });
  };

  const route = async (req: IncomingMessage, resp: ServerResponse, user: User | undefined): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    if (!user && !PUBLIC_PATHS.has(path)) throw unauthorized();

    if (path === '/healthz' || path === '/livez') return sendText(resp, 200, 'ok');
    if (path === '/readyz') return sendReady(resp, opts.store);
    if (path === '/version') return sendJson(resp, 200, versionInfo(opts.version));
    if (path === '/api') return sendJson(resp, 200, apiVersions(serverAddress));
    if (path === '/apis') return sendJson(resp, 200, apiGroupList());
    if (path === '/openapi/v2') {
      // Enough for kubectl's client-side validation to go ahead (see the notes): kinds absent
      // from the schema are validated by the server.
      resp.writeHead(200, { 'Content-Type': OPENAPI_V2_TYPE, 'Content-Length': 0 });
      resp.end();
      return;
    }

    if (path.startsWith('/apis/autoscaling/')) {
      // HorizontalPodAutoscalers are out of scope (no metrics pipeline): say so plainly.
      throw notServed('autoscaling', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler is not part of clusterlab\'s control plane; scale by hand with kubectl scale');
    }
    const info = parseResourcePath(path);
    if (info.type === 'groupVersion') {
      const list = req.method === 'GET' ? apiResourceList(info.group, info.version) : undefined;
      if (!list) throw pathNotFound();
      return sendJson(resp, 200, list);
    }
    if (info.type === 'unknown') throw pathNotFound();
    const streamTarget = podStreamTarget(info, url.searchParams);
    if (streamTarget) return podStreams.handleRequest(req, resp, streamTarget);
    await handlers.handle(req, resp, {
      res: info.res,
      ...(info.namespace !== undefined ? { namespace: info.namespace } : {}),
      ...(info.name !== undefined ? { name: info.name } : {}),
      ...(info.subresource !== undefined ? { subresource: info.subresource } : {}),
      query: url.searchParams,
    });
  };

  const server = opts.tls
    ? https.createServer({ ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key, requestCert: true, rejectUnauthorized: false }, onRequest)
    : http.createServer(onRequest);
  // exec, attach and port-forward switch protocols (WebSocket or SPDY/3.1); the sockets they
  // take over are tracked so that close() can end them.
  const upgradedSockets = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgradedSockets.add(socket);
    socket.once('close', () => upgradedSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    try {
      const user = opts.tls ? certificateUser(req) : { name: 'test', groups: ['system:masters'] };
      log(`${req.method ?? ''} ${req.url ?? ''} upgrade ${req.headers.upgrade ?? ''} user=${user ? describeUser(user) : '-'}`);
      if (!user) return writeStatusResponse(socket, unauthorized());
      const url = new URL(req.url ?? '/', 'http://apiserver');
      const streamTarget = podStreamTarget(parseResourcePath(url.pathname.replace(/\/+$/, '')), url.searchParams);
      if (!streamTarget || streamTarget.subresource === 'log') return writeStatusResponse(socket, pathNotFound());
      void podStreams.handleUpgrade(req, socket, head, streamTarget);
    } catch (err) {
      writeStatusResponse(socket, internalError(err instanceof Error ? err.message : String(err)));
    }
  });

  // Watches are long; Node's default request timeout (5 min) would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  // Idle keep-alive connections stay open longer than Go's clients keep them (90 s), so the
  // client always closes first: with Node's 5 s default, a POST kubectl drain retries after
  // exactly 5 s could meet a connection the server had just closed, and fail with EOF.
  server.keepAliveTimeout = 120_000;

  // The namespaces every cluster has; when the store is not up yet, keep trying in the background.
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const bootstrap = async (): Promise<void> => {
    try {
      await namespaces.bootstrap();
    } catch (err) {
      log(`bootstrap (initial namespaces) failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
      if (!stopped) retryTimer = setTimeout(() => void bootstrap(), BOOTSTRAP_RETRY_MS);
    }
  };
  await bootstrap();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  serverAddress = `${opts.host}:${address.port}`;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${opts.tls ? 'https' : 'http'}://${urlHost}:${address.port}`;
  log(`API server listening on ${url}`);

  return {
    url,
    close: async () => {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      namespaces.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open watches would keep close() waiting for up to an hour.
        server.closeAllConnections();
        for (const socket of upgradedSockets) socket.destroy();
      });
    },
  };
}

/** The pod stream subresource a path addresses (pods/NAME/log|exec|attach|portforward), if any. */
function podStreamTarget(info: PathInfo, query: URLSearchParams): StreamTarget | undefined {
  if (info.type !== 'resource' || info.res.group !== '' || info.res.resource !== 'pods') return undefined;
  if (info.namespace === undefined || info.name === undefined || !isStreamSubresource(info.subresource)) return undefined;
  return { namespace: info.namespace, name: info.name, subresource: info.subresource, query };
}

/** The user a verified client certificate names: CN the user, O the groups. */
function certificateUser(req: IncomingMessage): User | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return undefined;
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined;
  const cn = subject?.CN;
  const o = subject?.O;
  const name = Array.isArray(cn) ? (cn[0] ?? '') : (cn ?? '');
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups };
}

function describeUser(user: User): string {
  return user.groups.length > 0 ? `${user.name}(${user.groups.join(',')})` : user.name;
}

async function sendReady(resp: ServerResponse, store: Store): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.revision(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
      }),
    ]);
    sendText(resp, 200, 'ok');
  } catch (err) {
    sendText(resp, 500, `[-]etcd failed: ${err instanceof Error ? err.message : String(err)}\nreadyz check failed`);
  } finally {
    clearTimeout(timer);
  }
}
