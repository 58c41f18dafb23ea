/**
 * The kubelet API's pure parts: which container instance a log request means, the log and
 * stream options, docker's frame decoding across chunk boundaries, routes and protocols.
 */
import { describe, expect, it } from 'vitest';
import { parseLogOptions, selectLogContainer } from '../../src/node/agent/container-logs.js';
import { MultiplexedStreamDecoder } from '../../src/node/agent/docker-streams.js';
import { chooseStreamProtocol, execEndStatus, parseStreamSelection, selectRunningContainer } from '../../src/node/agent/exec-stream.js';
import { KubeletApiError } from '../../src/node/agent/kubelet-errors.js';
import { parseRoute } from '../../src/node/agent/kubelet-server.js';
import { dockerFrame } from './agent-kubelet-fake-docker.js';
import { container, pod } from './agent-kubelet-harness.js';

function failure(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof KubeletApiError) return { status: err.statusCode, message: err.message };
    throw err;
  }
  throw new Error('expected a KubeletApiError');
}

describe('selectLogContainer', () => {
  const always = pod('web-1', 'u1', {}, { phase: 'Running' });
  const never = pod('job-1', 'u2', { restartPolicy: 'Never' }, { phase: 'Failed' });
  const onFailure = pod('task-1', 'u3', { restartPolicy: 'OnFailure' }, { phase: 'Running' });

  it.each([
    {
      title: 'running: the current instance; previous: the one before',
      owner: always,
      instances: [container('a1', always, 'app', { attempt: 1 }), container('a0', always, 'app', { attempt: 0, state: 'exited', exitCode: 2 })],
      current: 'a1',
      previous: 'a0',
    },
    {
      title: 'crash-looping (exited, will restart): both mean the last exit, as lastState does',
      owner: always,
      instances: [container('a3', always, 'app', { attempt: 3, state: 'exited', exitCode: 1 }), container('a2', always, 'app', { attempt: 2, state: 'exited', exitCode: 1 })],
      current: 'a3',
      previous: 'a3',
    },
    {
      title: 'finished for good (Never): current is the final exit, previous the one before',
      owner: never,
      instances: [container('j0', never, 'app', { attempt: 0, state: 'exited', exitCode: 1 })],
      current: 'j0',
      previous: undefined,
    },
    {
      title: 'OnFailure after success: no restart, so previous is not the latest',
      owner: onFailure,
      instances: [container('t1', onFailure, 'app', { attempt: 1, state: 'exited', exitCode: 0 }), container('t0', onFailure, 'app', { attempt: 0, state: 'exited', exitCode: 1 })],
      current: 't1',
      previous: 't0',
    },
    {
      title: 'the new instance is created but not started: current falls back to the exited one',
      owner: always,
      instances: [container('a5', always, 'app', { attempt: 5, state: 'created' }), container('a4', always, 'app', { attempt: 4, state: 'exited', exitCode: 1 })],
      current: 'a4',
      previous: 'a4',
    },
  ])('$title', ({ owner, instances, current, previous }) => {
    const all = [container('sb', owner, 'POD', { sandbox: true }), ...instances];
    expect(selectLogContainer(owner, all, 'app', false).id).toBe(current);
    if (previous) expect(selectLogContainer(owner, all, 'app', true).id).toBe(previous);
    else expect(failure(() => selectLogContainer(owner, all, 'app', true))).toEqual({ status: 400, message: `previous terminated container "app" in pod "${owner.metadata!.name}" not found` });
  });

  it('init containers have logs too', () => {
    const withInit = pod('web-2', 'u4', { initContainers: [{ name: 'setup', image: 'busybox' }] }, { phase: 'Pending' });
    const setup = container('s0', withInit, 'setup', { init: true, state: 'exited', exitCode: 0 });
    expect(selectLogContainer(withInit, [setup], 'setup', false).id).toBe('s0');
    expect(failure(() => selectLogContainer(withInit, [setup], 'setup', true)).status).toBe(400);
  });

  it('the waiting reason of the pod status, with the kubelet\'s wording for image pulls', () => {
    const pulling = pod('web-3', 'u5', {}, { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }] });
    expect(failure(() => selectLogContainer(pulling, [], 'app', false))).toEqual({ status: 400, message: 'container "app" in pod "web-3" is waiting to start: image can\'t be pulled' });
    const configError = pod('web-4', 'u6', {}, { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError' } } }] });
    expect(failure(() => selectLogContainer(configError, [], 'app', false)).message).toBe('container "app" in pod "web-4" is waiting to start: CreateContainerConfigError');
  });

  it('404 for a name that is not one of the pod\'s containers (the sandbox included)', () => {
    expect(failure(() => selectLogContainer(always, [container('sb', always, 'POD', { sandbox: true })], 'POD', false))).toEqual({
      status: 404,
      message: 'container "POD" not found in pod "web-1"',
    });
  });
});

