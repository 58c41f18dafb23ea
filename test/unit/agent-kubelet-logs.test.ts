/**
 * GET /containerLogs through the real kubelet server and DockerStreams against a fake dockerd:
 * interleaving, tail, timestamps, since, limitBytes, follow (streamed, ended by the container,
 * abandoned by the client), previous instances, TTY containers and the kubelet's errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { container, eventually, KubeletHarness, makeCertificates, pod } from './agent-kubelet-harness.js';

let harness: KubeletHarness;

beforeAll(async () => {
  harness = await KubeletHarness.start(await makeCertificates());
});
afterAll(async () => {
  await harness?.close();
});

const web = pod('web-1', 'uid-web-1', {}, { phase: 'Running' });

beforeEach(() => {
  harness.pods.length = 0;
  harness.containers.length = 0;
  harness.docker.containers.clear();
  harness.pods.push(web);
  harness.containers.push(container('sandbox-web-1', web, 'POD', { sandbox: true }), container('app-web-1', web, 'app'));
  const app = harness.docker.addContainer('app-web-1');
  const t0 = Date.parse('2026-03-01T10:00:00.000Z');
  app.log(1, 'out one\n', new Date(t0));
  app.log(2, 'err one\n', new Date(t0 + 1000));
  app.log(1, 'out two\n', new Date(t0 + 2000));
  app.log(2, 'err two\n', new Date(t0 + 3000));
});

describe('logs of the current container', () => {
  it('streams stdout and stderr interleaved in the order written, as text/plain', async () => {
    const res = await harness.get('/containerLogs/default/web-1/app');
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/plain');
    expect(res.body).toBe('out one\nerr one\nout two\nerr two\n');
  });

  it('tailLines keeps the last lines of both streams together', async () => {
    expect((await harness.get('/containerLogs/default/web-1/app?tailLines=3')).body).toBe('err one\nout two\nerr two\n');
    expect((await harness.get('/containerLogs/default/web-1/app?tailLines=0')).body).toBe('');
    expect(harness.docker.requests.at(-1)).toContain('tail=0');
  });

  it('timestamps=true prefixes each line with RFC3339 nanoseconds and a space', async () => {
    const body = (await harness.get('/containerLogs/default/web-1/app?timestamps=true')).body;
    expect(body.split('\n')).toEqual([
      '2026-03-01T10:00:00.000000000Z out one',
      '2026-03-01T10:00:01.000000000Z err one',
      '2026-03-01T10:00:02.000000000Z out two',
      '2026-03-01T10:00:03.000000000Z err two',
      '',
    ]);
  });

  it('sinceTime keeps what was written at or after that time', async () => {
    const body = (await harness.get(`/containerLogs/default/web-1/app?sinceTime=${encodeURIComponent('2026-03-01T10:00:02Z')}`)).body;
    expect(body).toBe('out two\nerr two\n');
    expect(harness.docker.requests.at(-1)).toContain('since=1772359202.000000000');
  });

  it('sinceSeconds counts back from now', async () => {
    harness.docker.containers.get('app-web-1')!.log(1, 'fresh\n');
    expect((await harness.get('/containerLogs/default/web-1/app?sinceSeconds=60')).body).toBe('fresh\n');
  });

  it('limitBytes cuts the answer after that many bytes', async () => {
    expect((await harness.get('/containerLogs/default/web-1/app?limitBytes=12')).body).toBe('out one\nerr ');
  });

  it('follow=true streams each line as it is written and ends when the container stops', async () => {
    const app = harness.docker.containers.get('app-web-1')!;
    const res = await harness.stream('/containerLogs/default/web-1/app?follow=true&tailLines=1');
    expect(res.status).toBe(200);
    await eventually(() => res.chunks.join('') === 'err two\n');
    app.log(1, 'live one\n');
    await eventually(() => res.chunks.join('').endsWith('live one\n'));
    app.log(2, 'live two\n');
    await eventually(() => res.chunks.join('').endsWith('live two\n'));
    app.stop();
    await res.ended;
    expect(res.chunks.join('')).toBe('err two\nlive one\nlive two\n');
  });

  it('follow=true: a client that goes away stops the read from docker', async () => {
    const app = harness.docker.containers.get('app-web-1')!;
    const res = await harness.stream('/containerLogs/default/web-1/app?follow=true');
    await eventually(() => app.followers.size === 1);
    res.abort();
    await eventually(() => app.followers.size === 0);
  });

  it('a TTY container has one raw stream', async () => {
    harness.containers.push(container('tty-web-1', web, 'shell', { tty: true }));
    web.spec!.containers.push({ name: 'shell', image: 'busybox:1.36', tty: true });
    const shell = harness.docker.addContainer('tty-web-1', { tty: true });
    shell.log(1, '$ ls\r\n');
    shell.log(1, 'bin etc\r\n');
    try {
      expect((await harness.get('/containerLogs/default/web-1/shell')).body).toBe('$ ls\r\nbin etc\r\n');
    } finally {
      web.spec!.containers.pop();
    }
  });

  it('an exited container (not restarted) still shows its log', async () => {
    const done = pod('job-1', 'uid-job-1', { restartPolicy: 'Never' }, { phase: 'Succeeded' });
    harness.pods.push(done);
    harness.containers.push(container('app-job-1', done, 'app', { state: 'exited' }));
    harness.docker.addContainer('app-job-1', { running: false }).log(1, 'finished\n');
    expect((await harness.get('/containerLogs/default/job-1/app?follow=true')).body).toBe('finished\n');
  });
});

describe('previous=true', () => {
  it('reads the previous instance of the container', async () => {
    harness.containers.splice(1, 1, container('app-web-1-old', web, 'app', { attempt: 0, state: 'exited', exitCode: 1 }), container('app-web-1', web, 'app', { attempt: 1 }));
    harness.docker.addContainer('app-web-1-old', { running: false }).log(2, 'crashed: boom\n');
    const res = await harness.get('/containerLogs/default/web-1/app?previous=true');
    expect(res.status).toBe(200);
    expect(res.body).toBe('crashed: boom\n');
    expect((await harness.get('/containerLogs/default/web-1/app')).body).toContain('out one');
  });

  it('400 with the kubelet message when there is no previous instance', async () => {
    const res = await harness.get('/containerLogs/default/web-1/app?previous=true');
    expect(res.status).toBe(400);
    expect(res.body.trim()).toBe('previous terminated container "app" in pod "web-1" not found');
  });
});

describe('errors', () => {
  it('404 for a pod this node does not run', async () => {
    const res = await harness.get('/containerLogs/default/nope/app');
    expect(res.status).toBe(404);
    expect(res.body.trim()).toBe('pod "nope" does not exist');
  });

  it('404 for a container the pod does not have', async () => {
    const res = await harness.get('/containerLogs/default/web-1/sidecar');
    expect(res.status).toBe(404);
    expect(res.body.trim()).toBe('container "sidecar" not found in pod "web-1"');
  });

  it('400 for a container that has not started yet, with its waiting reason', async () => {
    harness.pods.push(pod('web-2', 'uid-web-2', {}, { phase: 'Pending' }));
    let res = await harness.get('/containerLogs/default/web-2/app');
    expect(res.status).toBe(400);
    expect(res.body.trim()).toBe('container "app" in pod "web-2" is waiting to start: ContainerCreating');
    harness.pods.push(
      pod('web-3', 'uid-web-3', {}, { phase: 'Pending', containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] }),
    );
    res = await harness.get('/containerLogs/default/web-3/app');
    expect(res.body.trim()).toBe('container "app" in pod "web-3" is waiting to start: trying and failing to pull image');
  });

  it('400 with dockerd\'s message when docker no longer has the container', async () => {
    harness.docker.containers.delete('app-web-1');
    const res = await harness.get('/containerLogs/default/web-1/app');
    expect(res.status).toBe(400);
    expect(res.body).toContain('No such container: app-web-1');
  });

  it('rejects options the kubelet rejects', async () => {
    expect((await harness.get('/containerLogs/default/web-1/app?tailLines=-1')).status).toBe(422);
    expect((await harness.get('/containerLogs/default/web-1/app?tailLines=ten')).status).toBe(400);
    expect((await harness.get('/containerLogs/default/web-1/app?sinceSeconds=5&sinceTime=2026-03-01T10:00:00Z')).status).toBe(422);
  });

  it('404 for paths it does not serve', async () => {
    expect((await harness.get('/pods')).status).toBe(404);
    expect((await harness.get('/containerLogs/default/web-1')).status).toBe(404);
  });
});
