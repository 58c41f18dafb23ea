/**
 * A restart of the host's Docker engine (a laptop's reboot, a Docker Desktop update): the
 * nodes come back by their restart policy, with the same addresses, the swarm healthy and its
 * service running. It stops every container on the engine, so this file runs alone, after
 * every other e2e file (vitest project `e2e-engine`), and only where the way to restart the
 * engine is given: CI sets CLUSTERLAB_E2E_RESTART_DOCKER (`.ci/docker-engine.sh restart`).
 */
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  clusterStatus,
  clusterlab,
  clusterlabOk,
  figure,
  removeCluster,
  seconds,
  show,
  swarmClient,
  swarmNodeStatus,
  TEST_IMAGE,
  uniqueName,
  waitFor,
  type SwarmClient,
} from './helpers.js';

const NAME = uniqueName('restart');
const REPLICAS = 3;
const restartDocker = process.env.CLUSTERLAB_E2E_RESTART_DOCKER;

let created = false;

afterAll(async () => {
  if (created) await removeCluster(NAME);
});

async function expectServiceRunning(swarm: SwarmClient): Promise<void> {
  const out = await swarm.ok(['service', 'ps', 'web', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}']);
  const states = out.split('\n').filter((l) => l.trim());
  expect(states, out).toHaveLength(REPLICAS);
  for (const s of states) expect(s, out).toMatch(/^Running/);
}

describe.skipIf(!restartDocker)(`a restart of the host Docker engine (cluster ${NAME})`, () => {
  it('the nodes come back with the same addresses, the swarm healthy and the service running', async () => {
    created = true;
    const up = await clusterlab(['up', '--name', NAME], { timeoutMs: 300_000 });
    expect(up.exitCode, show(up)).toBe(0);
    await clusterlabOk(['image', 'load', TEST_IMAGE, '--name', NAME]);
    let swarm = await swarmClient(NAME);
    await swarm.ok(['service', 'create', '--detach', '--name', 'web', '--replicas', String(REPLICAS), TEST_IMAGE, 'sleep', '100000']);
    await waitFor(() => expectServiceRunning(swarm), { timeoutMs: 90_000, intervalMs: 2_000, what: `${REPLICAS} running tasks` });
    const before = await clusterStatus(NAME);

    const started = Date.now();
    const restarted = await execa('sh', ['-c', restartDocker!], { env: cleanEnv(), extendEnv: false, reject: false, timeout: 180_000, all: true });
    expect(restarted.exitCode, String(restarted.all)).toBe(0);
    // The nodes come back by their restart policy (unless-stopped), not by clusterlab.
    await waitFor(
      async () => {
        const status = await clusterStatus(NAME);
        expect(status.nodes.map((n) => n.state)).toEqual(['running', 'running', 'running']);
      },
      { timeoutMs: 120_000, intervalMs: 2_000, what: 'the nodes running again after the engine restart' },
    );
    const after = await clusterStatus(NAME);
    expect(after.nodes.map((n) => [n.name, n.ip])).toEqual(before.nodes.map((n) => [n.name, n.ip]));
    swarm = await swarmClient(NAME);
    await waitFor(
      async () => expect(await swarmNodeStatus(swarm)).toEqual({ leader: 'Ready', worker1: 'Ready', worker2: 'Ready' }),
      { timeoutMs: 120_000, intervalMs: 2_000, what: 'swarm nodes Ready' },
    );
    await waitFor(() => expectServiceRunning(swarm), { timeoutMs: 120_000, intervalMs: 2_000, what: `${REPLICAS} running tasks of web` });
    figure('engine restart -> cluster healthy', seconds(Date.now() - started));
  }, 600_000);
});