describe('parseLogOptions', () => {
  const now = new Date('2026-03-01T10:00:00Z');
  const parse = (query: string) => parseLogOptions(new URLSearchParams(query), now);

  it('reads the kubelet\'s parameters', () => {
    expect(parse('follow=true&previous=1&timestamps=True&tailLines=10&limitBytes=500&sinceSeconds=30')).toEqual({
      follow: true,
      previous: true,
      timestamps: true,
      tailLines: 10,
      limitBytes: 500,
      since: new Date('2026-03-01T09:59:30Z'),
    });
    expect(parse('')).toEqual({ follow: false, previous: false, timestamps: false });
    expect(parse('sinceTime=2026-02-28T23:00:00.5%2B01:00').since).toEqual(new Date('2026-02-28T22:00:00.500Z'));
    expect(parse('tail=5').tailLines).toBe(5);
    expect(parse('tail=all').tailLines).toBeUndefined();
  });

  it.each([
    ['follow=yes', 400],
    ['tailLines=1.5', 400],
    ['sinceTime=yesterday', 400],
    ['tailLines=-1', 422],
    ['limitBytes=0', 422],
    ['sinceSeconds=0', 422],
    ['sinceSeconds=5&sinceTime=2026-03-01T10:00:00Z', 422],
  ])('%s -> %i', (query, status) => {
    expect(failure(() => parse(query)).status).toBe(status);
  });
});

describe('MultiplexedStreamDecoder', () => {
  it('reassembles frames split anywhere, skips empty ones and reads dockerd errors as stderr', () => {
    const wire = Buffer.concat([dockerFrame(1, 'hello\n'), dockerFrame(2, 'bad\n'), dockerFrame(1, ''), dockerFrame(3, 'dockerd error'), dockerFrame(1, 'bye')]);
    for (let step = 1; step <= wire.length; step++) {
      const decoder = new MultiplexedStreamDecoder();
      const frames: { stream: number; text: string }[] = [];
      for (let offset = 0; offset < wire.length; offset += step) {
        for (const frame of decoder.push(wire.subarray(offset, offset + step))) frames.push({ stream: frame.stream, text: frame.data.toString() });
      }
      expect(frames).toEqual([
        { stream: 1, text: 'hello\n' },
        { stream: 2, text: 'bad\n' },
        { stream: 2, text: 'dockerd error' },
        { stream: 1, text: 'bye' },
      ]);
    }
  });
});

describe('routes, protocols and stream options', () => {
  it('parseRoute', () => {
    expect(parseRoute('/containerLogs/kube-system/coredns-1/coredns')).toEqual({ kind: 'containerLogs', namespace: 'kube-system', pod: 'coredns-1', container: 'coredns' });
    expect(parseRoute('/exec/default/web-1/uid-1/app')).toEqual({ kind: 'exec', namespace: 'default', pod: 'web-1', uid: 'uid-1', container: 'app' });
    expect(parseRoute('/attach/default/web-1/app')).toEqual({ kind: 'attach', namespace: 'default', pod: 'web-1', container: 'app' });
    expect(parseRoute('/containerLogs/default/web-1/uid/app')).toBeUndefined();
    expect(parseRoute('/portForward/default/web-1')).toBeUndefined();
    expect(parseRoute('/exec/default/%E0%A4%A/app')).toBeUndefined();
  });

  it('chooseStreamProtocol prefers v5, accepts v4, nothing older', () => {
    expect(chooseStreamProtocol('v4.channel.k8s.io, v5.channel.k8s.io')).toBe('v5.channel.k8s.io');
    expect(chooseStreamProtocol('v4.channel.k8s.io')).toBe('v4.channel.k8s.io');
    expect(chooseStreamProtocol('channel.k8s.io, base64.channel.k8s.io')).toBeUndefined();
    expect(chooseStreamProtocol(undefined)).toBeUndefined();
  });

  it('parseStreamSelection drops stderr with a TTY and needs at least one stream', () => {
    expect(parseStreamSelection(new URLSearchParams('input=1&output=1&error=1&tty=1'))).toEqual({ stdin: true, stdout: true, stderr: false, tty: true });
    expect(parseStreamSelection(new URLSearchParams('output=true&error=1'))).toEqual({ stdin: false, stdout: true, stderr: true, tty: false });
    expect(failure(() => parseStreamSelection(new URLSearchParams('tty=1&error=1'))).status).toBe(400);
  });

  it('selectRunningContainer takes the newest running instance', () => {
    const owner = pod('web-1', 'u1');
    const list = [container('old', owner, 'app', { attempt: 0, state: 'exited' }), container('new', owner, 'app', { attempt: 1 })];
    expect(selectRunningContainer(list, 'app').id).toBe('new');
    expect(failure(() => selectRunningContainer(list.slice(0, 1), 'app'))).toEqual({ status: 500, message: 'container not found ("app")' });
  });

  it('execEndStatus', () => {
    expect(execEndStatus(['ls'], { exitCode: 0 })).toEqual({ metadata: {}, status: 'Success' });
    expect(execEndStatus(['ls', '/nope'], { exitCode: 2 })).toMatchObject({ reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code: error executing command [ls /nope], exit code 2' });
    expect(execEndStatus(['x'], { error: 'boom' })).toMatchObject({ reason: 'InternalError', message: 'Internal error occurred: error executing command in container: boom' });
  });
});
