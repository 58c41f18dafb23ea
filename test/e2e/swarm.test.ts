/**
 * One 3-node swarm cluster (1 manager, 2 workers), driven through the built CLI and the
 * host's docker CLI (via `clusterlab env`), step by step: the steps run in order and each
 * leaves the cluster healthy for the next. Removed in afterAll, with proof that nothing
 * labelled with it is left, also when a step failed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HOME,
  clusterStatus,
  clusterlab,
  clusterlabOk,
  docker,
  figure,
  isEmpty,
  labelled,
  removeCluster,
  seconds,
  show,
  swarmClient,
  swarmNodeStatus,
  swarmNodes,
  TEST_IMAGE,
  uniqueName,
  waitFor,
  type ClusterStatusJson,
  type SwarmClient,
} from './helpers.js';

const NAME = uniqueName();
const SERVICE = 'web';
const REPLICAS = 4;
const NODES = ['leader', 'worker1', 'worker2'];

let created = false;
let swarm: SwarmClient;
/** name → ip, as `up` gave them; every later step must keep them. */
let addresses: Record<string, string> = {};
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  if (created) await removeCluster(NAME);
});

function ips(status: ClusterStatusJson): Record<string, string> {
  return Object.fromEntries(status.nodes.map((n) => [n.name, n.ip]));
}

/** The service's tasks that swarm wants running, with where they run and their state. */
async function runningTasks(): Promise<{ node: string; state: string }[]> {
  const out = await swarm.ok(['service', 'ps', SERVICE, '--filter', 'desired-state=running', '--format', '{{.Node}}\t{{.CurrentState}}']);
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [node = '', state = ''] = l.split('\t');
      return { node, state };
    });
}

async function expectServiceRunning(excluding?: string): Promise<{ node: string; state: string }[]> {
  const tasks = await runningTasks();
  expect(tasks, JSON.stringify(tasks)).toHaveLength(REPLICAS);
  for (const t of tasks) {
    expect(t.state, JSON.stringify(tasks)).toMatch(/^Running/);
    if (excluding) expect(t.node, JSON.stringify(tasks)).not.toBe(excluding);
  }
  return tasks;
}

async function expectAllReady(nodes = NODES): Promise<void> {
  const status = await swarmNodeStatus(swarm);
  expect(status).toEqual(Object.fromEntries(nodes.map((n) => [n, 'Ready'])));
}

/** What every "the cluster came back" step checks: same nodes, same IPs, swarm Ready, service running. */
async function expectClusterBack(what: string): Promise<void> {
  const status = await clusterStatus(NAME);
  expect(status.nodes.map((n) => n.state)).toEqual(['running', 'running', 'running']);
  expect(ips(status)).toEqual(addresses);
  swarm = await swarmClient(NAME);
  await waitFor(() => expectAllReady(), { timeoutMs: 120_000, intervalMs: 2_000, what: `${what}: swarm nodes Ready` });
  await waitFor(() => expectServiceRunning(), { timeoutMs: 120_000, intervalMs: 2_000, what: `${what}: ${REPLICAS} running tasks of ${SERVICE}` });
}

