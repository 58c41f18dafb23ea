/**
 * The stream protocols at frame level, where kubectl cannot be made to show them: SPDY exec
 * with a terminal and the older remote-command protocols, protocol refusals, old port-forward
 * clients without requestID, and the agent reached over TLS with the control plane's pair.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from '../../src/cluster/pki.js';
import { SpdySession, type SpdyStream } from '../../src/node/controlplane/apiserver/streams/spdy-session.js';
import { startFakeAgent, type FakeAgent } from './apiserver-streams-fake-agent.js';
import { NODE_NAME, startStreamsWorld, type StreamsWorld } from './apiserver-streams-helpers.js';

type Upgraded = { switched: true; protocol: string; session: SpdySession; socket: net.Socket } | { switched: false; status: number; body: string };

/** The upgrade that must succeed. */
async function switched(base: string, path: string, protocols: string[]): Promise<Extract<Upgraded, { switched: true }>> {
  const up = await spdyUpgrade(base, path, protocols);
  if (!up.switched) throw new Error(`upgrade refused: ${up.status} ${up.body}`);
  return up;
}

/** The upgrade that must be refused. */
async function refused(base: string, path: string, protocols: string[]): Promise<{ status: number; body: string }> {
  const up = await spdyUpgrade(base, path, protocols);
  if (up.switched) {
    up.socket.destroy();
    throw new Error('upgrade was not refused');
  }
  return up;
}

/** A SPDY/3.1 upgrade as kubectl 1.27 makes it, then a client session on the socket. */
async function spdyUpgrade(base: string, path: string, protocols: string[]): Promise<Upgraded> {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    [`POST ${path} HTTP/1.1`, `Host: ${url.host}`, 'Content-Length: 0', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', ...protocols.map((p) => `X-Stream-Protocol-Version: ${p}`), '', ''].join('\r\n'),
  );
  let buffered = Buffer.alloc(0);
  const headEnd = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end >= 0) {
        socket.off('data', onData);
        socket.pause();
        resolve(end + 4);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  const head = buffered.subarray(0, headEnd).toString('latin1');
  const status = Number(head.split(' ')[1]);
  if (status !== 101) {
    socket.resume();
    let body = buffered.subarray(headEnd).toString('utf8');
    await new Promise<void>((resolve) => {
      socket.on('data', (c: Buffer) => (body += c.toString('utf8')));
      socket.on('close', () => resolve());
    });
    return { switched: false, status, body };
  }
  const protocol = /X-Stream-Protocol-Version: (.*)\r\n/i.exec(head)?.[1] ?? '';
  const session = new SpdySession({ write: (b) => socket.write(b), close: () => socket.end() }, { role: 'client' });
  socket.on('data', (chunk: Buffer) => session.receive(chunk));
  socket.on('close', () => session.transportClosed());
  socket.resume();
  const rest = buffered.subarray(headEnd);
  if (rest.length > 0) session.receive(rest);
  return { switched: true, protocol, session, socket };
}

function readAll(stream: SpdyStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
    stream.on('end', () => resolve(text));
    stream.on('close', () => resolve(text));
  });
}

let world: StreamsWorld;

beforeAll(async () => {
  world = await startStreamsWorld();
  await world.addPod({ name: 'web-1', nodeName: NODE_NAME, phase: 'Running', podIP: '127.0.0.1' });
}, 30_000);
afterAll(async () => {
  await world?.close();
});

const EXEC = '/api/v1/namespaces/default/pods/web-1/exec';

