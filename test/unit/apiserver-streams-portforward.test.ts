/**
 * pods/NAME/portforward driven by the real kubectl (1.33: SPDY tunnelled in a WebSocket,
 * 1.27: SPDY/3.1 directly) and by @kubernetes/client-node (WebSocket channels). The "pod"
 * is a local HTTP server: the test pods' podIP is 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { PortForward } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientNodeConfig, NODE_NAME, startStreamsWorld, waitForOutput, type StreamsWorld } from './apiserver-streams-helpers.js';

let world: StreamsWorld;
let podServer: http.Server;
let podPort: number;
/** A port nothing listens on. */
let closedPort: number;

beforeAll(async () => {
  world = await startStreamsWorld();
  podServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`hello from the pod, you asked for ${req.url}`);
  });
  await new Promise<void>((resolve) => podServer.listen(0, '127.0.0.1', resolve));
  podPort = (podServer.address() as AddressInfo).port;
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  await world.addPod({ name: 'web-1', nodeName: NODE_NAME, phase: 'Running', podIP: '127.0.0.1', labels: { app: 'web' }, ports: [podPort] });
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: podPort }] },
  };
  expect((await world.api('POST', '/api/v1/namespaces/default/services', service)).status).toBe(201);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
  };
  expect((await world.api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment)).status).toBe(201);
}, 30_000);
afterAll(async () => {
  await world?.close();
  await new Promise<void>((resolve) => podServer?.close(() => resolve()));
});

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** Runs `kubectl port-forward RESOURCE :REMOTE`, returns the local port and a stop function. */
async function portForward(version: string, resource: string, remote: number): Promise<{ localPort: number; output: () => string; stop: () => Promise<void> }> {
  const child = world.spawnKubectl(version, ['port-forward', resource, `:${remote}`]);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const match = await waitForOutput(child, /Forwarding from 127\.0\.0\.1:(\d+) ->/);
  return {
    localPort: Number(match[1]),
    output: () => output,
    stop: async () => {
      child.kill('SIGINT');
      await closed;
    },
  };
}

describe.each([
  { version: '1.33', protocol: 'SPDY in a WebSocket' },
  { version: '1.27', protocol: 'SPDY/3.1' },
])('kubectl $version port-forward ($protocol)', ({ version }) => {
  it('serves HTTP requests from the pod through the forwarded port, several connections in turn', async () => {
    const forward = await portForward(version, 'pod/web-1', podPort);
    try {
      expect(await httpGet(forward.localPort, '/first')).toBe('hello from the pod, you asked for /first');
      expect(await httpGet(forward.localPort, '/second')).toBe('hello from the pod, you asked for /second');
      const parallel = await Promise.all([1, 2, 3].map((i) => httpGet(forward.localPort, `/p${i}`)));
      expect(parallel).toEqual([1, 2, 3].map((i) => `hello from the pod, you asked for /p${i}`));
      expect(forward.output()).toContain('Handling connection for');
    } finally {
      await forward.stop();
    }
  });

  it('reports a port nothing listens on as the kubelet words it', async () => {
    const forward = await portForward(version, 'pod/web-1', closedPort);
    try {
      await httpGet(forward.localPort, '/').catch(() => '');
      await expect.poll(() => forward.output(), { timeout: 5000 }).toMatch(new RegExp(`error forwarding port ${closedPort} to pod default/web-1, uid [0-9a-f-]+: failed to connect to 127\\.0\\.0\\.1:${closedPort}`));
    } finally {
      await forward.stop();
    }
  });
});

describe('kubectl port-forward to a service and a deployment', () => {
  it('svc/NAME forwards to the target port of a selected pod', async () => {
    const forward = await portForward('1.33', 'svc/web', 80);
    try {
      expect(forward.output()).toContain(`-> ${podPort}`);
      expect(await httpGet(forward.localPort, '/svc')).toBe('hello from the pod, you asked for /svc');
    } finally {
      await forward.stop();
    }
  });

  it('deploy/NAME forwards to one of its pods', async () => {
    const forward = await portForward('1.30', 'deploy/web', podPort);
    try {
      expect(await httpGet(forward.localPort, '/deploy')).toBe('hello from the pod, you asked for /deploy');
    } finally {
      await forward.stop();
    }
  });
});

describe('@kubernetes/client-node port-forward (WebSocket channels)', () => {
  it('sends the request on channel 0 and gets the answer back', async () => {
    const kc = clientNodeConfig(world.url);
    const output = new PassThrough();
    const errors = new PassThrough();
    const input = new PassThrough();
    let received = '';
    output.on('data', (c: Buffer) => (received += c.toString('utf8')));
    let errorText = '';
    errors.on('data', (c: Buffer) => (errorText += c.toString('utf8')));
    const ws = await new PortForward(kc).portForward('default', 'web-1', [podPort], output, errors, input);
    input.write('GET /client-node HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n');
    await expect.poll(() => received, { timeout: 5000 }).toContain('hello from the pod, you asked for /client-node');
    expect(received).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(errorText).toBe('');
    (ws as { close(): void }).close();
  });
});
