/**
 * pods/NAME/exec and attach driven by the real kubectl: 1.33 speaks WebSocket v5 (relayed to
 * the agent), 1.27 speaks SPDY/3.1 (translated to the agent's v5 channels).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Exec } from '@kubernetes/client-node';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clientNodeConfig, kubectlBinary, NODE_NAME, startStreamsWorld, type StreamsWorld } from './apiserver-streams-helpers.js';

let world: StreamsWorld;

beforeAll(async () => {
  world = await startStreamsWorld();
  await world.addPod({ name: 'web-1', nodeName: NODE_NAME, phase: 'Running' });
  await world.addPod({ name: 'crashing-1', nodeName: NODE_NAME, phase: 'Running', containerStatuses: [] });
  await world.addPod({ name: 'unscheduled-1' });
}, 30_000);
afterAll(async () => {
  await world?.close();
});

const VERSIONS = [
  { version: '1.33', protocol: 'WebSocket v5' },
  { version: '1.27', protocol: 'SPDY/3.1' },
];

describe.each(VERSIONS)('kubectl $version exec ($protocol)', ({ version }) => {
  it('passes stdout and stderr apart, and the exit code through', async () => {
    const r = await world.kubectl(version, ['exec', 'web-1', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    // kubectl adds its own line about the code it exits with.
    expect(r.stderr).toBe('err\ncommand terminated with exit code 3\n');
    expect(r.code).toBe(3);
  });

  it('succeeds with exit code 0', async () => {
    const r = await world.kubectl(version, ['exec', 'web-1', '-c', 'app', '--', 'echo', 'hello', 'world']);
    expect(r).toEqual({ code: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('pipes stdin with -i until its end', async () => {
    const input = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const r = await world.kubectl(version, ['exec', '-i', 'web-1', '--', 'sh', '-c', 'wc -l; echo done >&2'], { input });
    expect(r.stdout.trim()).toBe('2000');
    expect(r.stderr).toBe('done\n');
    expect(r.code).toBe(0);
  });

  it('attach -i talks to the container\'s process', async () => {
    world.agent.requests.length = 0;
    const r = await world.kubectl(version, ['attach', '-i', 'web-1'], { input: 'ping\n' });
    expect(r.stdout).toBe('attached\nping\n');
    expect(r.code).toBe(0);
    const req = world.agent.requests.find((q) => q.kind === 'attach');
    expect(req).toMatchObject({ pod: 'web-1', container: 'app' });
    expect(Object.fromEntries(req!.query)).toMatchObject({ input: '1', output: '1', error: '1' });
  });

  it('refuses as kube does when the container is not running or the pod not scheduled', async () => {
    const notRunning = await world.kubectl(version, ['exec', 'crashing-1', '--', 'true']);
    expect(notRunning.code).toBe(1);
    expect(notRunning.stderr).toContain('unable to upgrade connection: container not found ("app")');

    const unscheduled = await world.kubectl(version, ['exec', 'unscheduled-1', '--', 'true']);
    expect(unscheduled.code).toBe(1);
    expect(unscheduled.stderr).toContain('pod unscheduled-1 does not have a host assigned');
  });
});

describe('kubectl exec through a terminal (-it)', () => {
  it.each(['1.33', '1.27'])('kubectl %s sends tty and the terminal size', async (version) => {
    world.agent.requests.length = 0;
    world.agent.resizes.length = 0;
    // `script` gives kubectl a pseudo-terminal, as a user's shell would.
    const command = `${kubectlBinary(version)} --kubeconfig ${world.kubeconfig} --cache-dir ${path.join(world.tmp, 'cache')} exec -it web-1 -- sh -c 'sleep 0.5; echo from-tty; exit 4'`;
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('script', ['-qec', `stty cols 101 rows 33; ${command}`, '/dev/null'], { env: { ...process.env, HOME: world.tmp } });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(result.output).toContain('from-tty');
    expect(result.code).toBe(4);
    const req = world.agent.requests.find((q) => q.kind === 'exec');
    expect(req?.query.get('tty')).toBe('1');
    expect(req?.query.get('error')).toBeNull(); // no separate stderr with a terminal
    expect(world.agent.resizes.map((r) => JSON.parse(r) as unknown)).toContainEqual({ Width: 101, Height: 33 });
  });
});

describe('kubectl cp (exec with tar)', () => {
  it('copies a file out of and into the pod', async () => {
    mkdirSync(path.join(world.tmp, 'in-pod'), { recursive: true });
    writeFileSync(path.join(world.tmp, 'in-pod', 'greeting.txt'), 'hello from the pod\n');
    const out = await world.kubectl('1.33', ['cp', `web-1:${path.join(world.tmp, 'in-pod', 'greeting.txt')}`, path.join(world.tmp, 'copied.txt')]);
    expect(out.code).toBe(0);
    expect(readFileSync(path.join(world.tmp, 'copied.txt'), 'utf8')).toBe('hello from the pod\n');

    writeFileSync(path.join(world.tmp, 'upload.txt'), 'sent to the pod\n');
    const into = await world.kubectl('1.27', ['cp', path.join(world.tmp, 'upload.txt'), `web-1:${path.join(world.tmp, 'in-pod', 'uploaded.txt')}`]);
    expect(into.code).toBe(0);
    expect(readFileSync(path.join(world.tmp, 'in-pod', 'uploaded.txt'), 'utf8')).toBe('sent to the pod\n');
  });
});

describe('client libraries (WebSocket v5 and v4)', () => {
  it('@kubernetes/client-node exec: output, and the exit code in the status', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const status = await new Promise<Status>((resolve, reject) => {
      new Exec(clientNodeConfig(world.url))
        .exec('default', 'web-1', 'app', ['sh', '-c', 'echo node-out; echo node-err >&2; exit 5'], stdout, stderr, null, false, (s) => resolve(s as Status))
        .catch(reject);
    });
    expect(out).toBe('node-out\n');
    expect(err).toBe('node-err\n');
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '5' }] } });
  });

  it('a v4 client gets the same channels', async () => {
    const url = `${world.url.replace(/^http/, 'ws')}/api/v1/namespaces/default/pods/web-1/exec?command=echo&command=v4&stdout=true&stderr=true`;
    const messages = await new Promise<Buffer[]>((resolve, reject) => {
      const ws = new WebSocket(url, ['v4.channel.k8s.io']);
      const received: Buffer[] = [];
      ws.on('open', () => expect(ws.protocol).toBe('v4.channel.k8s.io'));
      ws.on('message', (data: Buffer) => received.push(data));
      ws.on('close', () => resolve(received));
      ws.on('error', reject);
    });
    expect(messages.map((m) => m[0])).not.toContain(255);
    expect(messages.find((m) => m[0] === 1)?.subarray(1).toString()).toBe('v4\n');
    expect(JSON.parse(messages.find((m) => m[0] === 3)!.subarray(1).toString())).toEqual({ metadata: {}, status: 'Success' });
  });

  it('the agent\'s close messages are not passed on to v5 clients either (kubectl and client-node do not expect them)', async () => {
    const url = `${world.url.replace(/^http/, 'ws')}/api/v1/namespaces/default/pods/web-1/exec?command=echo&command=v5&stdout=true`;
    const messages = await new Promise<Buffer[]>((resolve, reject) => {
      const ws = new WebSocket(url, ['v5.channel.k8s.io']);
      const received: Buffer[] = [];
      ws.on('message', (data: Buffer) => received.push(data));
      ws.on('close', () => resolve(received));
      ws.on('error', reject);
    });
    expect(messages.map((m) => m[0])).toEqual([1, 3]);
  });

  it('refuses a WebSocket without a protocol it speaks, and a plain request', async () => {
    const url = `${world.url.replace(/^http/, 'ws')}/api/v1/namespaces/default/pods/web-1/exec?command=true&stdout=true`;
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, ['channel.k8s.io']);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(400);
    const plain = await world.api('POST', '/api/v1/namespaces/default/pods/web-1/exec?command=true&stdout=true');
    expect(plain.status).toBe(400);
    expect(plain.json.message).toBe('Upgrade request required');
  });
});
