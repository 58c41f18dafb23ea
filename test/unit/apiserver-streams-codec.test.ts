/** The pure parts of the stream subresources: channel codec, request options, pod/container checks. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { findResource } from '../../src/node/controlplane/apiserver/resources.js';
import { ApiStatusError } from '../../src/node/controlplane/apiserver/status.js';
import {
  decodeChannelMessage,
  encodeChannelMessage,
  encodeCloseMessage,
  encodePortPrefix,
  headerList,
  legacyErrorText,
  negotiateProtocol,
  parseStatus,
} from '../../src/node/controlplane/apiserver/streams/channels.js';
import { expectedStreams } from '../../src/node/controlplane/apiserver/streams/exec-spdy.js';
import { kubeletEndpoint } from '../../src/node/controlplane/apiserver/streams/kubelet-client.js';
import { logUnavailableReason, notRunningReason, requireNode, resolveContainer } from '../../src/node/controlplane/apiserver/streams/pod-target.js';
import { forwardError } from '../../src/node/controlplane/apiserver/streams/portforward.js';
import { agentStreamQuery, execOptions, logOptions, portForwardPorts } from '../../src/node/controlplane/apiserver/streams/stream-options.js';

const pods = findResource('', 'v1', 'pods')!;

function statusOf(fn: () => unknown): { code: number; reason?: string; message?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return { code: err.code, ...(err.status.reason ? { reason: err.status.reason } : {}), ...(err.status.message ? { message: err.status.message } : {}) };
    throw err;
  }
  throw new Error('expected an ApiStatusError');
}

describe('channel codec', () => {
  it('puts the channel first and reads it back', () => {
    const message = encodeChannelMessage(1, 'hello');
    expect([...message]).toEqual([1, ...Buffer.from('hello')]);
    expect(decodeChannelMessage(message)).toEqual({ kind: 'data', channel: 1, data: Buffer.from('hello') });
    expect(decodeChannelMessage(Buffer.of(2))).toEqual({ kind: 'data', channel: 2, data: Buffer.alloc(0) });
    expect(decodeChannelMessage(Buffer.alloc(0))).toBeUndefined();
  });

  it('v5 close messages and port prefixes', () => {
    expect([...encodeCloseMessage(0)]).toEqual([255, 0]);
    expect(decodeChannelMessage(Buffer.of(255, 0))).toEqual({ kind: 'close', channel: 0 });
    // 2 bytes little-endian after the channel
    expect([...encodePortPrefix(3, 8080)]).toEqual([3, 0x90, 0x1f]);
  });

  it('negotiates in the client\'s order, reading repeated and comma-joined headers', () => {
    expect(headerList(['v4.channel.k8s.io', 'v3.channel.k8s.io, channel.k8s.io'])).toEqual(['v4.channel.k8s.io', 'v3.channel.k8s.io', 'channel.k8s.io']);
    expect(headerList(undefined)).toEqual([]);
    expect(negotiateProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['v4.channel.k8s.io', 'v5.channel.k8s.io'])).toBe('v5.channel.k8s.io');
    expect(negotiateProtocol(['base64.channel.k8s.io'], ['v4.channel.k8s.io'])).toBeUndefined();
  });

  it('reads statuses, and words them for the protocols before v4', () => {
    const failure = parseStatus(Buffer.from('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: 3","reason":"NonZeroExitCode"}'));
    expect(failure.reason).toBe('NonZeroExitCode');
    expect(legacyErrorText(failure)).toBe('command terminated with non-zero exit code: 3');
    expect(legacyErrorText(parseStatus(Buffer.from('{"metadata":{},"status":"Success"}')))).toBe('');
    expect(parseStatus(Buffer.from('not json'))).toMatchObject({ status: 'Failure', message: expect.stringContaining('error stream protocol error') });
  });
});

describe('the streams a SPDY exec client opens', () => {
  it.each([
    ['v4.channel.k8s.io', { stdin: true, stdout: true, stderr: true, tty: false }, ['error', 'stdin', 'stdout', 'stderr']],
    ['v4.channel.k8s.io', { stdin: true, stdout: true, stderr: false, tty: true }, ['error', 'stdin', 'stdout', 'resize']],
    ['v3.channel.k8s.io', { stdin: false, stdout: true, stderr: true, tty: true }, ['error', 'stdout', 'resize']],
    ['v2.channel.k8s.io', { stdin: true, stdout: true, stderr: false, tty: true }, ['error', 'stdin', 'stdout']],
    ['channel.k8s.io', { stdin: false, stdout: true, stderr: true, tty: true }, ['error', 'stdout', 'stderr']],
  ])('%s %o', (protocol, opts, expected) => {
    expect([...expectedStreams(protocol, opts)].sort()).toEqual([...expected].sort());
  });
});

describe('request options', () => {
  it('exec: kubectl\'s query to the agent\'s', () => {
    const opts = execOptions(new URLSearchParams('command=sh&command=-c&command=echo hi&container=app&stdin=true&stdout=true&tty=true'), 'exec');
    expect(opts).toEqual({ container: 'app', command: ['sh', '-c', 'echo hi'], stdin: true, stdout: true, stderr: false, tty: true });
    expect(agentStreamQuery(opts).toString()).toBe('input=1&output=1&tty=1&command=sh&command=-c&command=echo+hi');
    expect(agentStreamQuery(execOptions(new URLSearchParams('stdout=1&stderr=1'), 'attach')).toString()).toBe('output=1&error=1');
  });

  it('exec: refuses what kube refuses', () => {
    expect(statusOf(() => execOptions(new URLSearchParams('stdout=true'), 'exec'))).toEqual({ code: 400, reason: 'BadRequest', message: 'you must specify at least one command for the container' });
    expect(statusOf(() => execOptions(new URLSearchParams('command=ls'), 'exec')).message).toBe('you must specify at least 1 of stdin, stdout, stderr');
    expect(statusOf(() => execOptions(new URLSearchParams('command=ls&stdout=maybe'), 'exec')).code).toBe(400);
  });

  it('logs: passes on only what is set, validates as kube', () => {
    const opts = logOptions(new URLSearchParams('container=app&follow=true&tailLines=5&sinceSeconds=10&timestamps=true&previous=false'), pods, 'web-1');
    expect(opts.container).toBe('app');
    expect(opts.previous).toBe(false);
    expect(Object.fromEntries(opts.agentQuery)).toEqual({ follow: 'true', timestamps: 'true', sinceSeconds: '10', tailLines: '5' });
    expect(statusOf(() => logOptions(new URLSearchParams('limitBytes=0'), pods, 'web-1'))).toEqual({
      code: 422,
      reason: 'Invalid',
      message: 'PodLogOptions "web-1" is invalid: limitBytes: Invalid value: 0: must be greater than 0',
    });
    expect(statusOf(() => logOptions(new URLSearchParams('sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z'), pods, 'web-1')).message).toContain('at most one of `sinceTime` or `sinceSeconds` may be specified');
    expect(statusOf(() => logOptions(new URLSearchParams('tailLines=ten'), pods, 'web-1')).code).toBe(400);
  });

  it('port-forward ports', () => {
    expect(portForwardPorts(new URLSearchParams('ports=80&ports=8080,9090'))).toEqual([80, 8080, 9090]);
    expect(portForwardPorts(new URLSearchParams(''))).toEqual([]);
    expect(statusOf(() => portForwardPorts(new URLSearchParams('ports=70000'))).code).toBe(400);
  });
});

function podWith(extra: { containers?: string[]; init?: string[]; nodeName?: string; status?: Pod['status'] }): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'default' },
    spec: {
      containers: (extra.containers ?? ['app']).map((name) => ({ name })),
      ...(extra.init ? { initContainers: extra.init.map((name) => ({ name })) } : {}),
      ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
    },
    ...(extra.status ? { status: extra.status } : {}),
  };
}

describe('pod and container checks', () => {
  it('picks the only container, names the choices otherwise (init containers first)', () => {
    expect(resolveContainer(podWith({}), undefined)).toBe('app');
    expect(resolveContainer(podWith({ containers: ['a', 'b'], init: ['setup'] }), 'setup')).toBe('setup');
    expect(statusOf(() => resolveContainer(podWith({ containers: ['a', 'b'], init: ['setup'] }), null)).message).toBe(
      'a container name must be specified for pod web-1, choose one of: [setup a b]',
    );
    expect(statusOf(() => resolveContainer(podWith({}), 'db')).message).toBe('container db is not valid for pod web-1');
    expect(statusOf(() => requireNode(podWith({}))).message).toBe('pod web-1 does not have a host assigned');
  });

  const terminated = { exitCode: 1, containerID: 'docker://old' };
  it.each([
    ['unscheduled', podWith({}), false, 'container "app" in pod "web-1" is waiting to start: ContainerCreating'],
    ['no status yet', podWith({ nodeName: 'n' }), false, 'container "app" in pod "web-1" is waiting to start: ContainerCreating'],
    ['running', podWith({ nodeName: 'n', status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } }), false, undefined],
    [
      'image pull',
      podWith({ nodeName: 'n', status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }] } }),
      false,
      'container "app" in pod "web-1" is waiting to start: image can\'t be pulled',
    ],
    [
      'crash loop with a previous run',
      podWith({ nodeName: 'n', status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated } }] } }),
      false,
      undefined,
    ],
    ['previous of one that never restarted', podWith({ nodeName: 'n', status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } }), true, 'previous terminated container "app" in pod "web-1" not found'],
    ['previous after a restart', podWith({ nodeName: 'n', status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated } }] } }), true, undefined],
    ['completed', podWith({ nodeName: 'n', status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated } }] } }), false, undefined],
  ])('logs: %s', (_what, pod, previous, expected) => {
    expect(logUnavailableReason(pod, 'app', previous)).toBe(expected);
  });

  it('exec needs a running container', () => {
    expect(notRunningReason(podWith({ nodeName: 'n' }), 'app')).toBe('container not found ("app")');
    expect(notRunningReason(podWith({ nodeName: 'n', status: { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } }), 'app')).toBeUndefined();
  });

  it('words a failed forward as the kubelet does', () => {
    expect(forwardError({ podLabel: 'default/web-1', podUid: 'u-1' }, 8080, 'refused')).toBe('error forwarding port 8080 to pod default/web-1, uid u-1: refused');
  });

  it('finds the agent at the node\'s InternalIP and kubelet port', () => {
    expect(kubeletEndpoint({ status: { addresses: [{ type: 'Hostname', address: 'w1' }, { type: 'InternalIP', address: '172.30.0.3' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } } })).toEqual({
      host: '172.30.0.3',
      port: 10250,
    });
    expect(kubeletEndpoint({ status: { addresses: [{ type: 'InternalIP', address: '172.30.0.3' }] } })).toEqual({ host: '172.30.0.3', port: 10250 });
    expect(kubeletEndpoint({ status: { addresses: [{ type: 'Hostname', address: 'w1' }] } })).toBeUndefined();
  });
});
