/** pods/NAME/log driven by the real kubectl against the in-process API server and a fake agent. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_NAME, running, startStreamsWorld, waitForOutput, type StreamsWorld } from './apiserver-streams-helpers.js';

let world: StreamsWorld;

beforeAll(async () => {
  world = await startStreamsWorld();
  await world.addPod({ name: 'web-1', nodeName: NODE_NAME, phase: 'Running', labels: { app: 'web' } });
  await world.addPod({ name: 'web-2', nodeName: NODE_NAME, phase: 'Running', labels: { app: 'web' }, containers: ['app', 'sidecar'] });
  await world.addPod({ name: 'pending-1', phase: 'Pending' });
  await world.addPod({
    name: 'restarted-1',
    nodeName: NODE_NAME,
    phase: 'Running',
    containerStatuses: [running('app', { restartCount: 1, lastState: { terminated: { exitCode: 1, containerID: 'docker://app-0', reason: 'Error' } } })],
  });
  await world.addPod({
    name: 'waiting-1',
    nodeName: NODE_NAME,
    phase: 'Pending',
    containerStatuses: [{ name: 'app', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }],
  });
}, 30_000);
afterAll(async () => {
  await world?.close();
});

describe('kubectl logs', () => {
  it('prints the agent stream of the only container', async () => {
    world.agent.requests.length = 0;
    const r = await world.kubectl('1.33', ['logs', 'web-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('line 1\nline 2\n');
    expect(world.agent.requests).toHaveLength(1);
    const [req] = world.agent.requests;
    expect(req).toMatchObject({ kind: 'containerLogs', namespace: 'default', pod: 'web-1', container: 'app' });
    expect([...req!.query.keys()]).toEqual([]);
  });

  it('passes --tail, --since, --timestamps, -c and --previous through', async () => {
    world.agent.requests.length = 0;
    const r = await world.kubectl('1.27', ['logs', 'web-2', '-c', 'sidecar', '--tail=5', '--since=10s', '--timestamps']);
    expect(r.code).toBe(0);
    const [req] = world.agent.requests;
    expect(req!.container).toBe('sidecar');
    expect(Object.fromEntries(req!.query)).toEqual({ tailLines: '5', sinceSeconds: '10', timestamps: 'true' });

    world.agent.requests.length = 0;
    const since = await world.kubectl('1.33', ['logs', 'web-1', '--since-time=2026-01-02T03:04:05Z', '--limit-bytes=100']);
    expect(since.code).toBe(0);
    expect(Object.fromEntries(world.agent.requests[0]!.query)).toEqual({ sinceTime: '2026-01-02T03:04:05Z', limitBytes: '100' });

    world.agent.requests.length = 0;
    const previous = await world.kubectl('1.33', ['logs', 'restarted-1', '--previous']);
    expect(previous.code).toBe(0);
    expect(Object.fromEntries(world.agent.requests[0]!.query)).toEqual({ previous: 'true' });
  });

  it('follows: lines arrive while the agent is still writing', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    world.agent.logs = (request, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first line\n');
      void released.then(() => {
        res.write('second line\n');
        res.end();
      });
      expect(request.query.get('follow')).toBe('true');
    };
    try {
      const child = world.spawnKubectl('1.33', ['logs', '-f', 'web-1']);
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      await waitForOutput(child, /first line\n/);
      expect(stdout).toBe('first line\n');
      release();
      expect(await closed).toBe(0);
      expect(stdout).toBe('first line\nsecond line\n');
    } finally {
      world.agent.logs = (_request, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('line 1\nline 2\n');
      };
    }
  });

  it('stops reading from the agent when the client goes away', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    world.agent.logs = (_request, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('tick\n');
      const timer = setInterval(() => res.write('tick\n'), 50);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed();
      });
    };
    try {
      const child = world.spawnKubectl('1.33', ['logs', '-f', 'web-1']);
      await waitForOutput(child, /tick\n/);
      child.kill('SIGINT');
      await closed;
    } finally {
      world.agent.logs = (_request, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('line 1\nline 2\n');
      };
    }
  });

  it('answers as kube does when there is nothing to read', async () => {
    const missing = await world.kubectl('1.33', ['logs', 'nope']);
    expect(missing.code).toBe(1);
    // kubectl fetches the pod first and words that 404 itself.
    expect(missing.stderr).toContain('(NotFound): pods "nope" not found');

    const badContainer = await world.kubectl('1.33', ['logs', 'web-1', '-c', 'db']);
    expect(badContainer.stderr).toContain('container db is not valid for pod web-1');
    const badContainerRaw = await world.api('GET', '/api/v1/namespaces/default/pods/web-1/log?container=db');
    expect(badContainerRaw.status).toBe(400);
    expect(badContainerRaw.json).toMatchObject({ reason: 'BadRequest', message: 'container db is not valid for pod web-1' });

    const pending = await world.kubectl('1.33', ['logs', 'pending-1']);
    expect(pending.stderr).toContain('Error from server (BadRequest): container "app" in pod "pending-1" is waiting to start: ContainerCreating');

    const pulling = await world.kubectl('1.27', ['logs', 'waiting-1']);
    expect(pulling.stderr).toContain('container "app" in pod "waiting-1" is waiting to start: trying and failing to pull image');

    const noPrevious = await world.kubectl('1.33', ['logs', 'web-1', '--previous']);
    expect(noPrevious.stderr).toContain('Error from server (BadRequest): previous terminated container "app" in pod "web-1" not found');
  });

  it('asks for a container name on a pod with several (raw API, kubectl picks one itself)', async () => {
    const r = await world.api('GET', '/api/v1/namespaces/default/pods/web-2/log');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ reason: 'BadRequest', message: 'a container name must be specified for pod web-2, choose one of: [app sidecar]' });
    const invalid = await world.api('GET', '/api/v1/namespaces/default/pods/web-1/log?tailLines=-2');
    expect(invalid.status).toBe(422);
    expect(invalid.json.message).toBe('PodLogOptions "web-1" is invalid: tailLines: Invalid value: -2: must be greater than or equal to 0');
  });

  it('passes the agent\'s own refusal on with its message', async () => {
    world.agent.logs = (_request, res) => {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('container "app" in pod "web-1" is terminated');
    };
    try {
      const r = await world.kubectl('1.33', ['logs', 'web-1']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Error from server (BadRequest): container "app" in pod "web-1" is terminated');
    } finally {
      world.agent.logs = (_request, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('line 1\nline 2\n');
      };
    }
  });

  it('logs -l with --all-containers --prefix reads every container of every pod', async () => {
    world.agent.logs = (request, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`hello from ${request.pod}/${request.container}\n`);
    };
    try {
      const r = await world.kubectl('1.33', ['logs', '-l', 'app=web', '--all-containers', '--prefix']);
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n').filter((l) => l !== '').sort()).toEqual([
        '[pod/web-1/app] hello from web-1/app',
        '[pod/web-2/app] hello from web-2/app',
        '[pod/web-2/sidecar] hello from web-2/sidecar',
      ]);
    } finally {
      world.agent.logs = (_request, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('line 1\nline 2\n');
      };
    }
  });

  it('logs deploy/NAME reads a pod of the deployment', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
    };
    expect((await world.api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment)).status).toBe(201);
    world.agent.requests.length = 0;
    const r = await world.kubectl('1.33', ['logs', 'deploy/web', '-c', 'app']);
    expect(r.stderr).toMatch(/^Found 2 pods, using pod\/web-[12]\n$/);
    expect(r.stdout).toBe('line 1\nline 2\n');
    expect(world.agent.requests[0]!.pod).toMatch(/^web-[12]$/);
  });
});
