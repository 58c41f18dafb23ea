#!/usr/bin/env node
// Benchmark: `clusterlab up` of a 3-node swarm (node image present) against the same work
// done with plain docker commands in the same run, idle memory per node, and (with
// --first-up) the first `up` on an engine without the node image.
//
//   node bench/up-swarm.mjs [--runs 3] [--first-up]
//
// Prints figures; asserts nothing. Every cluster and container it makes is removed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'clusterlab');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
const firstUp = args.includes('--first-up');
const home = mkdtempSync(path.join(os.tmpdir(), 'clusterlab-bench-'));
const env = { ...process.env, CLUSTERLAB_HOME: home, CI: 'true' };
for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'CLUSTERLAB_ACTIVE_CLUSTER']) delete env[k];

const sh = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
const docker = (...argv) => sh('docker', argv);
const clusterlab = (...argv) => {
  const r = spawnSync(cli, argv, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`clusterlab ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim();
};
const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

const image = clusterlab('image', 'build');
// What the notes measured: run nodes with their own dockerd, wait for it, init + join a swarm.
function plainDockerSwarm(tag) {
  const net = `bench-plain-${tag}`;
  const names = [0, 1, 2].map((i) => `bench-plain-${tag}-${i}`);
  const started = now();
  docker('network', 'create', '--subnet', '172.31.250.0/24', net);
  try {
    names.forEach((name, i) =>
      docker('run', '-d', '--name', name, '--hostname', name, '--network', net, '--ip', `172.31.250.${10 + i}`,
        '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
        '--security-opt', 'systempaths=unconfined', '--device-cgroup-rule', 'a *:* rwm', '--cgroupns', 'host',
        '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--tmpfs', '/run', '--tmpfs', '/tmp', '-v', '/var/lib/docker',
        '--entrypoint', 'dockerd', image, '--host', 'unix:///var/run/docker.sock'));
    for (const name of names) {
      const deadline = Date.now() + 60_000;
      while (spawnSync('docker', ['exec', name, 'docker', 'info'], { env, stdio: 'ignore' }).status !== 0) {
        if (Date.now() > deadline) throw new Error(`${name}: dockerd not ready`);
      }
    }
    docker('exec', names[0], 'docker', 'swarm', 'init', '--advertise-addr', '172.31.250.10');
    const token = docker('exec', names[0], 'docker', 'swarm', 'join-token', '-q', 'worker');
    for (const [i, name] of names.slice(1).entries()) {
      docker('exec', name, 'docker', 'swarm', 'join', '--token', token, '--advertise-addr', `172.31.250.${11 + i}`, '172.31.250.10:2377');
    }
    return now() - started;
  } finally {
    spawnSync('docker', ['rm', '-f', '-v', ...names], { env, stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', net], { env, stdio: 'ignore' });
  }
}

function clusterlabUp(name) {
  const started = now();
  clusterlab('up', '--name', name);
  return now() - started;
}

function idleMemory(name) {
  const nodes = JSON.parse(clusterlab('status', '--name', name, '-o', 'json')).nodes;
  const stats = docker('stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', ...nodes.map((n) => n.container));
  return stats.split('\n').map((l) => l.trim());
}

const results = { plain: [], clusterlab: [] };
let memory = [];
try {
  for (let run = 1; run <= runs; run++) {
    results.plain.push(plainDockerSwarm(run));
    const name = `bench-${process.pid}-${run}`;
    try {
      results.clusterlab.push(clusterlabUp(name));
      if (run === runs) {
        await new Promise((r) => setTimeout(r, 10_000)); // let the nodes settle
        memory = idleMemory(name);
      }
    } finally {
      spawnSync(cli, ['down', '--name', name], { env, stdio: 'ignore' });
    }
  }
  const plain = median(results.plain);
  const ours = median(results.clusterlab);
  console.log(`3-node swarm, node image present, ${runs} runs (median):`);
  console.log(`  plain docker commands: ${secs(plain)}   [${results.plain.map(secs).join(', ')}]`);
  console.log(`  clusterlab up:         ${secs(ours)}   [${results.clusterlab.map(secs).join(', ')}]`);
  console.log(`  ratio: ${(ours / plain).toFixed(2)}x (goal <= 1.5x)`);
  console.log('idle memory per node (10 s after up):');
  for (const line of memory) console.log(`  ${line}`);

  if (firstUp) {
    // The first `up` on an engine without the node image: the build is part of it.
    spawnSync('docker', ['rmi', image], { env, stdio: 'ignore' });
    const name = `bench-${process.pid}-first`;
    try {
      console.log(`first up without the node image (build included): ${secs(clusterlabUp(name))}`);
    } finally {
      spawnSync(cli, ['down', '--name', name], { env, stdio: 'ignore' });
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
