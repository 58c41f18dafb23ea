/**
 * The kube engine's network end to end (issue "pod network across nodes, Services, DNS, logs,
 * exec, port-forward"): one 3-node cluster (a control plane and two workers) whose NodePort
 * 30080 is mapped to a host port, driven by the real kubectl. A client pod on the control
 * plane calls a Service whose two replicas run on the workers. Steps run in order; the
 * cluster is removed in afterAll, also when a step fails.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Endpoints, Node, Pod } from 'kubernetes-types/core/v1.js';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  clusterlabOk,
  figure,
  freePort,
  KUBECTL_NEWEST,
  kubeTestClient,
  onClusterNode,
  removeCluster,
  seconds,
  show,
  TEST_IMAGE,
  uniqueName,
  waitFor,
  type RunResult,
  type WaitOptions,
} from './helpers.js';

const NAME = uniqueName('e2e-net');
const CONTEXT = `clusterlab-${NAME}`;
const NODE_PORT = 30080;
/** Serves its own pod name over HTTP on 8080; Ready while /tmp/ready exists. */
const WEB_SCRIPT = 'mkdir -p /www && hostname > /www/index.html && echo ok > /tmp/ready && exec httpd -f -p 8080 -h /www';

let created = false;
let cacheDir = '';
let dir = '';
let hostPort = 0;

const { kubectl, kubectlOk, getJson } = kubeTestClient(CONTEXT, () => cacheDir);

/** waitFor, with undefined meaning "not yet". */
function until<T>(fn: () => Promise<T | undefined> | T | undefined, options: WaitOptions): Promise<T> {
  return waitFor(async () => {
    const value = await fn();
    if (value === undefined) throw new Error('not yet');
    return value;
  }, options);
}

function onNode(node: string, command: string[]): Promise<RunResult> {
  return onClusterNode(NAME, node, command, 30_000);
}

let clientContainer = '';

/** A shell command inside the client pod's container, through the node's own docker (no kubectl exec needed). */
async function inClient(script: string): Promise<RunResult> {
  if (!clientContainer) {
    const ps = await onNode('leader', ['docker', 'ps', '-q', '--filter', 'label=io.kubernetes.pod.name=client', '--filter', 'label=io.kubernetes.container.name=client']);
    clientContainer = ps.stdout.trim();
    if (!clientContainer) throw new Error(`the client container is not running on leader\n${show(ps)}`);
  }
  return onNode('leader', ['docker', 'exec', clientContainer, 'sh', '-c', script]);
}

/**
 * Which backends answer `host:port` over `tries` HTTP GETs from the client pod, run in one
 * shell loop there (busybox nc; busybox-static's wget crashes). '' counts the failed ones.
 */
async function answeringPods(host: string, port: number, tries: number): Promise<Map<string, number>> {
  const request = `printf 'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' | nc -w 3 ${host} ${port} | tail -n 1`;
  const r = await inClient(`i=0; while [ $i -lt ${tries} ]; do echo "answer:$(${request})"; i=$((i+1)); done`);
  const seen = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('answer:')) continue;
    const answer = line.slice('answer:'.length).trim();
    seen.set(answer, (seen.get(answer) ?? 0) + 1);
  }
  return seen;
}

async function httpGet(host: string, port: number): Promise<string> {
  return [...(await answeringPods(host, port, 1)).keys()][0] ?? '';
}

function manifests(): string {
  const backend = (extra: object = {}) => ({
    name: 'web',
    image: TEST_IMAGE,
    imagePullPolicy: 'Never',
    command: ['sh', '-c', WEB_SCRIPT],
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
    ...extra,
  });
  const docs = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            // One replica per worker: the scheduler spreads, the control plane is tainted.
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }],
            containers: [backend()],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: NODE_PORT }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-headless' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client' },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': 'leader' },
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'client', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ticker' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'ticker', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.3; done'] }],
      },
    },
  ];
  return docs.map((d) => YAML.stringify(d)).join('---\n');
}

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-kubecache-'));
  dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-network-'));
  hostPort = await freePort();
  const config = path.join(dir, 'cluster.yaml');
  await writeFile(
    config,
    [
      'apiVersion: clusterlab.dev/v1alpha1',
      'kind: Cluster',
      'engine: kube',
      'nodes:',
      `  - {name: leader, role: manager, ports: [{containerPort: ${NODE_PORT}, hostPort: ${hostPort}}]}`,
      '  - {name: worker1, role: worker}',
      '  - {name: worker2, role: worker}',
      '',
    ].join('\n'),
  );
  created = true;
  await clusterlabOk(['up', '--config', config, '--name', NAME], { timeoutMs: 300_000 });
  await clusterlabOk(['image', 'load', TEST_IMAGE, '--name', NAME], { timeoutMs: 180_000 });
  await writeFile(path.join(dir, 'app.yaml'), manifests());
  await kubectlOk(['apply', '-f', path.join(dir, 'app.yaml')]);
  await kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 });
  await kubectlOk(['wait', '--for=condition=Ready', 'pod/client', 'pod/ticker', '--timeout=120s'], { timeoutMs: 130_000 });
});

