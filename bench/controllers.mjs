#!/usr/bin/env node
// Benchmark of the kube controllers (issue goals in brackets), on one 3-node kube cluster made
// with the lab's node-failure timings (cluster config `kube:` section):
//   - `docker kill` of a pod's container -> the pod Ready again, restarted in place   [≤ 1 s]
//   - `clusterlab node stop` of a worker -> all its Deployment's replicas Ready elsewhere, with
//     lab timeouts (default here: grace 5 s + toleration 5 s)                         [≤ 15 s]
//   - scaling a Deployment 1 -> 50 until all 50 pods are Ready
//
//   node bench/controllers.mjs [--kills 3] [--scale 50] [--grace 5] [--toleration 5]
//
// Prints figures; asserts nothing. The cluster it makes is removed, also on failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'clusterlab');
const args = process.argv.slice(2);
const option = (flag, fallback) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
const kills = option('--kills', 3);
const scaleTo = option('--scale', 50);
const graceSeconds = option('--grace', 5);
const tolerationSeconds = option('--toleration', 5);
const home = mkdtempSync(path.join(os.tmpdir(), 'clusterlab-bench-controllers-'));
const kubeconfig = path.join(home, 'kubeconfig');
const cacheDir = path.join(home, 'kube-cache');
const env = { ...process.env, CLUSTERLAB_HOME: home, KUBECONFIG: kubeconfig, CI: 'true' };
for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'CLUSTERLAB_ACTIVE_CLUSTER']) delete env[k];
const kubectlBin = ['1.33', '1.32'].map((v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`).find((f) => existsSync(f)) ?? 'kubectl';
const name = `bench-ctl-${process.pid}`;
const context = `clusterlab-${name}`;

const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = (cmd, argv, input) => {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim();
};
const clusterlab = (...argv) => run(cli, argv);
const kubectlArgs = (argv) => ['--context', context, '--cache-dir', cacheDir, ...argv];
const kubectl = (...argv) => run(kubectlBin, kubectlArgs(argv));
const apply = (object) => run(kubectlBin, kubectlArgs(['apply', '-f', '-']), JSON.stringify(object));

clusterlab('image', 'build');
const testImage = 'clusterlab-bench/busybox:1';
// A one-binary image for the pods, made from the host's busybox-static (no registry here).
if (spawnSync('docker', ['image', 'inspect', testImage], { env, stdio: 'ignore' }).status !== 0) {
  run('sh', ['-c', `d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && ln -s busybox $d/bin/sleep && ln -s busybox $d/bin/sh && tar -C $d -c . | docker import -c 'CMD ["/bin/sh"]' - ${testImage}; rm -rf $d`]);
}

/** A Deployment of sleepers that leave at once on SIGTERM (a shell as PID 1 ignores it otherwise). */
function deployment(app, replicas) {
  const labels = { app };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'app', image: testImage, imagePullPolicy: 'Never', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] }],
        },
      },
    },
  };
}

const isReady = (pod) => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const isActive = (pod) => !pod.metadata.deletionTimestamp;
const podsOf = (app) => JSON.parse(kubectl('get', 'pods', '-l', `app=${app}`, '-o', 'json')).items;

/** Polls until `test(pods of app)` holds; returns when it first did (ms, performance.now()). */
async function until(app, test, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (test(podsOf(app))) return now();
    await sleep(intervalMs);
  }
  throw new Error(`app=${app}: condition not met within ${timeoutMs} ms`);
}

const readyCount = (pods) => pods.filter((p) => isActive(p) && isReady(p)).length;

/**
 * Kills the app container of `pod` on its node and returns ms from the kill (the container's
 * FinishedAt) to the pod seen Ready with restartCount 1 by a watch started before the kill.
 */
async function killToReady(pod) {
  const node = pod.spec.nodeName;
  const id = clusterlab('exec', '--name', name, node, '--', 'docker', 'ps', '-q', '--filter', `label=io.kubernetes.pod.name=${pod.metadata.name}`, '--filter', 'label=io.kubernetes.docker.type=container');
  if (!/^[0-9a-f]+$/.test(id)) throw new Error(`expected one container of ${pod.metadata.name}, got ${JSON.stringify(id)}`);
  const watcher = spawn(kubectlBin, kubectlArgs(['get', 'pod', pod.metadata.name, '-w', '-o', 'jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}{"\\n"}']), { env });
  let seen = '';
  let readyAt = 0;
  let onReady = () => {};
  const readyAgain = new Promise((resolve) => (onReady = resolve));
  watcher.stdout.on('data', (chunk) => {
    seen += chunk.toString();
    if (!readyAt && /^1 true$/m.test(seen)) {
      readyAt = Date.now();
      onReady();
    }
  });
  try {
    const watchDeadline = Date.now() + 15_000;
    while (!/^0 true$/m.test(seen) && Date.now() < watchDeadline) await sleep(50);
    const before = Date.now();
    const finished = Date.parse(clusterlab('exec', '--name', name, node, '--', 'sh', '-c', `docker kill ${id} >/dev/null && docker inspect -f '{{.State.FinishedAt}}' ${id}`));
    const killedAt = Number.isFinite(finished) && finished >= before - 1_000 ? finished : before;
    await Promise.race([readyAgain, sleep(60_000)]);
    if (!readyAt) throw new Error(`${pod.metadata.name} not Ready again within 60 s; watch saw:\n${seen}`);
    return readyAt - killedAt;
  } finally {
    watcher.kill();
  }
}

try {
  const config = path.join(home, 'cluster.yaml');
  writeFileSync(
    config,
    [
      'apiVersion: clusterlab.dev/v1alpha1',
      'kind: Cluster',
      'engine: kube',
      'kube:',
      `  nodeMonitorGracePeriodSeconds: ${graceSeconds}`,
      `  defaultTolerationSeconds: ${tolerationSeconds}`,
      '',
    ].join('\n'),
  );
  clusterlab('up', '--config', config, '--name', name);
  clusterlab('image', 'load', testImage, '--name', name);

  // 1. Kill -> Ready: a different pod each time (a second crash of the same container backs off 10 s).
  apply(deployment('killed', kills));
  await until('killed', (pods) => pods.length === kills && readyCount(pods) === kills, 120_000);
  const killTimes = [];
  for (const pod of podsOf('killed')) killTimes.push(await killToReady(pod));
  console.log(`docker kill of a pod's container -> Ready again (restartCount 1): median ${secs(median(killTimes))} of ${killTimes.map(secs).join(', ')} [goal ≤ 1 s]`);
  kubectl('delete', 'deployment', 'killed', '--wait=false');

  // 2. Scale 1 -> N.
  apply(deployment('scaled', 1));
  await until('scaled', (pods) => readyCount(pods) === 1, 60_000);
  const scaleStarted = now();
  kubectl('scale', 'deployment/scaled', `--replicas=${scaleTo}`);
  const allReady = await until('scaled', (pods) => readyCount(pods) >= scaleTo, 300_000, 250);
  console.log(`scale a Deployment 1 -> ${scaleTo}, until all ${scaleTo} pods are Ready: ${secs(allReady - scaleStarted)}`);
  // A node that misses its heartbeats under the load turns NotReady and its pods unready: say so, it explains a slow figure.
  const flapped = kubectl('get', 'events', '--field-selector', 'involvedObject.kind=Node,reason=NodeNotReady', '-o', 'jsonpath={.items[*].involvedObject.name}');
  console.log(`  nodes that turned NotReady meanwhile: ${flapped || 'none'}`);
  kubectl('delete', 'deployment', 'scaled', '--wait=false');
  await until('scaled', (pods) => pods.length === 0, 180_000, 500);

  // 3. Node stop: every replica on worker2 first (worker1 cordoned meanwhile), then stop worker2.
  kubectl('cordon', 'worker1');
  apply(deployment('moved', 3));
  await until('moved', (pods) => pods.length === 3 && readyCount(pods) === 3, 120_000);
  kubectl('uncordon', 'worker1');
  const stopStarted = now();
  const stopStartedWall = Date.now();
  clusterlab('node', 'stop', 'worker2', '--name', name);
  const stopped = now();
  let notReadyAt = 0;
  const movedAt = await until(
    'moved',
    (pods) => {
      if (!notReadyAt && /worker2\s+NotReady/.test(kubectl('get', 'node', 'worker2'))) notReadyAt = now();
      const active = pods.filter(isActive);
      return active.length === 3 && active.every((p) => isReady(p) && p.spec.nodeName !== 'worker2');
    },
    180_000,
    250,
  );
  const moved = movedAt - stopStarted;
  // The silence starts at the node's last heartbeat (its Lease, renewed every few seconds), not at the stop command.
  const lastRenew = Date.parse(kubectl('get', 'lease', 'worker2', '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}'));
  const sinceHeartbeat = movedAt - stopStarted + (stopStartedWall - lastRenew);
  const timeouts = (graceSeconds + tolerationSeconds) * 1000;
  console.log(`node stop of a worker -> its 3 replicas Ready elsewhere: ${secs(moved)} [goal ≤ 15 s] (timeouts in force: nodeMonitorGracePeriodSeconds ${graceSeconds} + defaultTolerationSeconds ${tolerationSeconds} = ${secs(timeouts)})`);
  console.log(`  from its last heartbeat (${secs(stopStartedWall - lastRenew)} before the stop): ${secs(sinceHeartbeat)}, beyond the timeouts: ${secs(sinceHeartbeat - timeouts)}`);
  console.log(`  the node stop command took ${secs(stopped - stopStarted)}; NotReady seen ${notReadyAt ? `${secs(notReadyAt - stopStarted)} after the stop began` : 'never'}`);
} finally {
  spawnSync(cli, ['down', '--name', name], { env, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
}
