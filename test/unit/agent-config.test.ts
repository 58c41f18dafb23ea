import { describe, expect, it } from 'vitest';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { containerRequest, entrypointAndCmd, PAUSE_IMAGE, sandboxRequest } from '../../src/node/agent/container-config.js';
import { demultiplex } from '../../src/node/agent/docker-client.js';
import { expandReferences } from '../../src/node/agent/env.js';
import { decidePull, effectivePullPolicy } from '../../src/node/agent/image-policy.js';
import { containerLabels, dockerContainerName, identityFromLabels, LABELS, type ContainerIdentity } from '../../src/node/agent/labels.js';
import { parseQuantity } from '../../src/node/agent/quantity.js';
import { createTar } from '../../src/node/agent/tar.js';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1' },
  spec: {
    containers: [{ name: 'app', image: 'nginx:1.25', ports: [{ containerPort: 80, hostPort: 8080 }] }],
  },
};

describe('labels and names', () => {
  it('round-trips a container identity through docker labels', () => {
    const identity: ContainerIdentity = { uid: 'u-1', name: 'web', namespace: 'shop', container: 'app', sandbox: false, init: true, attempt: 3 };
    const labels = containerLabels(identity);
    expect(labels[LABELS.restartCount]).toBe('3');
    expect(labels[LABELS.containerType]).toBe('container');
    expect(identityFromLabels(labels)).toEqual(identity);
  });

  it('ignores containers without the pod labels', () => {
    expect(identityFromLabels({ 'io.kubernetes.pod.uid': 'x' })).toBeUndefined();
    expect(identityFromLabels(null)).toBeUndefined();
  });

  it('names containers as dockershim did', () => {
    expect(dockerContainerName({ uid: 'u-1', name: 'web', namespace: 'shop', container: 'app', sandbox: false, init: false, attempt: 2 })).toBe(
      'k8s_app_web_shop_u-1_2',
    );
  });
});

describe('command and args', () => {
  const env = new Map([['GREETING', 'hi']]);
  const cases: { name: string; container: Partial<Container>; expected: { Entrypoint?: string[]; Cmd?: string[] } }[] = [
    { name: 'neither: image defaults', container: {}, expected: {} },
    { name: 'command only: image CMD dropped too', container: { command: ['sleep'] }, expected: { Entrypoint: ['sleep'] } },
    { name: 'args only: image ENTRYPOINT kept', container: { args: ['-c', '5'] }, expected: { Cmd: ['-c', '5'] } },
    { name: 'both', container: { command: ['sh', '-c'], args: ['echo $(GREETING)'] }, expected: { Entrypoint: ['sh', '-c'], Cmd: ['echo hi'] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(entrypointAndCmd({ name: 'x', ...c.container }, env)).toEqual(c.expected);
    });
  }

  it('expands $(VAR), keeps unknown references and unescapes $$', () => {
    const vars = new Map([['A', '1']]);
    expect(expandReferences('$(A)-$(B)-$$(A)-$', vars)).toBe('1-$(B)-$(A)-$');
  });
});

describe('docker create bodies', () => {
  it('builds the sandbox: pause image, hostname, host ports, sandbox labels', () => {
    const request = sandboxRequest(pod, 0);
    expect(request.name).toBe('k8s_POD_web_shop_u-1_0');
    expect(request.config.Image).toBe(PAUSE_IMAGE);
    expect(request.config.Hostname).toBe('web');
    expect(request.config.HostConfig.NetworkMode).toBe('bridge');
    expect(request.config.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostPort: '8080' }] });
    expect(request.config.Labels[LABELS.containerType]).toBe('podsandbox');
  });

  it('uses the host network for hostNetwork pods', () => {
    const request = sandboxRequest({ ...pod, spec: { ...pod.spec!, hostNetwork: true } }, 1);
    expect(request.config.HostConfig.NetworkMode).toBe('host');
    expect(request.config.Hostname).toBeUndefined();
    expect(request.name.endsWith('_1')).toBe(true);
  });

  it('joins the sandbox and maps limits, env, workingDir and user', () => {
    const container: Container = {
      name: 'app',
      image: 'nginx:1.25',
      workingDir: '/srv',
      resources: { limits: { memory: '128Mi', cpu: '500m' }, requests: { cpu: '250m' } },
      securityContext: { runAsUser: 1000 },
    };
    const request = containerRequest(pod, container, { sandboxId: 'sb1', attempt: 2, init: false, env: new Map([['A', 'b']]), binds: ['/x:/y:ro'] });
    expect(request.name).toBe('k8s_app_web_shop_u-1_2');
    expect(request.config.HostConfig.NetworkMode).toBe('container:sb1');
    expect(request.config.HostConfig.Memory).toBe(128 * 1024 * 1024);
    expect(request.config.HostConfig.NanoCpus).toBe(500_000_000);
    expect(request.config.HostConfig.CpuShares).toBe(256);
    expect(request.config.HostConfig.Binds).toEqual(['/x:/y:ro']);
    expect(request.config.Env).toEqual(['A=b']);
    expect(request.config.WorkingDir).toBe('/srv');
    expect(request.config.User).toBe('1000');
    expect(identityFromLabels(request.config.Labels)?.attempt).toBe(2);
  });
});

