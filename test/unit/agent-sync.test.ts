/**
 * The agent end to end without Docker: the real Agent (informer, API client, event recorder)
 * against a small in-process API and a fake container runtime.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { Agent } from '../../src/node/agent/agent.js';
import { startHealthServer, type HealthServer } from '../../src/node/agent/health-server.js';
import type { MachineInfo } from '../../src/node/agent/machine-info.js';
import { ApiClient } from '../../src/node/shared/api-client.js';
import { startFakeApi, type FakeApi } from './agent-fake-api.js';
import { FakeRuntime } from './agent-fake-runtime.js';

const NODE = 'worker1';
const machine: MachineInfo = {
  cpuCores: 2,
  memoryBytes: 2 * 2 ** 30,
  ephemeralStorageBytes: 10 * 2 ** 30,
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  kernelVersion: '6.1.0',
  architecture: 'amd64',
  machineID: 'm1',
  systemUUID: 's1',
  bootID: 'b1',
};

let server: FakeApi;
let client: ApiClient;
let runtime: FakeRuntime;
let stateDir: string;
let agents: Agent[];
let logs: string[];

function newAgent(probeOk = true): Agent {
  const agent = new Agent({
    node: { name: NODE, ip: '172.30.0.3', kube: { nodeLabels: { tier: 'web' }, nodeTaints: [{ key: 'lab', value: 'yes', effect: 'NoSchedule' }], clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', version: '1.33.0' } },
    client,
    runtime,
    machine,
    stateDir,
    watchContainerEvents: (onChange) => runtime.watch(onChange),
    log: (line) => logs.push(line),
    resyncMs: 300,
    probeRunner: async () => ({ ok: probeOk, message: probeOk ? '' : 'HTTP probe failed with statuscode: 500' }),
  });
  agents.push(agent);
  return agent;
}

function podManifest(name: string, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent' }], ...spec },
  };
}

const getPod = (name: string) => client.getOrUndefined<Pod>(`/api/v1/namespaces/default/pods/${name}`);

async function events(): Promise<Event[]> {
  return (await client.list<Event>('/api/v1/namespaces/default/events')).items;
}

async function waitFor<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 3500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent log:\n${logs.slice(-15).join("\n")}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeEach(async () => {
  server = await startFakeApi();
  client = new ApiClient({ servers: [server.url], ca: '', cert: '', key: '', userAgent: 'agent-test' });
  runtime = new FakeRuntime();
  runtime.addImage('nginx:1.25');
  runtime.addImage('busybox:1.36');
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-dev-'));
  agents = [];
  logs = [];
});

afterEach(async () => {
  for (const agent of agents) await agent.stop();
  await server.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('node registration and heartbeat', () => {
  it('registers the Node with labels, taints (no pod CIDR: the controller manager gives it) and a Ready status, then renews its Lease', async () => {
    const agent = newAgent();
    const health: HealthServer = await startHealthServer(() => agent.isHealthy(), 0);
    try {
      const before = await fetch(`http://127.0.0.1:${health.port}/healthz`);
      expect(before.status).toBe(503);
      await agent.start();
      const after = await fetch(`http://127.0.0.1:${health.port}/healthz`);
      expect(await after.text()).toBe('ok');
    } finally {
      await health.close();
    }
    const node = (await client.get<Node>(`/api/v1/nodes/${NODE}`))!;
    expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', tier: 'web' });
    expect(node.spec?.taints).toEqual([{ key: 'lab', value: 'yes', effect: 'NoSchedule' }]);
    expect(node.spec?.podCIDR).toBeUndefined();
    expect(node.status?.capacity).toEqual({ cpu: '2', memory: '2097152Ki', pods: '110', 'ephemeral-storage': '10485760Ki' });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    expect(node.status?.nodeInfo).toMatchObject({ kubeletVersion: 'v1.33.0', containerRuntimeVersion: 'docker://20.10.24', osImage: 'Debian GNU/Linux 12 (bookworm)' });
    expect(node.status?.addresses).toEqual([{ type: 'InternalIP', address: '172.30.0.3' }, { type: 'Hostname', address: NODE }]);
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    const lease = await waitFor(() => client.getOrUndefined<Lease>(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE}`), 'the lease');
    expect(lease.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 40 });
    expect(lease.spec?.renewTime).toMatch(/\.\d{6}Z$/);
  });

  it('keeps taints someone changed later when it registers again', async () => {
    await newAgent().start();
    await client.patch(`/api/v1/nodes/${NODE}`, { spec: { taints: null } }, 'merge');
    await agents[0]!.stop();
    await newAgent().start();
    const node = (await client.get<Node>(`/api/v1/nodes/${NODE}`))!;
    expect(node.spec?.taints ?? []).toEqual([]);
  });
});

describe('pods', () => {
  it('starts sandbox and containers, reports Running with the pod IP and records events', async () => {
    await newAgent().start();
    await client.create('/api/v1/namespaces/default/pods', podManifest('web'));
    const pod = await waitFor(async () => {
      const p = await getPod('web');
      return p?.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p;
    }, 'web Running');
    const sandbox = runtime.byContainerName('POD')[0]!;
    const app = runtime.byContainerName('app')[0]!;
    expect(app.request.config.HostConfig.NetworkMode).toBe(`container:${sandbox.id}`);
    expect(pod.status?.podIP).toBe(sandbox.ipAddress);
    expect(pod.status?.hostIP).toBe('172.30.0.3');
    expect(pod.status?.qosClass).toBe('BestEffort');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, restartCount: 0, containerID: `docker://${app.id}` });
    const reasons = await waitFor(async () => {
      const list = (await events()).map((e) => `${e.reason}: ${e.message}`);
      return list.length >= 3 && list;
    }, 'events');
    expect(reasons).toEqual(
      expect.arrayContaining(['Pulled: Container image "nginx:1.25" already present on machine', 'Created: Created container: app', 'Started: Started container app']),
    );
    expect((await events())[0]?.source).toEqual({ component: 'kubelet', host: NODE });
    expect(logs).toContain('agent: pod default/web: started container app');
  });

  it('a container that exits with restartPolicy Never makes the pod Failed (or Succeeded) and keeps it', async () => {
    await newAgent().start();
    runtime.exitOnStart.set('fail', 3);
    runtime.exitOnStart.set('ok', 0);
    await client.create('/api/v1/namespaces/default/pods', podManifest('bad', { restartPolicy: 'Never', containers: [{ name: 'fail', image: 'busybox:1.36' }] }));
    await client.create('/api/v1/namespaces/default/pods', podManifest('good', { restartPolicy: 'Never', containers: [{ name: 'ok', image: 'busybox:1.36' }] }));
    const bad = await waitFor(async () => ((await getPod('bad'))?.status?.phase === 'Failed' ? getPod('bad') : undefined), 'bad Failed');
    expect(bad.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    const good = await waitFor(async () => ((await getPod('good'))?.status?.phase === 'Succeeded' ? getPod('good') : undefined), 'good Succeeded');
    expect(good.status?.containerStatuses?.[0]?.state?.terminated?.reason).toBe('Completed');
    expect(good.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('PodCompleted');
    // Finished pods keep their stopped containers; their sandbox is stopped.
    await new Promise((r) => setTimeout(r, 400));
    expect(runtime.byContainerName('fail')).toHaveLength(1);
    expect(runtime.byContainerName('fail')[0]!.state).toBe('exited');
    expect(runtime.byContainerName('POD').every((c) => c.state === 'exited')).toBe(true);
  });

  it('restarts a crashing container, then backs off with CrashLoopBackOff', async () => {
    await newAgent().start();
    runtime.exitOnStart.set('app', 1);
    await client.create('/api/v1/namespaces/default/pods', podManifest('crash'));
    const pod = await waitFor(async () => {
      const p = await getPod('crash');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' && p;
    }, 'CrashLoopBackOff');
    const cs = pod.status!.containerStatuses![0]!;
    expect(cs.restartCount).toBe(1); // first restart at once, the second waits 10 s
    expect(cs.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(cs.state?.waiting?.message).toMatch(/^back-off 10s restarting failed container=app pod=crash_default\(/);
    expect(pod.status?.phase).toBe('Running');
    const backOff = await waitFor(async () => (await events()).find((e) => e.reason === 'BackOff'), 'BackOff event');
    expect(backOff.message).toBe(`Back-off restarting failed container app in pod crash_default(${pod.metadata?.uid})`);
    expect(backOff.type).toBe('Warning');
  });

  it('a missing image with pull policy Never gives ErrImageNeverPull; a failed pull ErrImagePull then ImagePullBackOff', async () => {
    await newAgent().start();
    await client.create('/api/v1/namespaces/default/pods', podManifest('never', { containers: [{ name: 'app', image: 'missing:1', imagePullPolicy: 'Never' }] }));
    await client.create('/api/v1/namespaces/default/pods', podManifest('pull', { containers: [{ name: 'app', image: 'missing:2', imagePullPolicy: 'IfNotPresent' }] }));
    const never = await waitFor(async () => {
      const p = await getPod('never');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull' && p;
    }, 'ErrImageNeverPull');
    expect(never.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe('Container image "missing:1" is not present with pull policy of Never');
    expect(never.status?.phase).toBe('Pending');
    // ErrImagePull is written first and turns into ImagePullBackOff at the next sync.
    const pull = await waitFor(async () => {
      const p = await getPod('pull');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' && p;
    }, 'ImagePullBackOff');
    expect(pull.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/^Back-off pulling image "missing:2": ErrImagePull: .*no such host$/);
    expect(logs.some((l) => l.startsWith('agent: pod default/pull: container app: ErrImagePull: '))).toBe(true);
    expect(logs.filter((l) => l.includes('ErrImageNeverPull'))).toHaveLength(1);
    const messages = (await events()).map((e) => `${e.type} ${e.reason}: ${e.message}`);
    expect(messages).toEqual(expect.arrayContaining(['Normal Pulling: Pulling image "missing:2"', 'Warning Failed: Error: ErrImagePull', 'Normal BackOff: Back-off pulling image "missing:2"']));
    expect(messages.some((m) => m.startsWith('Warning Failed: Failed to pull image "missing:2": '))).toBe(true);
    expect(runtime.calls.filter((c) => c === 'pull missing:2')).toHaveLength(1); // back-off: no second pull within 10 s
  });

  it('Always with a local image: the failed pull falls back to it and says so', async () => {
    await newAgent().start();
    await client.create('/api/v1/namespaces/default/pods', podManifest('always', { containers: [{ name: 'app', image: 'nginx:1.25', imagePullPolicy: 'Always' }] }));
    await waitFor(async () => (await getPod('always'))?.status?.phase === 'Running', 'Running');
    const pulled = await waitFor(async () => (await events()).find((e) => e.reason === 'Pulled'), 'Pulled');
    expect(pulled.message).toMatch(/^Container image "nginx:1.25" already present on machine; pulling it failed/);
  });

  it('deletion: stops containers within the grace period, removes them and deletes the pod', async () => {
    await newAgent().start();
    await client.create('/api/v1/namespaces/default/pods', podManifest('gone', { terminationGracePeriodSeconds: 5 }));
    await waitFor(async () => (await getPod('gone'))?.status?.phase === 'Running', 'Running');
    await client.delete('/api/v1/namespaces/default/pods/gone', {});
    await waitFor(async () => (await getPod('gone')) === undefined, 'pod deleted');
    expect(runtime.containers.size).toBe(0);
    const stop = runtime.calls.find((c) => c.startsWith('stop k8s_app_gone'));
    expect(Number(stop?.split(' ')[2])).toBeGreaterThanOrEqual(4);
    const killing = await waitFor(async () => (await events()).find((e) => e.reason === 'Killing'), 'Killing');
    expect(killing.message).toBe('Stopping container app');
  });

  it('a restarted agent adopts running containers and sweeps those of pods deleted meanwhile', async () => {
    const first = newAgent();
    await first.start();
    await client.create('/api/v1/namespaces/default/pods', podManifest('keep'));
    await client.create('/api/v1/namespaces/default/pods', podManifest('drop'));
    await waitFor(async () => (await getPod('keep'))?.status?.phase === 'Running' && (await getPod('drop'))?.status?.phase === 'Running', 'both Running');
    const keepBefore = runtime.byContainerName('app').find((c) => c.identity.name === 'keep')!;
    await first.stop();
    // While the agent is down the pod object vanishes for good.
    await client.delete('/api/v1/namespaces/default/pods/drop', { gracePeriodSeconds: 0 });
    await waitFor(async () => (await getPod('drop')) === undefined, 'drop gone');
    runtime.calls.length = 0;
    await newAgent().start();
    await waitFor(async () => ![...runtime.containers.values()].some((c) => c.identity.name === 'drop'), 'drop swept');
    const keepAfter = runtime.byContainerName('app').find((c) => c.identity.name === 'keep')!;
    expect(keepAfter.id).toBe(keepBefore.id);
    expect(keepAfter.state).toBe('running');
    expect(runtime.calls.filter((c) => c.includes('_keep_'))).toEqual([]);
  });

  it('resolves env from fields and ConfigMaps and mounts configMap volumes', async () => {
    await client.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'fast', 'app.conf': 'x=1' } });
    await newAgent().start();
    await client.create(
      '/api/v1/namespaces/default/pods',
      podManifest('envy', {
        volumes: [{ name: 'conf', configMap: { name: 'settings' } }],
        containers: [
          {
            name: 'app',
            image: 'nginx:1.25',
            env: [
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
            ],
            volumeMounts: [{ name: 'conf', mountPath: '/etc/app' }],
          },
        ],
      }),
    );
    await waitFor(async () => (await getPod('envy'))?.status?.phase === 'Running', 'Running');
    const app = runtime.byContainerName('app')[0]!;
    const sandbox = runtime.byContainerName('POD')[0]!;
    expect(app.request.config.Env).toEqual(['POD_NAME=envy', `POD_IP=${sandbox.ipAddress}`, 'MODE=fast']);
    const bind = app.request.config.HostConfig.Binds![0]!;
    expect(bind.endsWith(':/etc/app')).toBe(true);
    expect(fs.readFileSync(path.join(bind.split(':')[0]!, 'app.conf'), 'utf8')).toBe('x=1');
  });

  it('a missing ConfigMap key gives CreateContainerConfigError', async () => {
    await newAgent().start();
    await client.create(
      '/api/v1/namespaces/default/pods',
      podManifest('cfg', { containers: [{ name: 'app', image: 'nginx:1.25', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }] }),
    );
    const pod = await waitFor(async () => {
      const p = await getPod('cfg');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && p;
    }, 'CreateContainerConfigError');
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe('configmap "nope" not found');
  });

  it('readiness and liveness probes: failing readiness keeps the pod unready; failing liveness restarts the container', async () => {
    await newAgent(false).start();
    const probe = { httpGet: { path: '/', port: 80 }, periodSeconds: 1, failureThreshold: 1 };
    await client.create('/api/v1/namespaces/default/pods', podManifest('probed', { containers: [{ name: 'app', image: 'nginx:1.25', readinessProbe: probe, livenessProbe: probe }] }));
    const pod = await waitFor(async () => {
      const p = await getPod('probed');
      return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && p;
    }, 'a liveness restart');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    const reasons = (await events()).map((e) => `${e.reason}: ${e.message}`);
    expect(reasons).toEqual(expect.arrayContaining(['Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500', 'Killing: Container app failed liveness probe, will be restarted']));
  }, 10_000);
});

describe('timers', () => {
  it('the agent stops cleanly (no timers left that would keep a process alive)', async () => {
    vi.useRealTimers();
    const agent = newAgent();
    await agent.start();
    await agent.stop();
    expect(agent.isHealthy()).toBe(true);
  });
});
