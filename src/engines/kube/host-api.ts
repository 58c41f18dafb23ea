/**
 * The host's view of a kube cluster's API: the admin credentials (read back from a control
 * plane, where `up` put them, so nothing depends on local files) and a small JSON client for
 * what the host itself asks (readiness, nodes). Users and labs use kubectl / client libraries.
 */
import https from 'node:https';
import type Docker from 'dockerode';
import { NODE_PKI_DIR } from '../../common/node-config.js';
import { UserError } from '../../common/errors.js';
import { execOrThrow } from '../../docker/exec.js';
import type { NodeRecord } from '../../docker/provider.js';
import { PKI_FILES } from '../../cluster/node-files.js';

export interface KubeAccess {
  /** https://127.0.0.1:PORT of a running control plane. */
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** The running control planes with a published API port, the first-created first. */
export function apiNodes(nodes: NodeRecord[]): NodeRecord[] {
  return nodes.filter((n) => n.role === 'manager' && n.state === 'running' && n.apiPort !== undefined).sort((a, b) => a.index - b.index);
}

export async function readKubeAccess(docker: Docker, nodes: NodeRecord[], signal?: AbortSignal): Promise<KubeAccess> {
  const [node] = apiNodes(nodes);
  if (!node) throw new UserError('no control-plane node of this cluster is running', { hint: 'start the cluster: clusterlab start' });
  const read = async (file: string) =>
    (await execOrThrow(docker, node.containerId, ['cat', `${NODE_PKI_DIR}/${file}`], { timeoutMs: 10_000, signal }, `node ${node.name}`)).stdout;
  const [caPem, certPem, keyPem] = await Promise.all([read(PKI_FILES.ca), read(PKI_FILES.client), read(PKI_FILES.clientKey)]);
  return { server: `https://127.0.0.1:${node.apiPort}`, caPem, certPem, keyPem };
}

export class KubeRequestError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
  ) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

/** A request to the API server; the parsed JSON body (or text when not JSON). Non-2xx: KubeRequestError. */
export function kubeRequest<T>(
  access: KubeAccess,
  method: 'GET' | 'DELETE' | 'POST' | 'PATCH',
  path: string,
  opts: { body?: unknown; contentType?: string; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return new Promise<T>((resolve, reject) => {
    const url = new URL(path, access.server);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = https.request(
      url,
      {
        method,
        ca: access.caPem,
        cert: access.certPem,
        key: access.keyPem,
        timeout: timeoutMs,
        signal: opts.signal,
        headers: {
          Accept: 'application/json',
          'User-Agent': 'clusterlab',
          ...(payload !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code < 200 || code > 299) return reject(new KubeRequestError(`${method} ${path}: ${code} ${body.slice(0, 300)}`, code));
          try {
            resolve(JSON.parse(body) as T);
          } catch {
            resolve(body as T);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new KubeRequestError(`${method} ${path}: no answer within ${timeoutMs} ms`, undefined)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function kubeGet<T>(access: KubeAccess, path: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
  return kubeRequest<T>(access, 'GET', path, opts);
}
