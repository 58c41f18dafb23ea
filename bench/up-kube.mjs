#!/usr/bin/env node
// Benchmark of the kube engine (issue goals in brackets):
//   - `clusterlab up --engine kube`, 3 nodes, node image present, until every node is Ready [≤ 6 s]
//   - 100 single-container pods to Running on 3 nodes                                  [≤ 20 s]
//   - `kubectl get pods` latency with 1000 pods stored                                [≤ 200 ms]
//   - resident memory of the agent [≤ 80 MiB] and of the control plane, etcd included [≤ 250 MiB]
//
//   node bench/up-kube.mjs [--runs 3] [--pods 100] [--stored 1000]
//
// Prints figures; asserts nothing. Every cluster it makes is removed, also on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'clusterlab');
const args = process.argv.slice(2);
const option = (flag, fallback) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
const runs = option('--runs', 3);
const podCount = option('--pods', 100);
const storedCount = option('--stored', 1000);
const home = mkdtempSync(path.join(os.tmpdir(), 'clusterlab-bench-kube-'));
const kubeconfig = path.join(home, 'kubeconfig');
const cacheDir = path.join(home, 'kube-cache');
const env = { ...process.env, CLUSTERLAB_HOME: home, KUBECONFIG: kubeconfig, CI: 'true' };
for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'CLUSTERLAB_ACTIVE_CLUSTER']) delete env[k];
const kubectlBin = ['1.33', '1.32'].map((v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`).find((f) => existsSync(f)) ?? 'kubectl';

const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const run = (cmd, argv, input) => {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim();
};
const clusterlab = (...argv) => run(cli, argv);
const kubectl = (name, ...argv) => run(kubectlBin, ['--context', `clusterlab-${name}`, '--cache-dir', cacheDir, ...argv]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

clusterlab('image', 'build');
const testImage = 'clusterlab-bench/busybox:1';
// A one-binary image for the pods, made from the host's busybox-static (no registry here).
if (spawnSync('docker', ['image', 'inspect', testImage], { env, stdio: 'ignore' }).status !== 0) {
  execFileSync('sh', ['-c', `d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && ln -s busybox $d/bin/sleep && ln -s busybox $d/bin/sh && tar -C $d -c . | docker import -c 'CMD ["/bin/sh"]' - ${testImage}; rm -rf $d`], { env });
}

function podManifests(prefix, count) {
  const items = [];
  for (let i = 0; i < count; i++) {
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${prefix}-${i}`, labels: { bench: prefix } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: testImage, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
    });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

async function waitRunning(name, prefix, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const phases = kubectl(name, 'get', 'pods', '-l', `bench=${prefix}`, '-o', 'jsonpath={.items[*].status.phase}').split(/\s+/);
    if (phases.filter((p) => p === 'Running').length >= count) return;
    await sleep(250);
  }
  throw new Error(`${count} pods not Running within ${timeoutMs} ms`);
}

/** RSS (MiB) of the node's processes whose command line matches, from /proc. */
function rssMiB(name, node, pattern) {
  const out = clusterlab('exec', '--name', name, node, '--', 'sh', '-c', `for p in $(pgrep -f '${pattern}'); do grep VmRSS /proc/$p/status; done`);
  const kib = out.split('\n').map((l) => Number(l.replace(/\D+/g, ''))).filter((n) => n > 0);
  return kib.reduce((a, b) => a + b, 0) / 1024;
}

/** The requests `kubectl get pods` makes (Table, pages of 500), timed without kubectl. */
async function tableListMs(name) {
  const config = JSON.parse(kubectl(name, 'config', 'view', '--raw', '--minify', '-o', 'json'));
  const server = new URL(config.clusters[0].cluster.server);
  const user = config.users[0].user;
  const tls = {
    ca: Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(user['client-certificate-data'], 'base64'),
    key: Buffer.from(user['client-key-data'], 'base64'),
  };
  const https = await import('node:https');
  const agent = new https.Agent({ ...tls, keepAlive: true });
  const get = (path) =>
    new Promise((resolve, reject) => {
      const req = https.request({ host: server.hostname, port: server.port, path, agent, headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString())) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  const started = now();
  let page = await get('/api/v1/namespaces/default/pods?limit=500');
  while (page.metadata?.continue) page = await get(`/api/v1/namespaces/default/pods?limit=500&continue=${encodeURIComponent(page.metadata.continue)}`);
  const elapsed = now() - started;
  agent.destroy();
  return elapsed;
}

const ups = [];
const name = `bench-kube-${process.pid}`;
try {
  for (let i = 0; i < runs; i++) {
    const started = now();
    clusterlab('up', '--engine', 'kube', '--name', name, '--nodes', '3');
    ups.push(now() - started);
    if (i < runs - 1) clusterlab('down', '--name', name);
  }
  console.log(`up --engine kube, 3 nodes, until every node is Ready: median ${secs(median(ups))} of ${ups.map(secs).join(', ')} [goal ≤ 6 s]`);

  clusterlab('image', 'load', testImage, '--name', name);
  const started = now();
  run(kubectlBin, ['--context', `clusterlab-${name}`, '--cache-dir', cacheDir, 'create', '-f', '-'], podManifests('burst', podCount));
  await waitRunning(name, 'burst', podCount, 180_000);
  console.log(`${podCount} pods created -> Running on 3 nodes: ${secs(now() - started)} [goal ≤ 20 s]`);
  const spread = kubectl(name, 'get', 'pods', '-l', 'bench=burst', '-o', 'jsonpath={.items[*].spec.nodeName}').split(/\s+/);
  const perNode = Object.entries(spread.reduce((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {})).map(([n, c]) => `${n} ${c}`);
  console.log(`  spread: ${perNode.join(', ')}`);

  const agentMiB = rssMiB(name, 'worker1', 'agent.js');
  const controlPlaneMiB = rssMiB(name, 'leader', 'apiserver.js|scheduler.js|controller-manager.js|etcd');
  console.log(`agent resident memory (worker1, ${podCount / 2}± pods): ${agentMiB.toFixed(1)} MiB [goal ≤ 80 MiB]`);
  console.log(`control plane resident memory (API server + scheduler + controller manager + etcd): ${controlPlaneMiB.toFixed(1)} MiB [goal ≤ 250 MiB]`);

  // 1000 stored pods: unscheduled ones (a nodeSelector nothing matches) are stored, not run.
  const stored = JSON.parse(podManifests('stored', storedCount));
  for (const item of stored.items) item.spec.nodeSelector = { 'bench.clusterlab.dev/none': 'true' };
  run(kubectlBin, ['--context', `clusterlab-${name}`, '--cache-dir', cacheDir, 'create', '-f', '-'], JSON.stringify(stored));
  const latencies = [];
  for (let i = 0; i < 10; i++) {
    const t = now();
    kubectl(name, 'get', 'pods');
    latencies.push(now() - t);
  }
  console.log(`kubectl get pods with ${storedCount + podCount} pods stored: median ${median(latencies).toFixed(0)} ms (kubectl's own start included) [goal ≤ 200 ms]`);
  const kubectlStart = [];
  for (let i = 0; i < 5; i++) {
    const t = now();
    run(kubectlBin, ['version', '--client']);
    kubectlStart.push(now() - t);
  }
  const apiMs = [];
  for (let i = 0; i < 10; i++) apiMs.push(await tableListMs(name));
  console.log(`  of which kubectl's own start: ${median(kubectlStart).toFixed(0)} ms; the API server's answer (same paged Table requests): median ${median(apiMs).toFixed(0)} ms`);
} finally {
  spawnSync(cli, ['down', '--name', name], { env, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
}
