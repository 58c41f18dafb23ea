/**
 * The kube engine end to end: one 3-node cluster (1 control plane, 2 workers) made by the
 * built CLI, driven by the real kubectl — the newest the machine has and Debian's 1.20 —
 * step by step. Steps run in order; each leaves the cluster usable for the next. Removed in
 * afterAll, with proof that nothing labelled with it is left.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { execa } from 'execa';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  cleanEnv,
  clusterStatus,
  clusterlab,
  clusterlabOk,
  figure,
  FIXTURES,
  KUBECONFIG_FILE,
  KUBECTL_NEWEST,
  runKubectl,
  type KubectlOptions,
  removeCluster,
  seconds,
  show,
  TEST_IMAGE,
  uniqueName,
  waitFor,
} from './helpers.js';

const NAME = uniqueName('e2e-kube');
const CONTEXT = `clusterlab-${NAME}`;
const KUBE_FIXTURES = path.join(FIXTURES, 'kube');
const KUBECTL_NEW = KUBECTL_NEWEST;
const KUBECTL_OLD = inject('kubectlOld');

let created = false;
let cacheDir = '';

const kubectlWith = (binary: string, args: string[], opts?: KubectlOptions) => runKubectl(binary, CONTEXT, cacheDir, args, opts);

const kubectl = (args: string[], opts?: { input?: string; timeoutMs?: number }) => kubectlWith(KUBECTL_NEW, args, opts);

async function kubectlOk(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.exitCode !== 0) throw new Error(`expected exit 0\n${show(r)}`);
  return r.stdout;
}

interface PodJson {
  metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; containerStatuses?: { name: string; ready: boolean; restartCount: number; containerID?: string; state?: Record<string, { reason?: string; message?: string }> }[] };
}

async function getPod(name: string, ns = 'default'): Promise<PodJson> {
  return JSON.parse(await kubectlOk(['get', 'pod', name, '-n', ns, '-o', 'json'])) as PodJson;
}

async function waitPodRunning(name: string, ns = 'default', timeoutMs = 60_000): Promise<PodJson> {
  return waitFor(
    async () => {
      const pod = await getPod(name, ns);
      expect(pod.status.phase, JSON.stringify(pod.status)).toBe('Running');
      expect(pod.status.containerStatuses?.every((c) => c.ready)).toBe(true);
      return pod;
    },
    { timeoutMs, intervalMs: 500, what: `pod ${ns}/${name} Running` },
  );
}

/** A pod that sleeps, made with `kubectl run`. */
async function runSleeper(name: string, extra: string[] = []): Promise<void> {
  await kubectlOk(['run', name, `--image=${TEST_IMAGE}`, '--restart=Never', '--image-pull-policy=IfNotPresent', ...extra, '--', 'sleep', '3600']);
}

/** GET on the published API port with no client certificate. */
function anonymousGet(port: number, pathName: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: pathName, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-kubecache-'));
  const started = Date.now();
  created = true;
  await clusterlabOk(['up', '--engine', 'kube', '--name', NAME, '--nodes', '3'], { timeoutMs: 300_000 });
  figure('up --engine kube, 3 nodes (image present)', seconds(Date.now() - started));
  await clusterlabOk(['image', 'load', TEST_IMAGE, '--name', NAME], { timeoutMs: 180_000 });
});

afterAll(async () => {
  if (created) await removeCluster(NAME);
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  if (existsSync(KUBECONFIG_FILE)) {
    const doc = YAML.parse(await readFile(KUBECONFIG_FILE, 'utf8')) as { contexts?: { name: string }[] } | null;
    expect(doc?.contexts?.map((c) => c.name) ?? []).not.toContain(CONTEXT);
  }
});