describe('quantities', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['128Mi', 134217728],
    ['1G', 1e9],
    ['1e3', 1000],
    ['1.5Gi', 1.5 * 2 ** 30],
  ])('%s', (text, value) => expect(parseQuantity(text)).toBeCloseTo(value));
  it('rejects garbage', () => expect(parseQuantity('12 apples')).toBeUndefined());
});

describe('image pull policy', () => {
  it.each([
    ['nginx', undefined, 'Always'],
    ['nginx:latest', undefined, 'Always'],
    ['nginx:1.25', undefined, 'IfNotPresent'],
    ['registry:5000/app', undefined, 'Always'],
    ['registry:5000/app:v1', undefined, 'IfNotPresent'],
    ['nginx', 'Never', 'Never'],
  ])('%s with %s -> %s', (image, policy, expected) => {
    expect(effectivePullPolicy({ name: 'c', image, ...(policy ? { imagePullPolicy: policy } : {}) })).toBe(expected);
  });

  it('decides pulls as the kubelet does', () => {
    expect(decidePull('Never', false)).toEqual({ action: 'never-pull-missing' });
    expect(decidePull('Never', true)).toEqual({ action: 'use-local' });
    expect(decidePull('IfNotPresent', true)).toEqual({ action: 'use-local' });
    expect(decidePull('IfNotPresent', false)).toEqual({ action: 'pull', presentLocally: false });
    expect(decidePull('Always', true)).toEqual({ action: 'pull', presentLocally: true });
  });
});

describe('docker wire formats', () => {
  it('writes a tar that reads back (headers, checksums, content)', () => {
    const content = Buffer.from('#!/bin/sh\necho hi\n');
    const tar = createTar([
      { path: 'bin/', mode: 0o755 },
      { path: 'bin/busybox', mode: 0o755, content },
    ]);
    expect(tar.length % 512).toBe(0);
    const entries: { name: string; type: string; size: number; body: string }[] = [];
    let offset = 0;
    while (offset < tar.length && tar[offset] !== 0) {
      const header = tar.subarray(offset, offset + 512);
      const name = header.subarray(0, 100).toString().replace(/\0.*$/s, '');
      const size = parseInt(header.subarray(124, 136).toString(), 8);
      const stored = parseInt(header.subarray(148, 156).toString(), 8);
      const copy = Buffer.from(header);
      copy.fill(0x20, 148, 156);
      expect(copy.reduce((a, b) => a + b, 0)).toBe(stored);
      expect(header.subarray(257, 262).toString()).toBe('ustar');
      entries.push({ name, type: String.fromCharCode(header[156]!), size, body: tar.subarray(offset + 512, offset + 512 + size).toString() });
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    expect(entries).toEqual([
      { name: 'bin/', type: '5', size: 0, body: '' },
      { name: 'bin/busybox', type: '0', size: content.length, body: content.toString() },
    ]);
  });

  it('demultiplexes docker exec output', () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demultiplex(Buffer.concat([frame(1, 'out '), frame(2, 'err')]))).toBe('out err');
    expect(demultiplex(Buffer.from('plain text'))).toBe('plain text');
  });
});