afterAll(async () => {
  try {
    if (created) await removeCluster(NAME);
  } finally {
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

describe(`kube network on ${NAME}`, () => {
  it("gives every node its own /24 and every pod an address from its node's range", async () => {
    const nodes = (await getJson<{ items: Node[] }>(['nodes'])).items;
    const ranges = new Map(nodes.map((n) => [n.metadata!.name!, n.spec?.podCIDR ?? '']));
    expect(new Set(ranges.values()).size).toBe(3);
    for (const range of ranges.values()) expect(range).toMatch(/^10\.244\.\d+\.0\/24$/);
    const pods = (await getJson<{ items: Pod[] }>(['pods'])).items;
    for (const pod of pods) {
      const prefix = ranges.get(pod.spec!.nodeName!)!.replace(/0\/24$/, '');
      expect(pod.status?.podIP, pod.metadata?.name).toMatch(new RegExp(`^${prefix.replace(/\./g, '\\.')}\\d+$`));
    }
    const webNodes = pods.filter((p) => p.metadata?.labels?.app === 'web').map((p) => p.spec?.nodeName).sort();
    expect(webNodes).toEqual(['worker1', 'worker2']);
  });

  it('lets a pod on the control plane reach both replicas on the workers: directly, by ClusterIP, short name and FQDN', async () => {
    const pods = (await getJson<{ items: Pod[] }>(['pods', '-l', 'app=web'])).items;
    const names = pods.map((p) => p.metadata!.name!).sort();
    for (const pod of pods) expect(await httpGet(pod.status!.podIP!, 8080)).toBe(pod.metadata!.name);
    const clusterIP = (await getJson<{ spec: { clusterIP: string } }>(['service', 'web'])).spec.clusterIP;
    for (const host of [clusterIP, 'web', 'web.default.svc.cluster.local']) {
      const seen = await answeringPods(host, 80, 16);
      expect([...seen.keys()].sort(), `answers through ${host}`).toEqual(names);
    }
  });

  it('resolves names as cluster DNS does: A records, headless pod IPs, SRV, upstream names fail cleanly', async () => {
    const pods = (await getJson<{ items: Pod[] }>(['pods', '-l', 'app=web'])).items;
    const clusterIP = (await getJson<{ spec: { clusterIP: string } }>(['service', 'web'])).spec.clusterIP;
    const lookup = async (name: string, type = 'A') => (await inClient(`busybox nslookup -type=${type} ${name} 2>&1`)).stdout;
    expect(await lookup('web.default.svc.cluster.local')).toContain(`Address: ${clusterIP}`);
    expect(await lookup('kubernetes.default.svc.cluster.local')).toContain('Address: 10.96.0.1');
    const headless = await lookup('web-headless.default.svc.cluster.local');
    for (const pod of pods) expect(headless).toContain(`Address: ${pod.status!.podIP}`);
    expect(await lookup('_http._tcp.web.default.svc.cluster.local', 'SRV')).toMatch(/80 web\.default\.svc\.cluster\.local/);
    expect(await lookup('nothing-here.default.svc.cluster.local')).toMatch(/NXDOMAIN|can't find/);
    const conf = (await inClient('cat /etc/resolv.conf')).stdout;
    expect(conf).toBe('nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
  });

  it('answers a NodePort on every node, and through the host port the cluster config maps', async () => {
    const names = (await getJson<{ items: Pod[] }>(['pods', '-l', 'app=web'])).items.map((p) => p.metadata!.name!).sort();
    const seen = new Set<string>();
    for (let i = 0; i < 16 && seen.size < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(3000) });
      seen.add((await res.text()).trim());
    }
    expect([...seen].sort()).toEqual(names);
    const nodes = (await getJson<{ items: Node[] }>(['nodes'])).items;
    for (const node of nodes) {
      const ip = node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
      const answer = await onNode(node.metadata!.name!, ['curl', '-s', '-m', '3', `http://${ip}:${NODE_PORT}/`]);
      expect(names, `node port on ${node.metadata!.name}`).toContain(answer.stdout.trim());
    }
  });

  it('takes a backend out of the Service within the readiness period, and a deleted one at once', async () => {
    const readyIn = async (): Promise<string[]> => {
      const e = await getJson<Endpoints>(['endpoints', 'web']);
      return (e.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.targetRef!.name!).sort();
    };
    const pods = (await getJson<{ items: Pod[] }>(['pods', '-l', 'app=web'])).items;
    const [victim, survivor] = [pods[0]!, pods[1]!.metadata!.name!];
    const victimId = (await onNode(victim.spec!.nodeName!, ['docker', 'ps', '-q', '--filter', `label=io.kubernetes.pod.name=${victim.metadata!.name}`, '--filter', 'label=io.kubernetes.container.name=web'])).stdout.trim();
    expect(victimId).not.toBe('');
    // Its readiness probe (every 1 s) starts failing: out of rotation, the pod itself keeps running.
    const failed = Date.now();
    await onNode(victim.spec!.nodeName!, ['docker', 'exec', victimId, 'busybox', 'rm', '/tmp/ready']);
    await until(async () => ((await readyIn()).join() === survivor ? true : undefined), { what: 'the unready replica to leave the Endpoints', timeoutMs: 10_000, intervalMs: 100 });
    figure('failing readiness (period 1 s) to out of the Endpoints', seconds(Date.now() - failed));
    // The nodes' rules follow the Endpoints within their sync interval (at most one per second).
    await until(async () => {
      const seen = await answeringPods('web', 80, 8);
      return seen.size === 1 && seen.has(survivor) ? true : undefined;
    }, {
      what: `the Service to answer only from ${survivor}`,
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    await onNode(victim.spec!.nodeName!, ['docker', 'exec', victimId, 'busybox', 'touch', '/tmp/ready']);
    await until(async () => ((await answeringPods('web', 80, 6)).size === 2 ? true : undefined), { what: 'both replicas answering again', timeoutMs: 20_000 });

    // A deleted pod leaves as soon as it is terminating; its replacement joins once Ready.
    const deleted = Date.now();
    await kubectlOk(['delete', 'pod', victim.metadata!.name!, '--wait=false']);
    await until(async () => (!(await readyIn()).includes(victim.metadata!.name!) ? true : undefined), { what: 'the deleted pod to leave the Endpoints', timeoutMs: 10_000, intervalMs: 100 });
    figure('deleted pod out of the Endpoints', seconds(Date.now() - deleted));
    await kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    await until(async () => ((await readyIn()).length === 2 ? true : undefined), { what: 'the replacement in the Endpoints', timeoutMs: 20_000 });
  });

  it('follows logs (-f) and reads them with --tail and --timestamps', async () => {
    const tail = await kubectlOk(['logs', 'ticker', '--tail=2', '--timestamps']);
    const lines = tail.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z tick \d+$/);
    const follow = spawn(KUBECTL_NEWEST, ['--context', CONTEXT, '--cache-dir', cacheDir, 'logs', '-f', '--tail=1', 'ticker'], { env: cleanEnv() });
    try {
      let text = '';
      follow.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const ticks = await until(
        () => {
          const numbers = [...text.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
          return numbers.length >= 4 ? numbers : undefined;
        },
        { what: 'four lines through logs -f', timeoutMs: 15_000, intervalMs: 100 },
      );
      // Consecutive: a live follow, not a re-read.
      expect(ticks.slice(1, 4)).toEqual([ticks[0]! + 1, ticks[0]! + 2, ticks[0]! + 3]);
    } finally {
      follow.kill();
    }
  });

  it('runs exec with and without a terminal, passing the exit code through', async () => {
    const plain = await kubectl(['exec', 'client', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect([plain.exitCode, plain.stdout.trim(), plain.stderr]).toEqual([3, 'out', expect.stringContaining('err')]);
    const piped = await kubectl(['exec', '-i', 'client', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'shout\n' });
    expect(piped.stdout.trim()).toBe('SHOUT');
    // -it through a pseudo-terminal (util-linux script): an interactive shell with a prompt.
    const command = [KUBECTL_NEWEST, '--context', CONTEXT, '--cache-dir', cacheDir, 'exec', '-it', 'client', '--', 'sh'].join(' ');
    const tty = await runInPty(command, ['echo tty:$(tty)', 'exit 7'], 30_000);
    expect(tty.output).toMatch(/tty:\/dev\/pts\/\d+/);
    expect(tty.exitCode).toBe(7);
  });

  it('port-forwards to a pod, a Service and a Deployment', async () => {
    const pod = (await getJson<{ items: Pod[] }>(['pods', '-l', 'app=web'])).items[0]!.metadata!.name!;
    // A Service's port is mapped to its target port; a pod's and a Deployment's are container ports.
    for (const [target, remotePort] of [[`pod/${pod}`, 8080], ['svc/web', 80], ['deploy/web', 8080]] as const) {
      const forward = spawn(KUBECTL_NEWEST, ['--context', CONTEXT, '--cache-dir', cacheDir, 'port-forward', target, `:${remotePort}`], { env: cleanEnv() });
      try {
        let text = '';
        forward.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
        forward.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
        const port = await until(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(text)?.[1], { what: `port-forward ${target} to listen`, timeoutMs: 15_000, intervalMs: 100 });
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
        expect((await res.text()).trim()).toMatch(/^web-/);
      } finally {
        forward.kill();
      }
    }
  });
});

/** Runs a command under a pseudo-terminal (`script`), typing `lines`; its output and exit code. */
function runInPty(command: string, lines: string[], timeoutMs: number): Promise<{ output: string; exitCode: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...cleanEnv(), TERM: 'dumb' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pty command timed out; output so far:\n${output}`));
    }, timeoutMs);
    // Typed one line at a time, as a person would, once the shell has had time to start.
    let i = 0;
    const typeNext = (): void => {
      if (i >= lines.length) return;
      child.stdin.write(`${lines[i++]}\n`);
      setTimeout(typeNext, 700);
    };
    setTimeout(typeNext, 1500);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ output, exitCode: code });
    });
  });
}
