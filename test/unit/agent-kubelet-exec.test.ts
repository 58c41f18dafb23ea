/**
 * exec and attach over the channel.k8s.io WebSocket protocols, through the real kubelet
 * server and DockerStreams against a fake dockerd that hijacks connections with docker's own
 * framing: stdout/stderr separation, exit codes, stdin and stdin EOF, TTY and resize, start
 * failures, attach, clients that leave, and the refusals before the upgrade.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { container, eventually, KubeletHarness, makeCertificates, pod, RefusedUpgrade } from './agent-kubelet-harness.js';

let harness: KubeletHarness;

beforeAll(async () => {
  harness = await KubeletHarness.start(await makeCertificates());
});
afterAll(async () => {
  await harness?.close();
});

const web = pod('web-1', 'uid-web-1', { containers: [{ name: 'app', image: 'busybox:1.36' }, { name: 'console', image: 'busybox:1.36', tty: true, stdin: true }] }, { phase: 'Running' });

beforeEach(() => {
  harness.pods.length = 0;
  harness.containers.length = 0;
  harness.docker.containers.clear();
  harness.docker.programs.clear();
  harness.docker.execs.clear();
  harness.docker.exitCodeDelayMs = 30;
  harness.pods.push(web);
  harness.containers.push(
    container('sandbox-web-1', web, 'POD', { sandbox: true }),
    container('app-web-1', web, 'app'),
    container('console-web-1', web, 'console', { tty: true }),
  );
  harness.docker.addContainer('sandbox-web-1');
  harness.docker.addContainer('app-web-1');
  harness.docker.addContainer('console-web-1', { tty: true });
});

function execPath(command: string[], flags: string, containerName = 'app'): string {
  return `/exec/default/web-1/${containerName}?${command.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${flags}`;
}

async function expectRefused(promise: Promise<unknown>, status: number, body: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RefusedUpgrade);
  expect((err as RefusedUpgrade).status).toBe(status);
  expect((err as RefusedUpgrade).body.trim()).toBe(body);
}

describe('exec', () => {
  it('separates stdout and stderr and ends with the exit code as kubectl reads it', async () => {
    const command = ['sh', '-c', 'echo hi; echo oops >&2; exit 3'];
    harness.docker.programs.set(command.join(' '), (proc) => {
      proc.write(1, 'hi\n');
      proc.write(2, 'oops\n');
      proc.exit(3);
    });
    const client = await harness.connect(execPath(command, 'output=1&error=1'));
    expect(client.protocol).toBe('v5.channel.k8s.io');
    const { code } = await client.closed;
    expect(code).toBe(1000);
    expect(client.text(1)).toBe('hi\n');
    expect(client.text(2)).toBe('oops\n');
    expect(client.text(3)).toBe(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c echo hi; echo oops >&2; exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
    );
    expect(client.order.at(-1)).toBe(3); // the status comes last
    const [exec] = harness.docker.execsOf('app-web-1');
    expect(exec).toMatchObject({ cmd: command, tty: false, attachStdin: false, attachStdout: true, attachStderr: true });
  });

  it('reports Success for exit code 0, even when dockerd records it a moment late', async () => {
    harness.docker.exitCodeDelayMs = 150;
    harness.docker.programs.set('date', (proc) => {
      proc.write(1, 'Mon Mar  2 10:00:00 UTC 2026\n');
      proc.exit(0);
    });
    const client = await harness.connect(execPath(['date'], 'output=1&error=1'));
    await client.closed;
    expect(client.text(1)).toBe('Mon Mar  2 10:00:00 UTC 2026\n');
    expect(client.text(3)).toBe('{"metadata":{},"status":"Success"}');
  });

  it('passes stdin through and closes the process\'s stdin on the v5 close message', async () => {
    harness.docker.programs.set('cat', (proc) => {
      proc.onStdin = (data) => proc.write(1, data.toString('utf8'));
      proc.onStdinEnd = () => proc.exit(0);
    });
    const client = await harness.connect(execPath(['cat'], 'input=1&output=1&error=1'));
    client.send(0, 'hello ');
    client.send(0, 'world\n');
    await client.waitFor(1, 'hello world\n');
    const [exec] = harness.docker.execsOf('app-web-1');
    expect(exec!.process!.stdinEnded).toBe(false);
    client.send(255, Buffer.from([0]));
    await client.closed;
    expect(exec!.process!.stdinEnded).toBe(true);
    expect(exec!.attachStdin).toBe(true);
    expect(client.text(1)).toBe('hello world\n');
    expect(client.status()).toEqual({ metadata: {}, status: 'Success' });
  });

  it('with a TTY: one raw stream on channel 1, no stderr, and resizes reach docker', async () => {
    harness.docker.programs.set('sh', (proc) => {
      proc.write(1, '/ # ');
      proc.onStdin = (data) => {
        if (data.toString() === 'exit\r') proc.exit(0);
        else proc.write(1, data.toString());
      };
    });
    const client = await harness.connect(execPath(['sh'], 'input=1&output=1&error=1&tty=1'));
    client.send(4, '{"Width":120,"Height":40}');
    await client.waitFor(1, '/ # ');
    client.send(0, 'ls\r');
    await client.waitFor(1, 'ls\r');
    const [exec] = harness.docker.execsOf('app-web-1');
    await eventually(() => exec!.resizes.length === 1);
    expect(exec!.resizes).toEqual([{ w: 120, h: 40 }]);
    client.send(0, 'exit\r');
    await client.closed;
    expect(exec).toMatchObject({ tty: true, attachStdin: true, attachStderr: false });
    expect(client.received.has(2)).toBe(false);
    expect(client.text(1)).toBe('/ # ls\r');
    expect(client.text(3)).toBe('{"metadata":{},"status":"Success"}');
  });

  it('a command that cannot start: a Failure with docker\'s message, not output', async () => {
    const client = await harness.connect(execPath(['nosuchcmd'], 'output=1&error=1'));
    await client.closed;
    expect(client.received.has(1)).toBe(false);
    const status = client.status() as { status: string; reason: string; message: string; code: number };
    expect(status).toMatchObject({ metadata: {}, status: 'Failure', reason: 'InternalError', code: 500 });
    expect(status.message).toBe(
      'Internal error occurred: error executing command in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown',
    );
  });

  it('speaks v4.channel.k8s.io too (exit codes the same way)', async () => {
    harness.docker.programs.set('false', (proc) => proc.exit(1));
    const client = await harness.connect(execPath(['false'], 'output=1&error=1'), ['v4.channel.k8s.io']);
    expect(client.protocol).toBe('v4.channel.k8s.io');
    await client.closed;
    expect(client.status()).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1' }] } });
  });

  it('a client that goes away leaves docker\'s connection closed', async () => {
    harness.docker.programs.set('sleep 3600', () => {});
    const client = await harness.connect(execPath(['sleep', '3600'], 'output=1&error=1'));
    await eventually(() => harness.docker.execsOf('app-web-1')[0]?.socket !== undefined);
    const socket = harness.docker.execsOf('app-web-1')[0]!.socket!;
    client.ws.close();
    await eventually(() => socket.destroyed || socket.readableEnded);
  });
});

describe('exec and attach refusals before the upgrade', () => {
  it('404 for a pod this node does not run', async () => {
    await expectRefused(harness.connect('/exec/default/nope/app?command=ls&output=1'), 404, 'pod does not exist');
  });

  it('500 container not found for an unknown or stopped container, and for the sandbox', async () => {
    await expectRefused(harness.connect('/exec/default/web-1/sidecar?command=ls&output=1'), 500, 'container not found ("sidecar")');
    await expectRefused(harness.connect('/exec/default/web-1/POD?command=ls&output=1'), 500, 'container not found ("POD")');
    harness.containers[1] = container('app-web-1', web, 'app', { state: 'exited', exitCode: 1 });
    await expectRefused(harness.connect('/attach/default/web-1/app?output=1'), 500, 'container not found ("app")');
  });

  it('400 without any stream', async () => {
    await expectRefused(harness.connect('/exec/default/web-1/app?command=ls'), 400, 'you must specify at least 1 of stdin, stdout, stderr');
  });

  it('400 for a client that offers no channel protocol it knows', async () => {
    await expectRefused(harness.connect('/exec/default/web-1/app?command=ls&output=1', ['channel.k8s.io']), 400, 'no supported stream protocol: expected one of v5.channel.k8s.io, v4.channel.k8s.io');
  });

  it('the path with the pod uid is checked against the pod', async () => {
    harness.docker.programs.set('true', (proc) => proc.exit(0));
    const client = await harness.connect('/exec/default/web-1/uid-web-1/app?command=true&output=1');
    await client.closed;
    expect(client.status()).toEqual({ metadata: {}, status: 'Success' });
    await expectRefused(harness.connect('/exec/default/web-1/other-uid/app?command=true&output=1'), 404, 'pod does not exist');
  });
});

describe('attach', () => {
  it('streams the container\'s output by stream, passes stdin, and ends with Success when it stops', async () => {
    const app = harness.docker.containers.get('app-web-1')!;
    const client = await harness.connect('/attach/default/web-1/app?input=1&output=1&error=1');
    await eventually(() => app.attached.size === 1);
    app.log(1, 'to stdout\n');
    app.log(2, 'to stderr\n');
    await client.waitFor(2, 'to stderr\n');
    client.send(0, 'typed\n');
    await eventually(() => Buffer.concat(app.stdin).toString() === 'typed\n');
    client.send(255, Buffer.from([0]));
    await eventually(() => app.stdinEnded);
    app.stop();
    await client.closed;
    expect(client.text(1)).toBe('to stdout\n');
    expect(client.text(2)).toBe('to stderr\n');
    expect(client.text(3)).toBe('{"metadata":{},"status":"Success"}');
    expect(harness.docker.requests).toContain('POST /containers/app-web-1/attach?stream=1&stdin=1&stdout=1&stderr=1 (upgrade tcp)');
  });

  it('a TTY container: raw output on channel 1 and resizes to the container', async () => {
    const consoleContainer = harness.docker.containers.get('console-web-1')!;
    const client = await harness.connect('/attach/default/web-1/console?input=1&output=1&tty=1');
    await eventually(() => consoleContainer.attached.size === 1);
    client.send(4, '{"Width":80,"Height":24}');
    consoleContainer.log(1, '\x1b[1;32m/ #\x1b[0m ');
    await client.waitFor(1, '/ #');
    await eventually(() => consoleContainer.resizes.length === 1);
    expect(consoleContainer.resizes).toEqual([{ w: 80, h: 24 }]);
    client.ws.close();
    await client.closed;
    const [dockerSide] = consoleContainer.attachSockets;
    await eventually(() => dockerSide!.readableEnded || dockerSide!.destroyed);
    expect(consoleContainer.stdinEnded).toBe(true); // docker saw the connection end
    expect(consoleContainer.running).toBe(true); // leaving does not stop the container
  });
});

describe('authentication', () => {
  it('401 without a client certificate, 403 for one that is not the control plane\'s', async () => {
    const anonymous = await harness.get('/containerLogs/default/web-1/app', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.trim()).toBe('Unauthorized');
    const node = await harness.get('/containerLogs/default/web-1/app', harness.certs.node);
    expect(node.status).toBe(403);
    expect(node.body.trim()).toBe('Forbidden (user=system:node:worker1, verb=get, resource=nodes, subresource=proxy)');
    await expectRefused(harness.connect('/exec/default/web-1/app?command=ls&output=1', ['v5.channel.k8s.io'], null), 401, 'Unauthorized');
    await expectRefused(
      harness.connect('/exec/default/web-1/app?command=ls&output=1', ['v5.channel.k8s.io'], harness.certs.node),
      403,
      'Forbidden (user=system:node:worker1, verb=get, resource=nodes, subresource=proxy)',
    );
    expect(harness.docker.execs.size).toBe(0);
  });

  it('401 for a certificate from another CA, even with O=system:masters', async () => {
    const { createCertificateAuthority, issueClientCertificate } = await import('../../src/cluster/pki.js');
    const otherCa = await createCertificateAuthority('someone-else');
    const stranger = await issueClientCertificate(otherCa, { commonName: 'mallory', organizations: ['system:masters'] });
    expect((await harness.get('/containerLogs/default/web-1/app', stranger)).status).toBe(401);
  });
});
