/**
 * Bad inputs: each gets a clear message (checked by a fragment) and its exit code, and
 * leaves nothing labelled with the cluster name it named. One 1-node cluster serves the
 * "name in use" and "unknown node" cases; the rest need no cluster at all.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterStatus,
  clusterlab,
  FIXTURES,
  labelled,
  removeCluster,
  show,
  uniqueName,
  type RunResult,
} from './helpers.js';

/** Exit codes: 2 for command-line usage, 1 for everything else the user can fix. */
const USAGE = 2;
const USER = 1;

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-errors-'));
  dirs.push(dir);
  return dir;
}

/** Names `up` was asked for in this file: each must have left nothing behind. */
const attempted = new Set<string>();

/** `up` that must fail: checks the exit code, the message and that nothing was made. */
async function upFails(name: string, args: string[], exitCode: number, fragments: string[], env?: Record<string, string>): Promise<RunResult> {
  attempted.add(name);
  const r = await clusterlab(['up', '--name', name, ...args], { env, timeoutMs: 120_000 });
  expect(r.exitCode, show(r)).toBe(exitCode);
  for (const f of fragments) expect(r.stderr, show(r)).toContain(f);
  expect(r.stderr, 'errors are one ERROR line, not a stack trace').not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
  expect(await labelled(name)).toEqual({ containers: [], networks: [], volumes: [] });
  return r;
}

let existing = '';

beforeAll(async () => {
  existing = uniqueName();
  attempted.add(existing);
  const up = await clusterlab(['up', '--name', existing, '--nodes', '1']);
  if (up.exitCode !== 0) throw new Error(`could not create the 1-node cluster this file needs\n${show(up)}`);
});

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  const problems: string[] = [];
  for (const name of attempted) {
    await removeCluster(name).catch((e: unknown) => problems.push(e instanceof Error ? e.message : String(e)));
  }
  if (problems.length) throw new Error(problems.join('\n\n'));
});

describe('config files', () => {
  it('malformed YAML: where and what, exit 1', async () => {
    const file = path.join(FIXTURES, 'malformed.yaml');
    await upFails(uniqueName(), ['--config', file], USER, [`${file}:`, 'invalid YAML']);
  });

  it('an unknown field: named with its path and a suggestion, exit 1', async () => {
    await upFails(uniqueName(), ['--config', path.join(FIXTURES, 'unknown-field.yaml')], USER, ['nodes[1].cpu', 'unknown field "cpu"', 'did you mean "cpus"']);
  });

  it('--config with --nodes: refused, exit 2', async () => {
    await upFails(uniqueName(), ['--config', path.join(FIXTURES, 'one-node.yaml'), '--nodes', '2'], USAGE, ['--nodes cannot be combined with --config']);
  });

  it('a config file that does not exist: exit 1', async () => {
    const r = await upFails(uniqueName(), ['--config', path.join(FIXTURES, 'no-such-file.yaml')], USER, ['no-such-file.yaml']);
    expect(r.stderr).not.toContain('internal error');
  });
});

describe('flags', () => {
  it('an invalid cluster name: exit 2', async () => {
    await upFails('Bad_Name', [], USAGE, ['invalid cluster name "Bad_Name"', 'lower case alphanumeric']);
  });

  it('an invalid cluster name given with --config is refused too: exit 2', async () => {
    // --name overrides the config's name, so it must be checked like any other name.
    await upFails(`E2E_Bad_${uniqueName().slice(4)}`, ['--config', path.join(FIXTURES, 'one-node.yaml')], USAGE, ['invalid cluster name']);
  });

  it('a cluster name longer than 40 characters: exit 2', async () => {
    await upFails(`e2e-${'x'.repeat(40)}`, [], USAGE, ['invalid cluster name', '40 characters']);
  });

  it('--nodes 0: exit 2', async () => {
    await upFails(uniqueName(), ['--nodes', '0'], USAGE, ['--nodes must be a whole number from 1']);
  });

  it('--managers 3 --nodes 2: exit 2', async () => {
    await upFails(uniqueName(), ['--managers', '3', '--nodes', '2'], USAGE, ['--managers (3) cannot be more than --nodes (2)']);
  });

  it('an unknown output format: exit 2', async () => {
    const r = await clusterlab(['list', '-o', 'xml']);
    expect(r.exitCode, show(r)).toBe(USAGE);
    expect(r.stderr).toContain('unknown output format "xml"');
    expect(r.stdout).toBe('');
  });
});