describe('SPDY exec at frame level', () => {
  it('v4 with a terminal: stdin in, stdout out, each resize as its own agent message, the Status as JSON', async () => {
    world.agent.resizes.length = 0;
    const up = await switched(world.url, `${EXEC}?command=cat&stdin=true&stdout=true&tty=true`, ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    expect(up.protocol).toBe('v4.channel.k8s.io');
    const error = await up.session.openStream({ streamtype: ['error'] });
    const stdin = await up.session.openStream({ streamtype: ['stdin'] });
    const stdout = await up.session.openStream({ streamtype: ['stdout'] });
    const resize = await up.session.openStream({ streamtype: ['resize'] });
    const errorText = readAll(error);
    const output = readAll(stdout);
    // Two sizes in one write, then one split over two writes.
    resize.write('{"Width":80,"Height":24}\n{"Width":100,"Height":30}\n{"Width":1');
    resize.write('20,"Height":40}\n');
    await expect.poll(() => world.agent.resizes.length).toBe(3);
    stdin.end('typed in\n');
    expect(await output).toBe('typed in\n');
    expect(JSON.parse(await errorText)).toEqual({ metadata: {}, status: 'Success' });
    expect(world.agent.resizes.map((r) => JSON.parse(r) as unknown)).toEqual([
      { Width: 80, Height: 24 },
      { Width: 100, Height: 30 },
      { Width: 120, Height: 40 },
    ]);
    up.socket.destroy();
  });

  it('v3 and older: the error stream carries the plain message, nothing on success', async () => {
    const failing = await switched(world.url, `${EXEC}?command=sh&command=-c&command=exit+2&stdout=true&stderr=true`, ['v3.channel.k8s.io']);
    const error = await failing.session.openStream({ streamtype: ['error'] });
    const errorText = readAll(error);
    await failing.session.openStream({ streamtype: ['stdout'] });
    await failing.session.openStream({ streamtype: ['stderr'] });
    expect(await errorText).toBe('command terminated with non-zero exit code: error executing command [sh -c exit 2], exit code 2');
    failing.socket.destroy();

    const ok = await switched(world.url, `${EXEC}?command=true&stdout=true`, ['v2.channel.k8s.io']);
    const okError = await ok.session.openStream({ streamtype: ['error'] });
    const okText = readAll(okError);
    await ok.session.openStream({ streamtype: ['stdout'] });
    expect(await okText).toBe('');
    ok.socket.destroy();
  });

  it('refuses a client whose protocols it does not speak, as kube\'s handshake does', async () => {
    const up = await refused(world.url, `${EXEC}?command=true&stdout=true`, ['v5.channel.k8s.io']);
    expect(up.status).toBe(403);
    expect(up.body).toBe('unable to upgrade: unable to negotiate protocol: client supports [v5.channel.k8s.io], server accepts [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]');
  });

  it('passes the agent\'s refusal on as plain text (kubectl: "unable to upgrade connection: ...")', async () => {
    world.agent.refuseStreams = { code: 500, body: 'container not found ("app")' };
    try {
      const up = await refused(world.url, `${EXEC}?command=true&stdout=true`, ['v4.channel.k8s.io']);
      expect(up).toEqual({ switched: false, status: 500, body: 'container not found ("app")' });
    } finally {
      delete world.agent.refuseStreams;
    }
  });

  it('answers a Status for a pod that does not exist', async () => {
    const up = await refused(world.url, '/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true', ['v4.channel.k8s.io']);
    expect(up.status).toBe(404);
    expect(JSON.parse(up.body)).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
  });
});

describe('SPDY port-forward at frame level', () => {
  it('pairs the streams of clients that send no requestID by their stream ids', async () => {
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const port = (echo.address() as net.AddressInfo).port;
    try {
      const up = await switched(world.url, '/api/v1/namespaces/default/pods/web-1/portforward', ['portforward.k8s.io']);
      const error = await up.session.openStream({ streamtype: ['error'], port: [String(port)] });
      error.end();
      const data = await up.session.openStream({ streamtype: ['data'], port: [String(port)] });
      const echoed = readAll(data);
      data.end('echo me');
      expect(await echoed).toBe('echo me');
      expect(await readAll(error)).toBe('');
      up.socket.destroy();
    } finally {
      echo.close();
    }
  });
});

describe('the agent over TLS', () => {
  let tlsAgent: FakeAgent;
  let tlsWorld: StreamsWorld;
  let strangerWorld: StreamsWorld;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('streams-test-ca');
    const serving = await issueServerCertificate(ca, { commonName: 'node-1', dnsNames: [], ipAddresses: ['127.0.0.1'] });
    const controlPlane = await issueClientCertificate(ca, { commonName: 'system:kube-controlplane', organizations: ['system:masters'] });
    tlsAgent = await startFakeAgent({ tls: { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem } });
    tlsWorld = await startStreamsWorld({ agent: tlsAgent, kubelet: { tls: { ca: ca.certPem, cert: controlPlane.certPem, key: controlPlane.keyPem } } });
    await tlsWorld.addPod({ name: 'web-1', nodeName: NODE_NAME, phase: 'Running' });
    // An API server that trusts another CA must not talk to this agent.
    const otherCa = await createCertificateAuthority('someone-else');
    const otherPair = await issueClientCertificate(otherCa, { commonName: 'mallory', organizations: ['system:masters'] });
    strangerWorld = await startStreamsWorld({ agent: tlsAgent, kubelet: { tls: { ca: otherCa.certPem, cert: otherPair.certPem, key: otherPair.keyPem } } });
    await strangerWorld.addPod({ name: 'web-1', nodeName: NODE_NAME, phase: 'Running' });
  }, 60_000);
  afterAll(async () => {
    await tlsWorld?.close();
    await strangerWorld?.close();
    await tlsAgent?.close();
  });

  it('reads logs and runs exec with the control plane\'s client certificate', async () => {
    const logs = await tlsWorld.kubectl('1.33', ['logs', 'web-1']);
    expect(logs.stdout).toBe('line 1\nline 2\n');
    const exec = await tlsWorld.kubectl('1.27', ['exec', 'web-1', '--', 'echo', 'over tls']);
    expect(exec).toMatchObject({ code: 0, stdout: 'over tls\n' });
    expect(tlsAgent.requests.map((r) => r.clientSubject)).toEqual(['CN=system:kube-controlplane,O=system:masters', 'CN=system:kube-controlplane,O=system:masters']);
  });

  it('refuses an agent whose certificate the cluster CA did not sign', async () => {
    const logs = await strangerWorld.kubectl('1.33', ['logs', 'web-1']);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toMatch(/Error from server: Get "https:\/\/127\.0\.0\.1:\d+\/containerLogs\/default\/web-1\/app": .*certificate/);
    const exec = await strangerWorld.kubectl('1.33', ['exec', 'web-1', '--', 'true']);
    expect(exec.code).toBe(1);
    expect(exec.stderr).toContain('error dialing backend');
  });
});
