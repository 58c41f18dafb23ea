/**
 * EtcdStore against a real etcd: Debian's etcd from the node image, alone in a container,
 * its client port published on 127.0.0.1. Runs the same contract as MemoryStore, then checks
 * what only a real etcd shows: an unreachable endpoint, a stopped etcd, and its memory.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nodeImageRef } from '../../src/docker/image.js';
import { EtcdStore } from '../../src/node/controlplane/store/etcd.js';
import { StoreUnavailableError } from '../../src/node/controlplane/store/store.js';
import { ETCD_GOGC, ETCD_QUOTA_BACKEND_BYTES, ETCD_SNAPSHOT_COUNT } from '../../src/node/supervisor/etcd.js';
import { describeStoreContract } from '../support/store-contract.js';

const docker = new Dockerode();
const TEST_LABEL = 'dev.clusterlab-test.e2e';
const name = `clusterlab-e2e-etcd-${randomBytes(4).toString('hex')}`;
let container: Dockerode.Container | undefined;
let endpoint = '';

/** Polls etcd's /health until it says healthy. */
async function waitHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health`);
      last = await response.text();
      if (response.ok && JSON.parse(last).health === 'true') return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`etcd at ${url} not healthy after ${timeoutMs} ms: ${last}`);
}

async function rssKiB(target: Dockerode.Container): Promise<number> {
  const exec = await target.exec({ Cmd: ['grep', 'VmRSS', '/proc/1/status'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const output = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(output);
  if (!match) throw new Error(`no VmRSS in ${JSON.stringify(output)}`);
  return Number(match[1]);
}

beforeAll(async () => {
  const image = inject('nodeImage') || (await nodeImageRef());
  container = await docker.createContainer({
    name,
    Image: image,
    Entrypoint: ['etcd'],
    Cmd: [
      '--name',
      'e2e',
      '--data-dir',
      '/tmp/etcd',
      '--listen-client-urls',
      'http://0.0.0.0:2379',
      '--advertise-client-urls',
      'http://127.0.0.1:2379',
      // The node's own resource settings, so the memory figure below is the node's.
      '--quota-backend-bytes',
      String(ETCD_QUOTA_BACKEND_BYTES),
      '--snapshot-count',
      String(ETCD_SNAPSHOT_COUNT),
      '--logger',
      'zap',
    ],
    Env: [`GOGC=${ETCD_GOGC}`],
    Labels: { [TEST_LABEL]: 'etcd-store' },
    ExposedPorts: { '2379/tcp': {} },
    HostConfig: { PortBindings: { '2379/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  await container.start();
  const info = await container.inspect();
  const hostPort = info.NetworkSettings.Ports['2379/tcp']?.[0]?.HostPort;
  if (!hostPort) throw new Error(`${name}: port 2379 was not published`);
  endpoint = `http://127.0.0.1:${hostPort}`;
  await waitHealthy(endpoint, 30_000);
});

afterAll(async () => {
  // Removed even when the setup or a test failed; by name, in case createContainer half-worked.
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
});

describe('etcd itself', () => {
  it('idles in little memory', async () => {
    const kib = await rssKiB(container as Dockerode.Container);
    console.log(`etcd idle RSS: ${(kib / 1024).toFixed(1)} MiB`);
    // The control plane's budget is 250 MiB in all; etcd must stay a small part of it.
    expect(kib).toBeLessThan(100 * 1024);
  });
});

describeStoreContract('EtcdStore on a real etcd', async () => {
  const store = new EtcdStore({ endpoints: [endpoint] });
  return { store, cleanup: () => store.close() };
});

describe('EtcdStore connection handling', () => {
  it('moves on to the next endpoint when one refuses connections', async () => {
    // Port 1 on loopback refuses at once.
    const store = new EtcdStore({ endpoints: ['http://127.0.0.1:1', endpoint] });
    try {
      const key = `/registry/e2e-failover-${randomBytes(4).toString('hex')}`;
      const revision = await store.create(key, 'v');
      expect((await store.get(key))?.modRevision).toBe(revision);
    } finally {
      await store.close();
    }
  });

  it('answers StoreUnavailableError when no endpoint answers', async () => {
    const store = new EtcdStore({ endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] });
    try {
      await expect(store.get('/registry/x')).rejects.toBeInstanceOf(StoreUnavailableError);
      const error = await new Promise<Error>((resolve) => store.watch('/registry/', 0, () => undefined, resolve));
      expect(error).toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('ends a watch with StoreUnavailableError when etcd goes away, and reports writes unavailable', async () => {
    const store = new EtcdStore({ endpoints: [endpoint], requestTimeoutMs: 3_000 });
    try {
      const prefix = `/registry/e2e-broken-${randomBytes(4).toString('hex')}/`;
      const start = await store.revision();
      const broken = new Promise<Error>((resolve) => store.watch(prefix, start, () => undefined, resolve));
      // Let the watch stream get established before etcd goes.
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Runs last in this file: stopping etcd ends it for good.
      await (container as Dockerode.Container).stop({ t: 1 });
      const error = await broken;
      expect(error).toBeInstanceOf(StoreUnavailableError);
      await expect(store.create(`${prefix}a`, 'v')).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});