describe.sequential(`swarm cluster ${NAME}`, () => {
  it('up: 3 nodes, swarm Ready, status -o json', async () => {
    const started = Date.now();
    created = true;
    const up = await clusterlab(['up', '--name', NAME], { timeoutMs: 300_000 });
    figure('up (3 nodes, image present)', seconds(Date.now() - started));
    expect(up.exitCode, show(up)).toBe(0);
    expect(up.stderr).toContain(`Cluster "${NAME}" is ready`);

    swarm = await swarmClient(NAME);
    // The endpoint speaks TLS only: the same port without the client certificate is refused.
    const plain = await docker(['version', '--format', '{{.Server.Version}}'], { env: { DOCKER_HOST: swarm.env.DOCKER_HOST! }, timeoutMs: 30_000 });
    expect(plain.exitCode, show(plain)).not.toBe(0);

    const nodes = await swarmNodes(swarm);
    expect(nodes.map((n) => n.Hostname).sort()).toEqual(NODES);
    for (const n of nodes) expect(n.Status, JSON.stringify(n)).toBe('Ready');
    expect(nodes.find((n) => n.Hostname === 'leader')?.ManagerStatus).toBe('Leader');
    expect(nodes.filter((n) => n.ManagerStatus !== '').map((n) => n.Hostname)).toEqual(['leader']);

    const status = await clusterStatus(NAME);
    expect(status).toMatchObject({ name: NAME, engine: 'swarm' });
    expect(status.nodes.map((n) => ({ name: n.name, role: n.role, state: n.state }))).toEqual([
      { name: 'leader', role: 'manager', state: 'running' },
      { name: 'worker1', role: 'worker', state: 'running' },
      { name: 'worker2', role: 'worker', state: 'running' },
    ]);
    const nodeIps = status.nodes.map((n) => n.ip);
    for (const ip of nodeIps) expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(new Set(nodeIps).size).toBe(3);
    expect(new Set(nodeIps.map((ip) => ip.split('.').slice(0, 3).join('.'))).size).toBe(1);
    expect(status.network.subnet).toBe(`${nodeIps[0]!.split('.').slice(0, 3).join('.')}.0/24`);
    addresses = ips(status);
    figure('node addresses', JSON.stringify(addresses));
  });

  it('a 4-replica service of a local image spreads over nodes and answers across the overlay', async () => {
    const load = await clusterlab(['image', 'load', TEST_IMAGE, '--name', NAME]);
    expect(load.exitCode, show(load)).toBe(0);

    await swarm.ok([
      'service', 'create', '--detach', '--name', SERVICE, '--replicas', String(REPLICAS),
      '--endpoint-mode', 'dnsrr', '--network', 'clusterlab',
      TEST_IMAGE, 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && httpd -f -p 80 -h /www',
    ]);
    const tasks = await waitFor(() => expectServiceRunning(), { timeoutMs: 90_000, what: `${REPLICAS} running tasks` });
    const spread = new Set(tasks.map((t) => t.node));
    expect(spread.size, JSON.stringify(tasks)).toBeGreaterThanOrEqual(2);

    // Which node runs which task container: a task's hostname is its container ID's first 12 characters.
    const nodeNames = new Map((await swarmNodes(swarm)).map((n) => [n.ID, n.Hostname]));
    const taskIds = (await swarm.ok(['service', 'ps', SERVICE, '--filter', 'desired-state=running', '-q'])).split('\n').filter(Boolean);
    const hostOf = new Map<string, string>();
    for (const line of (await swarm.ok(['inspect', '--format', '{{.Status.ContainerStatus.ContainerID}} {{.NodeID}}', ...taskIds])).split('\n').filter(Boolean)) {
      const [container = '', nodeId = ''] = line.split(' ');
      hostOf.set(container.slice(0, 12), nodeNames.get(nodeId) ?? nodeId);
    }

    // A client container on the leader (the endpoint `clusterlab env` points at), on the overlay.
    const requests = 16;
    const client = await swarm.run(
      [
        'run', '--rm', '--network', 'clusterlab', TEST_IMAGE, 'sh', '-c',
        `for i in $(seq 1 ${requests}); do printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 tasks.${SERVICE} 80 | tail -n 1; echo; done`,
      ],
      { timeoutMs: 120_000 },
    );
    expect(client.exitCode, show(client)).toBe(0);
    const answers = client.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    figure('overlay answers', JSON.stringify(answers.map((h) => `${h}@${hostOf.get(h) ?? '?'}`)));
    expect(answers.length, show(client)).toBe(requests);
    for (const a of answers) expect([...hostOf.keys()], `answer "${a}" is not a task's hostname`).toContain(a);
    expect(new Set(answers).size).toBeGreaterThanOrEqual(2);
    // The client runs on the leader: answers from tasks on workers crossed the overlay between nodes.
    const fromOtherNodes = answers.filter((a) => hostOf.get(a) !== 'leader');
    expect(fromOtherNodes.length, JSON.stringify([...hostOf])).toBeGreaterThan(0);
  });

  it('node stop worker2: Down, its tasks run elsewhere; node start: Ready again', async () => {
    const before = await expectServiceRunning();
    expect(before.filter((t) => t.node === 'worker2').length, `worker2 runs a task: ${JSON.stringify(before)}`).toBeGreaterThan(0);
    const stop = await clusterlab(['node', 'stop', 'worker2', '--name', NAME]);
    expect(stop.exitCode, show(stop)).toBe(0);
    const started = Date.now();
    await waitFor(
      async () => {
        expect((await swarmNodeStatus(swarm)).worker2).toBe('Down');
        await expectServiceRunning('worker2');
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'worker2 Down and every task on another node' },
    );
    figure('node stop -> Down and tasks rescheduled', seconds(Date.now() - started));
    expect((await clusterStatus(NAME)).nodes.find((n) => n.name === 'worker2')?.state).toBe('exited');

    const start = await clusterlab(['node', 'start', 'worker2', '--name', NAME]);
    expect(start.exitCode, show(start)).toBe(0);
    // The command waits until the node rejoined: no polling here.
    await expectAllReady();
    expect(ips(await clusterStatus(NAME))).toEqual(addresses);
  });

  it('node disconnect worker1: connected:false and Down; node connect: Ready', async () => {
    const cut = await clusterlab(['node', 'disconnect', 'worker1', '--name', NAME]);
    expect(cut.exitCode, show(cut)).toBe(0);
    const started = Date.now();
    await waitFor(
      async () => {
        const w1 = (await clusterStatus(NAME)).nodes.find((n) => n.name === 'worker1');
        expect(w1).toMatchObject({ state: 'running', connected: false, orchestrator: { state: 'Down' } });
      },
      { timeoutMs: 60_000, intervalMs: 2_000, what: 'worker1 disconnected and Down' },
    );
    figure('node disconnect -> Down', seconds(Date.now() - started));
    expect((await swarmNodeStatus(swarm)).worker1).toBe('Down');

    const heal = await clusterlab(['node', 'connect', 'worker1', '--name', NAME]);
    expect(heal.exitCode, show(heal)).toBe(0);
    await expectAllReady();
    const w1 = (await clusterStatus(NAME)).nodes.find((n) => n.name === 'worker1');
    expect(w1).toMatchObject({ connected: true, ip: addresses.worker1, orchestrator: { state: 'Ready' } });
  });

  it('exec NODE -- CMD runs CMD on the node and passes its exit code through', async () => {
    // The documented form (clusterlab exec --help: `clusterlab exec worker1 -- docker ps`).
    const seven = await clusterlab(['exec', '--name', NAME, 'leader', '--', 'sh', '-c', 'exit 7']);
    expect(seven.exitCode, show(seven)).toBe(7);

    const host = await clusterlab(['exec', '--name', NAME, 'leader', '--', 'hostname']);
    expect(host.exitCode, show(host)).toBe(0);
    expect(host.stdout.trim()).toBe('leader');

    // Without the separator, too.
    const plain = await clusterlab(['exec', '--name', NAME, 'worker1', 'sh', '-c', 'hostname; exit 3']);
    expect(plain.exitCode, show(plain)).toBe(3);
    expect(plain.stdout.trim()).toBe('worker1');
  });

  it('logs prints dockerd lines; export logs writes the description and every node\'s logs', async () => {
    const logs = await clusterlab(['logs', 'leader', '--name', NAME, '--tail', '5']);
    expect(logs.exitCode, show(logs)).toBe(0);
    const lines = logs.stdout.split('\n').filter((l) => l.trim());
    expect(lines.length, logs.stdout).toBeGreaterThan(0);
    expect(lines.length, logs.stdout).toBeLessThanOrEqual(5);
    // dockerd's logrus lines: time="…" level=info msg="…"
    for (const l of lines) expect(l).toMatch(/level=\w+ msg=/);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-export-'));
    dirs.push(dir);
    const target = path.join(dir, 'logs');
    const exported = await clusterlab(['export', 'logs', target, '--name', NAME]);
    expect(exported.exitCode, show(exported)).toBe(0);
    expect(exported.stdout.trim()).toBe(target);
    const cluster = JSON.parse(await readFile(path.join(target, 'cluster.json'), 'utf8')) as ClusterStatusJson;
    expect(cluster).toMatchObject({ name: NAME, engine: 'swarm' });
    expect(cluster.nodes.map((n) => n.name)).toEqual(NODES);
    for (const node of NODES) {
      const files = (await readdir(path.join(target, node), { recursive: true })).map(String);
      const dockerd = files.find((f) => path.basename(f) === 'dockerd.log');
      expect(dockerd, `${node}: ${files.join(', ')}`).toBeDefined();
      expect((await readFile(path.join(target, node, dockerd!), 'utf8')).length).toBeGreaterThan(0);
    }
  });

  it('stop, then start: same nodes, same addresses, swarm healthy, service running', async () => {
    const stop = await clusterlab(['stop', '--name', NAME]);
    expect(stop.exitCode, show(stop)).toBe(0);
    const list = await clusterlabOk(['list', '-o', 'json']);
    const row = (JSON.parse(list.stdout) as { name: string; state: string; running: number }[]).find((c) => c.name === NAME);
    expect(row).toMatchObject({ name: NAME, state: 'stopped', running: 0 });
    const containerStates = (await docker(['ps', '-a', '--filter', `label=dev.clusterlab.cluster=${NAME}`, '--format', '{{.State}}'])).stdout;
    expect(containerStates.split('\n').filter(Boolean)).toEqual(['exited', 'exited', 'exited']);

    const started = Date.now();
    const start = await clusterlab(['start', '--name', NAME], { timeoutMs: 300_000 });
    expect(start.exitCode, show(start)).toBe(0);
    figure('start (stopped 3-node cluster)', seconds(Date.now() - started));
    expect(JSON.parse((await clusterlabOk(['list', '-o', 'json'])).stdout)).toContainEqual(expect.objectContaining({ name: NAME, state: 'running' }));
    await expectClusterBack('after stop/start');
  });

  it('node add joins worker3; node rm removes it', async () => {
    const add = await clusterlab(['node', 'add', '--name', NAME], { timeoutMs: 300_000 });
    expect(add.exitCode, show(add)).toBe(0);
    await expectAllReady([...NODES, 'worker3']);
    const status = await clusterStatus(NAME);
    const w3 = status.nodes.find((n) => n.name === 'worker3');
    expect(w3).toMatchObject({ role: 'worker', state: 'running', orchestrator: { state: 'Ready' } });
    expect(Object.values(addresses)).not.toContain(w3!.ip);
    expect(w3!.ip.split('.').slice(0, 3)).toEqual(addresses.leader!.split('.').slice(0, 3));

    const rm = await clusterlab(['node', 'rm', 'worker3', '--name', NAME]);
    expect(rm.exitCode, show(rm)).toBe(0);
    expect((await swarmNodes(swarm)).map((n) => n.Hostname).sort()).toEqual(NODES);
    const left = await labelled(NAME);
    expect(left.containers.sort()).toEqual(NODES.map((n) => `${NAME}-${n}`).sort());
    expect(left.volumes.filter((v) => v.includes('worker3'))).toEqual([]);
    const ps = await docker(['ps', '-a', '--filter', `name=${NAME}-worker3`, '--format', '{{.Names}}']);
    expect(ps.stdout.trim()).toBe('');
    await expectAllReady();
  });

  it('down removes everything; again is a no-op; status then says there is no such cluster', async () => {
    const down = await clusterlab(['down', '--name', NAME]);
    expect(down.exitCode, show(down)).toBe(0);
    const left = await labelled(NAME);
    expect(left).toEqual({ containers: [], networks: [], volumes: [] });
    expect(isEmpty(left)).toBe(true);

    const again = await clusterlab(['down', '--name', NAME]);
    expect(again.exitCode, show(again)).toBe(0);

    const status = await clusterlab(['status', '--name', NAME]);
    expect(status.exitCode, show(status)).not.toBe(0);
    expect(status.stderr).toContain(`no cluster named "${NAME}"`);
    const list = JSON.parse((await clusterlabOk(['list', '-o', 'json'])).stdout) as { name: string }[];
    expect(list.map((c) => c.name)).not.toContain(NAME);
    expect(existsSync(path.join(HOME, 'clusters', NAME))).toBe(false);
  });
});