describe(`kube cluster ${NAME}`, () => {
  it('writes its kubeconfig context, made current; clusterlab kubeconfig prints the same cluster', async () => {
    const doc = YAML.parse(await readFile(KUBECONFIG_FILE, 'utf8')) as { 'current-context': string; clusters: { name: string; cluster: { server: string } }[] };
    expect(doc['current-context']).toBe(CONTEXT);
    const printed = YAML.parse((await clusterlabOk(['kubeconfig', '--name', NAME])).stdout) as typeof doc;
    expect(printed.clusters[0]?.cluster.server).toBe(doc.clusters.find((c) => c.name === CONTEXT)?.cluster.server);
    expect(printed.clusters[0]?.cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers kubectl version and cluster-info', async () => {
    const version = JSON.parse(await kubectlOk(['version', '-o', 'json'])) as { serverVersion: { major: string; minor: string; gitVersion: string } };
    expect(version.serverVersion).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.0' });
    expect(await kubectlOk(['cluster-info'])).toMatch(/is running at https:\/\/127\.0\.0\.1:\d+/);
  });

  it('refuses requests without a client certificate (401)', async () => {
    const leader = (await clusterStatus(NAME)).nodes.find((n) => n.name === 'leader');
    expect(leader?.apiPort).toBeGreaterThan(0);
    const answer = await anonymousGet(leader!.apiPort!, '/api/v1/namespaces/default/pods');
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('shows every node Ready with roles, addresses and the control-plane taint', async () => {
    const wide = await kubectlOk(['get', 'nodes', '-o', 'wide']);
    const header = wide.split('\n')[0]!;
    expect(header).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/);
    const status = await clusterStatus(NAME);
    for (const node of status.nodes) {
      const row = wide.split('\n').find((l) => l.startsWith(`${node.name} `));
      expect(row, wide).toBeDefined();
      expect(row).toMatch(/\sReady\s/);
      expect(row).toContain(node.ip);
      expect(row).toContain('docker://');
    }
    expect(wide.split('\n').find((l) => l.startsWith('leader '))).toMatch(/control-plane/);
    const taints = await kubectlOk(['get', 'node', 'leader', '-o', 'jsonpath={.spec.taints[*].key}']);
    expect(taints).toBe('node-role.kubernetes.io/control-plane');
    expect(await kubectlOk(['get', 'node', 'worker1', '-o', 'jsonpath={.spec.taints}'])).toBe('');
  });

  it('runs a pod with kubectl run: Running on a worker, with an IP, shown by get pods -o wide', async () => {
    const started = Date.now();
    await runSleeper('web');
    const pod = await waitPodRunning('web');
    figure('kubectl run -> Running', seconds(Date.now() - started));
    expect(['worker1', 'worker2']).toContain(pod.spec.nodeName);
    expect(pod.status.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    const wide = await kubectlOk(['get', 'pods', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(wide).toMatch(new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${pod.status.podIP!.replace(/\./g, '\\.')}\\s+${pod.spec.nodeName}`));
    const all = await kubectlOk(['get', 'pods', '-A']);
    expect(all.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS/);
    expect(all).toMatch(/default\s+web\s+1\/1\s+Running/);
  });

  it('prints objects as yaml, json, jsonpath and name', async () => {
    expect(YAML.parse(await kubectlOk(['get', 'pod', 'web', '-o', 'yaml']))).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } });
    expect(await kubectlOk(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.name}'])).toBe('web');
    expect((await kubectlOk(['get', 'pods', '-o', 'name'])).split('\n')).toContain('pod/web');
  });

  it('creates from a file with a ConfigMap value in the environment; configmap and secret from literals', async () => {
    await kubectlOk(['create', 'configmap', 'greetings', '--from-literal=hello=world']);
    await kubectlOk(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret']);
    expect(await kubectlOk(['get', 'secret', 'creds', '-o', 'jsonpath={.data.password}'])).toBe(Buffer.from('s3cret').toString('base64'));
    await kubectlOk(['create', '-f', path.join(KUBE_FIXTURES, 'pod.yaml')]);
    const pod = await waitPodRunning('fixture-pod');
    const id = pod.status.containerStatuses![0]!.containerID!.replace('docker://', '');
    const env = await clusterlabOk(['exec', '--name', NAME, pod.spec.nodeName!, '--', 'docker', 'exec', id, 'env']);
    expect(env.stdout).toContain('GREETING=world');
    const again = await kubectl(['create', '-f', path.join(KUBE_FIXTURES, 'pod.yaml')]);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toMatch(/AlreadyExists|already exists/);
  });

  it('applies client-side twice (with a change) and server-side', async () => {
    await kubectlOk(['apply', '-f', path.join(KUBE_FIXTURES, 'applied.yaml')]);
    const unchanged = await kubectlOk(['apply', '-f', path.join(KUBE_FIXTURES, 'applied.yaml')]);
    expect(unchanged).toMatch(/unchanged/);
    await kubectlOk(['apply', '-f', path.join(KUBE_FIXTURES, 'applied-changed.yaml')]);
    const cm = JSON.parse(await kubectlOk(['get', 'configmap', 'applied', '-o', 'json'])) as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    expect(cm.data).toEqual({ color: 'green', size: 'large' });
    expect(cm.metadata.labels).toEqual({ stage: 'second' });

    const ssa = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'server-side' }, data: { a: '1' } };
    await kubectlOk(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(ssa) });
    await kubectlOk(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ ...ssa, data: { b: '2' } }) });
    const applied = JSON.parse(await kubectlOk(['get', 'configmap', 'server-side', '-o', 'json'])) as { data: Record<string, string> };
    expect(applied.data).toEqual({ b: '2' });
  });

  it('labels and annotates', async () => {
    await kubectlOk(['label', 'pod', 'web', 'tier=front']);
    await kubectlOk(['annotate', 'pod', 'web', 'note=hello']);
    const pod = await getPod('web');
    expect(pod.metadata.labels).toMatchObject({ tier: 'front' });
    expect(pod.metadata.annotations).toMatchObject({ note: 'hello' });
    expect(await kubectlOk(['get', 'pods', '-l', 'tier=front', '-o', 'name'])).toBe('pod/web');
    expect(await kubectlOk(['get', 'pods', '-l', 'tier in (back,middle)', '-o', 'name'])).toBe('');
    await kubectlOk(['label', 'pod', 'web', 'tier-']);
    expect((await getPod('web')).metadata.labels).not.toHaveProperty('tier');
  });

  it('streams changes with get pods -w', async () => {
    const watcher = execa(KUBECTL_NEW, ['--context', CONTEXT, '--cache-dir', cacheDir, 'get', 'pods', '-w'], { env: cleanEnv(), extendEnv: false, reject: false, timeout: 60_000 });
    let seen = '';
    watcher.stdout?.on('data', (c: Buffer) => (seen += c.toString()));
    try {
      await waitFor(() => expect(seen).toContain('web'), { timeoutMs: 15_000, intervalMs: 200, what: 'the initial list' });
      await runSleeper('watched');
      await waitFor(() => expect(seen).toMatch(/watched\s+1\/1\s+Running/), { timeoutMs: 60_000, intervalMs: 300, what: 'watched Running in the watch output' });
    } finally {
      watcher.kill();
      await watcher;
    }
  });

  it('describes pods and nodes and lists events', async () => {
    const pod = await kubectlOk(['describe', 'pod', 'web']);
    expect(pod).toMatch(/Status:\s+Running/);
    expect(pod).toMatch(/Scheduled.*Successfully assigned default\/web to worker/);
    expect(pod).toMatch(/Started/);
    const node = await kubectlOk(['describe', 'node', 'worker1']);
    expect(node).toMatch(/Ready\s+True/);
    expect(node).toMatch(/Capacity:/);
    const events = await kubectlOk(['get', 'events']);
    expect(events.split('\n')[0]).toMatch(/LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    expect(events).toMatch(/Scheduled\s+pod\/web/);
  });

  it('works in other namespaces', async () => {
    await kubectlOk(['create', 'namespace', 'lab-ns']);
    await waitFor(async () => expect(await kubectlOk(['get', 'serviceaccount', 'default', '-n', 'lab-ns', '-o', 'name'])).toBe('serviceaccount/default'), {
      timeoutMs: 10_000,
      what: 'the default ServiceAccount of lab-ns',
    });
    await runSleeper('inside', ['-n', 'lab-ns']);
    await waitPodRunning('inside', 'lab-ns');
    expect(await kubectlOk(['get', 'pods', '-o', 'name'])).not.toContain('pod/inside');
  });

  it('cordons, uncordons and taints nodes; the scheduler follows', async () => {
    await kubectlOk(['cordon', 'worker1']);
    expect(await kubectlOk(['get', 'nodes'])).toMatch(/worker1\s+Ready,SchedulingDisabled/);
    await kubectlOk(['taint', 'nodes', 'worker2', 'lab=blocked:NoSchedule']);
    await runSleeper('nowhere');
    await waitFor(
      async () => {
        const events = await kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=nowhere,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}']);
        expect(events).toMatch(/0\/3 nodes are available/);
        expect(events).toMatch(/untolerated taint/);
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'FailedScheduling for nowhere' },
    );
    expect((await getPod('nowhere')).status.phase).toBe('Pending');
    await kubectlOk(['uncordon', 'worker1']);
    const placed = await waitPodRunning('nowhere');
    expect(placed.spec.nodeName).toBe('worker1');
    await kubectlOk(['taint', 'nodes', 'worker2', 'lab=blocked:NoSchedule-']);
  });

  it('reports an image the node does not have, with pull policy Never', async () => {
    await kubectlOk(['run', 'missing-image', '--image=clusterlab-test/absent:1', '--restart=Never', '--image-pull-policy=Never']);
    await waitFor(
      async () => {
        const waiting = (await getPod('missing-image')).status.containerStatuses?.[0]?.state?.waiting;
        expect(waiting?.reason).toBe('ErrImageNeverPull');
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'ErrImageNeverPull' },
    );
    expect(await kubectlOk(['get', 'pod', 'missing-image'])).toMatch(/ErrImageNeverPull/);
  });

  it('deletes pods gracefully, and from a file', async () => {
    const started = Date.now();
    await kubectlOk(['delete', 'pod', 'watched', '--grace-period=2'], { timeoutMs: 60_000 });
    figure('kubectl delete pod (grace 2 s)', seconds(Date.now() - started));
    const gone = await kubectl(['get', 'pod', 'watched']);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toMatch(/NotFound|not found/);
    await kubectlOk(['delete', '-f', path.join(KUBE_FIXTURES, 'pod.yaml'), '--grace-period=1']);
    expect((await kubectl(['get', 'pod', 'fixture-pod'])).exitCode).not.toBe(0);
  });

  it('answers bad requests with clear errors: malformed YAML, unknown kind, invalid name, stale update', async () => {
    const malformed = await kubectl(['apply', '-f', path.join(KUBE_FIXTURES, 'malformed.yaml')]);
    expect(malformed.exitCode).not.toBe(0);
    expect(malformed.stderr).toMatch(/yaml|YAML|json/);
    const unknown = await kubectl(['apply', '-f', path.join(KUBE_FIXTURES, 'unknown-kind.yaml')]);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toMatch(/no matches for kind "Gadget"/);
    const invalid = await kubectl(['create', '-f', path.join(KUBE_FIXTURES, 'invalid-name.yaml')]);
    expect(invalid.exitCode).not.toBe(0);
    expect(invalid.stderr).toMatch(/is invalid: metadata.name: Invalid value: "Not_A_Valid_Name": a lowercase RFC 1123 subdomain/);

    const stale = JSON.parse(await kubectlOk(['get', 'configmap', 'greetings', '-o', 'json'])) as { data: Record<string, string> };
    await kubectlOk(['patch', 'configmap', 'greetings', '--type=merge', '-p', '{"data":{"hello":"again"}}']);
    stale.data.hello = 'stale';
    const conflict = await kubectl(['replace', '-f', '-'], { input: JSON.stringify(stale) });
    expect(conflict.exitCode).not.toBe(0);
    expect(conflict.stderr).toMatch(/the object has been modified; please apply your changes to the latest version and try again/);
  });

  it('serves the core commands to Debian kubectl 1.20 too', async () => {
    const old = (args: string[], input?: string) => kubectlWith(KUBECTL_OLD, args, input === undefined ? {} : { input });
    const nodes = await old(['get', 'nodes']);
    expect(nodes.exitCode, show(nodes)).toBe(0);
    expect(nodes.stdout).toMatch(/worker2\s+Ready/);
    const run = await old(['run', 'old-client', `--image=${TEST_IMAGE}`, '--restart=Never', '--image-pull-policy=IfNotPresent', '--', 'sleep', '3600']);
    expect(run.exitCode, show(run)).toBe(0);
    await waitPodRunning('old-client');
    const pods = await old(['get', 'pods', '-o', 'wide']);
    expect(pods.stdout).toMatch(/old-client\s+1\/1\s+Running/);
    const apply = await old(['apply', '-f', path.join(KUBE_FIXTURES, 'applied.yaml')]);
    expect(apply.exitCode, show(apply)).toBe(0);
    const del = await old(['delete', 'pod', 'old-client', '--grace-period=1']);
    expect(del.exitCode, show(del)).toBe(0);
  });

  it('serves the official @kubernetes/client-node: list, watch, create', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(KUBECONFIG_FILE);
    kc.setCurrentContext(CONTEXT);
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'default' });
    expect(pods.items.map((p) => p.metadata?.name)).toContain('web');
    const configMaps = await core.listNamespacedConfigMap({ namespace: 'default' });
    const seen: string[] = [];
    const watch = await new Watch(kc).watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: configMaps.metadata?.resourceVersion },
      (type: string, obj: { metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name}`),
      () => {},
    );
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-client-node' }, data: { a: 'b' } } });
      await waitFor(() => expect(seen).toContain('ADDED from-client-node'), { timeoutMs: 15_000, intervalMs: 200, what: 'the watch event' });
    } finally {
      watch.abort();
    }
  });

  it('survives kill -9 of the API server, the scheduler, the controller manager and an agent: restarted, nothing lost, pods keep running', async () => {
    const before = await getPod('web');
    const containerId = before.status.containerStatuses![0]!.containerID!.replace('docker://', '');
    for (const [node, pattern] of [
      ['leader', 'apiserver.js'],
      ['leader', 'scheduler.js'],
      ['leader', 'controller-manager.js'],
      [before.spec.nodeName!, 'agent.js'],
    ] as const) {
      const killed = await clusterlab(['exec', '--name', NAME, node, '--', 'pkill', '-9', '-f', pattern]);
      expect(killed.exitCode, show(killed)).toBe(0);
      const started = Date.now();
      await waitFor(async () => expect(await kubectlOk(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).toBe('Running'), {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: `the API after kill -9 of ${pattern}`,
      });
      figure(`kill -9 ${pattern} -> API answers`, seconds(Date.now() - started));
    }
    const after = await getPod('web');
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.status.containerStatuses![0]!.restartCount).toBe(0);
    expect(after.status.containerStatuses![0]!.containerID).toBe(`docker://${containerId}`);
    // The agent adopted its containers: still one sandbox and one container for the pod.
    const ps = await clusterlabOk(['exec', '--name', NAME, before.spec.nodeName!, '--', 'docker', 'ps', '-q', '--filter', `label=io.kubernetes.pod.uid=${before.metadata.uid}`]);
    expect(ps.stdout.trim().split('\n')).toHaveLength(2);
    // And the scheduler works again.
    await runSleeper('after-kill');
    await waitPodRunning('after-kill');
  });

  it('clusterlab status shows the kube view of the nodes', async () => {
    const status = await clusterStatus(NAME);
    for (const node of status.nodes) expect(node.orchestrator).toMatchObject({ state: 'Ready' });
    expect(status.nodes.find((n) => n.name === 'leader')?.orchestrator).toMatchObject({ managerStatus: 'control-plane' });
  });
});

describe('kube cluster with 3 control planes', () => {
  const HA = uniqueName('e2e-kube-ha');
  let made = false;
  afterAll(async () => {
    if (made) await removeCluster(HA);
  });

  it('keeps the API working with one control plane stopped', async () => {
    made = true;
    await clusterlabOk(['up', '--engine', 'kube', '--name', HA, '--nodes', '3', '--control-planes', '3'], { timeoutMs: 300_000 });
    const ha = (args: string[]) => execa(KUBECTL_NEW, ['--context', `clusterlab-${HA}`, '--cache-dir', cacheDir, '--request-timeout', '20s', ...args], { env: cleanEnv(), extendEnv: false, reject: false });
    const nodes = await ha(['get', 'nodes']);
    expect(nodes.stdout.match(/\sReady\s/g)).toHaveLength(3);
    await clusterlabOk(['node', 'stop', 'manager3', '--name', HA], { timeoutMs: 120_000 });
    await waitFor(
      async () => {
        const created = await ha(['create', 'configmap', `after-stop-${Date.now()}`, '--from-literal=a=b']);
        expect(created.exitCode, String(created.stderr)).toBe(0);
      },
      { timeoutMs: 30_000, intervalMs: 1_000, what: 'a write with one of three control planes stopped' },
    );
    const listed = await ha(['get', 'configmaps', '-o', 'name']);
    expect(listed.stdout).toMatch(/configmap\/after-stop-/);
  });
});
