#!/usr/bin/env node
// Benchmark of the kube engine's pod network, on one 3-node kube cluster (a control plane and
// two workers). A client pod on the control plane measures, in the same run:
//   - pod -> pod directly, across nodes (HTTP, a new connection per request)
//   - pod -> Service (ClusterIP, iptables DNAT) -> pod across nodes, the same way
//     latency p50/p99 over sequential requests, and throughput with concurrent clients;
//     printed side by side with their ratio
//   - cluster DNS lookup latency (a Service FQDN through the pod's resolv.conf nameserver)
//
//   node bench/network.mjs [--requests 400] [--seconds 5] [--concurrency 16] [--lookups 300]
//
// Prints figures; asserts nothing. The cluster it makes is removed, also on failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'clusterlab');
const args = process.argv.slice(2);
const option = (flag, fallback) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
const settings = {
  requests: option('--requests', 400),
  seconds: option('--seconds', 5),
  concurrency: option('--concurrency', 16),
  lookups: option('--lookups', 300),
};
const home = mkdtempSync(path.join(os.tmpdir(), 'clusterlab-bench-network-'));
const kubeconfig = path.join(home, 'kubeconfig');
const cacheDir = path.join(home, 'kube-cache');
const env = { ...process.env, CLUSTERLAB_HOME: home, KUBECONFIG: kubeconfig, CI: 'true' };
for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'CLUSTERLAB_ACTIVE_CLUSTER']) delete env[k];
const kubectlBin = ['1.33', '1.32'].map((v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`).find((f) => existsSync(f)) ?? 'kubectl';
const name = `bench-net-${process.pid}`;
const context = `clusterlab-${name}`;

const run = (cmd, argv, input) => {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim();
};
const clusterlab = (...argv) => run(cli, argv);
const kubectlArgs = (argv) => ['--context', context, '--cache-dir', cacheDir, ...argv];
const kubectl = (...argv) => run(kubectlBin, kubectlArgs(argv));
const apply = (object) => run(kubectlBin, kubectlArgs(['apply', '-f', '-']), JSON.stringify(object));

/**
 * An image with the host's Node.js and the libraries it links (no registry here): the server
 * and the client of this benchmark are small scripts run by it.
 */
const nodeImage = 'clusterlab-bench/node:1';
function buildNodeImage() {
  if (spawnSync('docker', ['image', 'inspect', nodeImage], { env, stdio: 'ignore' }).status === 0) return;
  const script = [
    'set -e',
    'd=$(mktemp -d)',
    'mkdir -p $d/bin $d/usr/bin $d/tmp',
    'cp /bin/busybox $d/bin/ && ln -s busybox $d/bin/sh && ln -s busybox $d/bin/sleep',
    'cp "$(readlink -f "$(command -v node)")" $d/usr/bin/node',
    'for lib in $(ldd "$(command -v node)" | grep -o "/[^ ]*"); do mkdir -p $d$(dirname $lib) && cp -L $lib $d$lib; done',
    'echo "root:x:0:0:root:/root:/bin/sh" > $d/etc_passwd; mkdir -p $d/etc && mv $d/etc_passwd $d/etc/passwd',
    `tar -C $d -c . | docker import -c 'CMD ["/usr/bin/node"]' - ${nodeImage}`,
    'rm -rf $d',
  ].join('\n');
  run('sh', ['-c', script]);
}

const SERVER = `
const http = require('http');
const os = require('os');
http.createServer((req, res) => res.end(os.hostname() + '\\n')).listen(8080);
`;

// Runs in the client pod; prints one JSON line with every figure.
const CLIENT = `
const http = require('http');
const dns = require('dns');
const [direct, service, fqdn, requests, seconds, concurrency, lookups] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: false });
const get = (host, port) => new Promise((resolve, reject) => {
  const req = http.get({ host, port, path: '/', agent, timeout: 5000 }, (res) => { res.resume(); res.on('end', resolve); });
  req.on('error', reject);
  req.on('timeout', () => req.destroy(new Error('timeout')));
});
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
async function latency(host, port) {
  const times = [];
  for (let i = 0; i < Number(requests); i++) { const t = performance.now(); await get(host, port); times.push(performance.now() - t); }
  return { p50: pct(times, 0.5), p99: pct(times, 0.99) };
}
async function throughput(host, port) {
  const until = performance.now() + Number(seconds) * 1000;
  let done = 0, failed = 0;
  await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
    while (performance.now() < until) { try { await get(host, port); done++; } catch { failed++; } }
  }));
  return { perSecond: done / Number(seconds), failed };
}
(async () => {
  const [dHost, dPort] = direct.split(':');
  const [sHost, sPort] = service.split(':');
  const result = { direct: {}, service: {} };
  for (let i = 0; i < 50; i++) { await get(dHost, dPort); await get(sHost, sPort); } // warm-up
  result.direct.latency = await latency(dHost, dPort);
  result.service.latency = await latency(sHost, sPort);
  result.direct.throughput = await throughput(dHost, dPort);
  result.service.throughput = await throughput(sHost, sPort);
  const resolver = new dns.promises.Resolver();
  const times = [];
  for (let i = 0; i < Number(lookups); i++) { const t = performance.now(); await resolver.resolve4(fqdn); times.push(performance.now() - t); }
  result.dns = { p50: pct(times, 0.5), p99: pct(times, 0.99), nameservers: resolver.getServers() };
  console.log(JSON.stringify(result));
})().catch((err) => { console.error(err); process.exit(1); });
`;

let created = false;
try {
  clusterlab('image', 'build');
  buildNodeImage();
  created = true;
  clusterlab('up', '--engine', 'kube', '--nodes', '3', '--name', name);
  clusterlab('image', 'load', nodeImage, '--name', name);
  apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench' }, data: { 'server.js': SERVER, 'client.js': CLIENT } });
  const volume = { volumes: [{ name: 'bench', configMap: { name: 'bench' } }] };
  const mount = { volumeMounts: [{ name: 'bench', mountPath: '/bench' }] };
  apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          ...volume,
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }],
          containers: [{ name: 'web', image: nodeImage, imagePullPolicy: 'Never', command: ['node', '/bench/server.js'], ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }, ...mount }],
        },
      },
    },
  });
  apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
  apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client' },
    spec: {
      ...volume,
      nodeSelector: { 'kubernetes.io/hostname': 'leader' },
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'client', image: nodeImage, imagePullPolicy: 'Never', command: ['sleep', '3600'], ...mount }],
    },
  });
  kubectl('rollout', 'status', 'deployment/web', '--timeout=120s');
  kubectl('wait', '--for=condition=Ready', 'pod/client', '--timeout=120s');
  const pods = JSON.parse(kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).items;
  const direct = `${pods[0].status.podIP}:8080`;
  const clusterIP = JSON.parse(kubectl('get', 'service', 'web', '-o', 'json')).spec.clusterIP;
  const output = kubectl(
    'exec', 'client', '--', 'node', '/bench/client.js',
    direct, `${clusterIP}:80`, 'web.default.svc.cluster.local',
    String(settings.requests), String(settings.seconds), String(settings.concurrency), String(settings.lookups),
  );
  const r = JSON.parse(output.split('\n').at(-1));
  const ms = (x) => `${x.toFixed(2)} ms`;
  console.log(`pod -> pod direct (other node):        latency p50 ${ms(r.direct.latency.p50)}, p99 ${ms(r.direct.latency.p99)}; ${r.direct.throughput.perSecond.toFixed(0)} req/s with ${settings.concurrency} clients (${r.direct.throughput.failed} failed)`);
  console.log(`pod -> Service -> pod (other nodes):   latency p50 ${ms(r.service.latency.p50)}, p99 ${ms(r.service.latency.p99)}; ${r.service.throughput.perSecond.toFixed(0)} req/s with ${settings.concurrency} clients (${r.service.throughput.failed} failed)`);
  console.log(`Service / direct:                       latency p50 x${(r.service.latency.p50 / r.direct.latency.p50).toFixed(2)}, throughput x${(r.service.throughput.perSecond / r.direct.throughput.perSecond).toFixed(2)}`);
  console.log(`DNS lookup (A, FQDN via ${r.dns.nameservers.join(',')}): p50 ${ms(r.dns.p50)}, p99 ${ms(r.dns.p99)} over ${settings.lookups} lookups`);
} finally {
  if (created) spawnSync(cli, ['down', '--name', name], { env, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
}
