/**
 * A cluster made from a config file: node names, labels, limits and a host port mapping
 * all reach the real engine and swarm. Also: local state can be lost and rebuilt, and
 * images move through a file (image save / image load) as in an offline workshop.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOME, TEST_IMAGE, clusterStatus, freePort, clusterlab, clusterlabOk, docker, dockerOk, removeCluster, show, swarmClient, uniqueName, waitFor } from './helpers.js';

const NAME = uniqueName('e2e-cfg');
let dir: string;
let hostPort: number;
let created = false;


/** One HTTP/1.0 GET on loopback with busybox-style raw sockets; resolves with the body. */
function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    socket.on('data', (c) => (data += c.toString()));
    socket.on('end', () => resolve(data.split('\r\n\r\n').slice(1).join('\r\n\r\n')));
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-config-'));
  hostPort = await freePort();
  await writeFile(
    path.join(dir, 'cluster.yaml'),
    [
      'apiVersion: clusterlab.dev/v1alpha1',
      'kind: Cluster',
      'name: ignored-because-of-the-name-flag',
      'nodes:',
      '  - name: gateway',
      '    role: manager',
      '    labels: {zone: front}',
      '    ports:',
      `      - {containerPort: 8080, hostPort: ${hostPort}}`,
      '  - name: backend',
      '    role: worker',
      '    labels: {zone: back, example.com/disk: ssd}',
      '    cpus: "500m"',
      '    memory: 384Mi',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  if (created) await removeCluster(NAME);
});

describe('a cluster from a config file', () => {
  it('comes up with the names, roles and limits of the file (--name overrides the file)', async () => {
    const up = await clusterlab(['up', '--config', path.join(dir, 'cluster.yaml'), '--name', NAME], { timeoutMs: 300_000 });
    created = true;
    expect(up.exitCode, show(up)).toBe(0);
    const status = await clusterStatus(NAME);
    expect(status.nodes.map((n) => [n.name, n.role, n.state])).toEqual([
      ['gateway', 'manager', 'running'],
      ['backend', 'worker', 'running'],
    ]);
    const inspect = JSON.parse(await dockerOk(['inspect', `${NAME}-backend`]))[0];
    expect(inspect.HostConfig.Memory).toBe(384 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(500_000_000);
  });

  it('applies node labels in the swarm', async () => {
    const swarm = await swarmClient(NAME);
    expect(JSON.parse(await swarm.ok(['node', 'inspect', 'backend', '--format', '{{json .Spec.Labels}}']))).toEqual({ zone: 'back', 'example.com/disk': 'ssd' });
    expect(JSON.parse(await swarm.ok(['node', 'inspect', 'gateway', '--format', '{{json .Spec.Labels}}']))).toEqual({ zone: 'front' });
  });

  it('keeps nested containers inside the node memory limit', async () => {
    // The node's engine puts its containers under the node's own cgroup (…/nested/…).
    const swarm = await swarmClient(NAME);
    await clusterlabOk(['image', 'load', TEST_IMAGE, '--name', NAME, '--nodes', 'backend']);
    const id = (await swarm.ok(['service', 'create', '-d', '--name', 'sleeper', '--constraint', 'node.labels.zone==back', TEST_IMAGE, 'sleep', '3600'])).trim();
    expect(id).not.toBe('');
    const cgroup = await waitFor(
      async () => {
        const r = await clusterlabOk(['exec', 'backend', '--name', NAME, '--', 'sh', '-c', 'cat /proc/$(docker inspect --format "{{.State.Pid}}" $(docker ps -q --filter label=com.docker.swarm.service.name=sleeper))/cgroup']);
        const line = r.stdout.split('\n').find((l) => l.includes(':memory:'));
        if (!line) throw new Error(`no memory cgroup yet: ${r.stdout}`);
        return line;
      },
      { timeoutMs: 60_000, what: 'the sleeper task to run on backend' },
    );
    const nodeId = (await dockerOk(['inspect', '--format', '{{.Id}}', `${NAME}-backend`])).trim();
    expect(cgroup).toContain(`/${nodeId}/nested/`);
  });

  it('reaches a host-mode published port through the host port mapping on 127.0.0.1', async () => {
    const swarm = await swarmClient(NAME);
    await clusterlabOk(['image', 'load', TEST_IMAGE, '--name', NAME, '--nodes', 'gateway']);
    await swarm.ok([
      'service', 'create', '-d', '--name', 'front', '--constraint', 'node.hostname==gateway',
      '--publish', 'mode=host,target=80,published=8080',
      TEST_IMAGE, 'sh', '-c', 'mkdir -p /www && echo hello-from-gateway > /www/index.html && httpd -f -p 80 -h /www',
    ]);
    const body = await waitFor(async () => {
      const text = await httpGet(hostPort);
      if (!text.includes('hello-from-gateway')) throw new Error(`answer: ${JSON.stringify(text)}`);
      return text;
    }, { timeoutMs: 60_000, what: `http://127.0.0.1:${hostPort}/` });
    expect(body.trim()).toBe('hello-from-gateway');
    // Bound to loopback only, as the config's default listenAddress says.
    const inspect = JSON.parse(await dockerOk(['inspect', `${NAME}-gateway`]))[0];
    expect(inspect.HostConfig.PortBindings['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(hostPort) }]);
  });

  it('works from labels alone when the local state is lost, and env rebuilds the client certificate', async () => {
    await rm(path.join(HOME, 'clusters', NAME), { recursive: true, force: true });
    const status = await clusterStatus(NAME);
    expect(status.nodes).toHaveLength(2);
    const swarm = await swarmClient(NAME); // env rewrote the certificate from a manager
    expect(await swarm.ok(['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])).toMatch(/gateway Ready/);
  });

  it('refuses a second cluster with the same name, and a busy host port, creating nothing', async () => {
    const again = await clusterlab(['up', '--config', path.join(dir, 'cluster.yaml'), '--name', NAME]);
    expect(again.exitCode, show(again)).not.toBe(0);
    expect(again.stderr).toMatch(new RegExp(`a cluster named "${NAME}" already exists`));

    const other = uniqueName('e2e-port');
    const busy = await clusterlab(['up', '--config', path.join(dir, 'cluster.yaml'), '--name', other]);
    expect(busy.exitCode, show(busy)).not.toBe(0);
    expect(busy.stderr).toContain(`host port 127.0.0.1:${hostPort} is already in use`);
    const left = await docker(['ps', '-a', '--filter', `label=dev.clusterlab.cluster=${other}`, '--format', '{{.Names}}']);
    expect(left.stdout.trim()).toBe('');
  });
});

describe('images through a file, as in an offline workshop', () => {
  it('saves an image to a .tar.gz and loads it back into the host engine', async () => {
    const file = path.join(dir, 'images.tar.gz');
    const copy = `clusterlab-test/busybox-copy:${Date.now()}`;
    await dockerOk(['tag', TEST_IMAGE, copy]);
    try {
      await clusterlabOk(['image', 'save', file, copy]);
      await dockerOk(['rmi', copy]);
      const loaded = await clusterlabOk(['image', 'load', file]);
      expect(loaded.stdout).toContain(copy);
      expect((await docker(['image', 'inspect', copy])).exitCode).toBe(0);
    } finally {
      await docker(['rmi', copy]);
    }
  });

  it('says which image is missing', async () => {
    const r = await clusterlab(['image', 'load', 'no-such-image:1', '--name', NAME]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('not found on the host: no-such-image:1');
  });
});