describe('clusters and nodes', () => {
  it('a name already in use: exit 1, and the existing cluster is left alone', async () => {
    const before = await clusterStatus(existing);
    const r = await clusterlab(['up', '--name', existing, '--nodes', '1']);
    expect(r.exitCode, show(r)).toBe(USER);
    expect(r.stderr).toContain(`a cluster named "${existing}" already exists`);
    const after = await clusterStatus(existing);
    expect(after.nodes).toEqual(before.nodes);
    expect(after.nodes.map((n) => [n.name, n.state])).toEqual([['leader', 'running']]);
    expect((await labelled(existing)).containers).toEqual([`${existing}-leader`]);
  });

  it('an unknown node: exit 1, naming the nodes there are', async () => {
    const r = await clusterlab(['node', 'stop', 'nosuch', '--name', existing]);
    expect(r.exitCode, show(r)).toBe(USER);
    expect(r.stderr).toContain(`no node named "nosuch" in cluster "${existing}"`);
    expect(r.stderr).toContain('leader');
    expect((await clusterStatus(existing)).nodes.map((n) => n.state)).toEqual(['running']);
  });

  it('an unknown cluster: exit 1', async () => {
    const name = uniqueName();
    const r = await clusterlab(['status', '--name', name]);
    expect(r.exitCode, show(r)).toBe(USER);
    expect(r.stderr).toContain(`no cluster named "${name}"`);
    expect(r.stdout).toBe('');
  });
});

describe('the host', () => {
  it('a host port in use: exit 1, naming the port; nothing created', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, resolve);
    });
    try {
      const port = (server.address() as net.AddressInfo).port;
      const file = path.join(await tempDir(), 'busy-port.yaml');
      await writeFile(
        file,
        [
          'apiVersion: clusterlab.dev/v1alpha1',
          'kind: Cluster',
          'nodes:',
          '  - role: manager',
          '    ports:',
          '      - containerPort: 80',
          `        hostPort: ${port}`,
          '',
        ].join('\n'),
      );
      await upFails(uniqueName(), ['--config', file], USER, [`${port}`, 'already in use']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('Docker not running: exit 1, says it cannot reach the engine', async () => {
    const name = uniqueName();
    const sock = 'unix:///tmp/clusterlab-e2e-nonexistent.sock';
    await upFails(name, [], USER, ['cannot reach the Docker engine', sock], { DOCKER_HOST: sock });
    const status = await clusterlab(['status', '--name', name], { env: { DOCKER_HOST: sock } });
    expect(status.exitCode, show(status)).toBe(USER);
    expect(status.stderr).toContain('cannot reach the Docker engine');
  });

  it('Docker too old: exit 1, says too old and names 20.10', async () => {
    const dir = await tempDir();
    const socket = path.join(dir, 'old-docker.sock');
    const requests: string[] = [];
    // A Docker 17.03 as far as /version and /info tell (with or without a /v1.xx prefix).
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '').split('?')[0]!;
      requests.push(`${req.method} ${url}`);
      const json = (body: unknown) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.26' });
        res.end(JSON.stringify(body));
      };
      if (url.endsWith('/version')) {
        json({ Version: '17.03.0', ApiVersion: '1.26', MinAPIVersion: '1.12', Os: 'linux', Arch: 'amd64', GoVersion: 'go1.7.5', KernelVersion: '6.1.0' });
      } else if (url.endsWith('/info')) {
        json({});
      } else if (url.endsWith('/_ping')) {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Api-Version': '1.26' });
        res.end('OK');
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: `fake engine: no ${url}` }));
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, resolve);
    });
    try {
      const name = uniqueName();
      const r = await upFails(name, [], USER, ['too old', '20.10'], { DOCKER_HOST: `unix://${socket}` });
      expect(r.stderr).toContain('17.03');
      expect(requests.length, 'the CLI asked the fake engine something').toBeGreaterThan(0);
      expect(requests.filter((q) => !q.startsWith('GET ')), 'nothing may be created on a too-old engine').toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
