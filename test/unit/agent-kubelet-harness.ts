/**
 * The kubelet API under test: the real server, DockerStreams and DockerClient against the fake
 * engine on a unix socket, pods and runtime containers given by the test, certificates from
 * the cluster's own PKI code, and small https/WebSocket clients.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { WebSocket } from 'ws';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type CertificateAuthority, type KeyPairPem } from '../../src/cluster/pki.js';
import { DockerClient } from '../../src/node/agent/docker-client.js';
import { DockerStreams } from '../../src/node/agent/docker-streams.js';
import { startKubeletServer, type KubeletServer } from '../../src/node/agent/kubelet-server.js';
import type { RuntimeContainer, RuntimeState } from '../../src/node/agent/runtime.js';
import { FakeDockerEngine } from './agent-kubelet-fake-docker.js';

export interface Certificates {
  ca: CertificateAuthority;
  /** The control plane's pair: O=system:masters. */
  admin: KeyPairPem;
  /** A node's pair: signed by the CA but not a master. */
  node: KeyPairPem;
  serving: KeyPairPem;
}

export async function makeCertificates(): Promise<Certificates> {
  const ca = await createCertificateAuthority('kubelet-test-ca');
  return {
    ca,
    admin: await issueClientCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] }),
    node: await issueClientCertificate(ca, { commonName: 'system:node:worker1', organizations: ['system:nodes'] }),
    serving: await issueServerCertificate(ca, { commonName: 'system:node:worker1', dnsNames: ['worker1', 'localhost'], ipAddresses: ['127.0.0.1'] }),
  };
}

export function pod(name: string, uid: string, spec: Partial<NonNullable<Pod['spec']>> = {}, status: Pod['status'] = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec },
    status,
  };
}

export function container(
  id: string,
  owner: Pod,
  name: string,
  options: { attempt?: number; state?: RuntimeState; exitCode?: number; tty?: boolean; init?: boolean; sandbox?: boolean } = {},
): RuntimeContainer {
  return {
    id,
    identity: {
      uid: owner.metadata!.uid!,
      name: owner.metadata!.name!,
      namespace: owner.metadata!.namespace!,
      container: name,
      sandbox: options.sandbox ?? false,
      init: options.init ?? false,
      attempt: options.attempt ?? 0,
    },
    state: options.state ?? 'running',
    exitCode: options.exitCode ?? 0,
    oomKilled: false,
    startedAt: '2026-01-01T00:00:00Z',
    ...(options.state === 'exited' ? { finishedAt: '2026-01-01T00:01:00Z' } : {}),
    image: 'busybox:1.36',
    imageId: 'sha256:busybox',
    ...(options.tty ? { tty: true } : {}),
  };
}

export class KubeletHarness {
  readonly pods: Pod[] = [];
  readonly containers: RuntimeContainer[] = [];
  readonly logs: string[] = [];

  private constructor(
    readonly certs: Certificates,
    readonly docker: FakeDockerEngine,
    readonly server: KubeletServer,
    private readonly dir: string,
  ) {}

  static async start(certs: Certificates): Promise<KubeletHarness> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-api-'));
    const docker = await FakeDockerEngine.start(dir);
    const state: { harness?: KubeletHarness } = {};
    const server = await startKubeletServer({
      tls: { ca: certs.ca.certPem, cert: certs.serving.certPem, key: certs.serving.keyPem },
      host: '127.0.0.1',
      port: 0,
      pods: {
        findPod: (namespace, name) => state.harness!.pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name),
        podContainers: async (uid) => state.harness!.containers.filter((c) => c.identity.uid === uid),
      },
      streams: new DockerStreams(new DockerClient(docker.socketPath)),
      log: (line) => state.harness!.logs.push(line),
    });
    state.harness = new KubeletHarness(certs, docker, server, dir);
    return state.harness;
  }

  get baseUrl(): string {
    return `https://127.0.0.1:${this.server.port}`;
  }

  async close(): Promise<void> {
    await this.server.close();
    await this.docker.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** A GET with the given client pair (admin by default; null for none). */
  get(pathAndQuery: string, client: KeyPairPem | null = this.certs.admin): Promise<{ status: number; contentType: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(`${this.baseUrl}${pathAndQuery}`, { ca: this.certs.ca.certPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** A streamed GET: chunks as they arrive, and the request to abort. */
  stream(pathAndQuery: string): Promise<{ status: number; chunks: string[]; ended: Promise<void>; abort(): void }> {
    return new Promise((resolve, reject) => {
      const req = https.request(`${this.baseUrl}${pathAndQuery}`, { ca: this.certs.ca.certPem, cert: this.certs.admin.certPem, key: this.certs.admin.keyPem }, (res) => {
        const chunks: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => chunks.push(chunk));
        const ended = new Promise<void>((done) => {
          res.on('end', () => done());
          res.on('close', () => done());
        });
        resolve({ status: res.statusCode ?? 0, chunks, ended, abort: () => req.destroy() });
      });
      req.on('error', (err) => {
        if (!req.destroyed) reject(err);
      });
      req.end();
    });
  }

  /** Opens an exec/attach WebSocket; resolves once open, or with the refusal's status and body. */
  connect(pathAndQuery: string, protocols: string[] = ['v5.channel.k8s.io'], client: KeyPairPem | null = this.certs.admin): Promise<ChannelClient> {
    const url = `${this.baseUrl.replace('https', 'wss')}${pathAndQuery}`;
    const ws = new WebSocket(url, protocols, { ca: this.certs.ca.certPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) });
    return new Promise((resolve, reject) => {
      const channelClient = new ChannelClient(ws);
      ws.once('open', () => resolve(channelClient));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => reject(new RefusedUpgrade(res.statusCode ?? 0, body)));
      });
      ws.once('error', reject);
    });
  }
}

export class RefusedUpgrade extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

/** A WebSocket client of the channel protocol: what arrived per channel, and how it closed. */
export class ChannelClient {
  readonly received = new Map<number, Buffer[]>();
  /** Channels in order of arrival (to check ordering). */
  readonly order: number[] = [];
  readonly closed: Promise<{ code: number }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const channel = data[0]!;
      this.order.push(channel);
      const list = this.received.get(channel) ?? [];
      list.push(data.subarray(1));
      this.received.set(channel, list);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve({ code })));
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  text(channel: number): string {
    return Buffer.concat(this.received.get(channel) ?? []).toString('utf8');
  }

  status(): unknown {
    const text = this.text(3);
    return text === '' ? undefined : JSON.parse(text);
  }

  send(channel: number, data: string | Buffer): void {
    this.ws.send(Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]));
  }

  /** Resolves when some output on the channel includes the text. */
  async waitFor(channel: number, text: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text(channel).includes(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)} on channel ${channel}; got ${JSON.stringify(this.text(channel))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
