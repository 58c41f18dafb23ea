/**
 * Shared helpers of the CLI e2e tests: run the BUILT CLI (bin/clusterlab) and the host's
 * docker CLI with a clean environment, talk to a cluster's swarm through `clusterlab env`,
 * poll with a bound, and remove a cluster while proving nothing labelled with it is left.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { inject } from 'vitest';
import type { ClusterStatus } from '../../src/cluster/describe.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'bin', 'clusterlab');
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** Made by global-setup.ts from /bin/busybox. */
export const TEST_IMAGE = 'clusterlab-test/busybox:1';
export const CLUSTER_LABEL = 'dev.clusterlab.cluster';

/** CLUSTERLAB_HOME of this run (global-setup provides it; a fresh one when run without it). */
export const HOME: string = inject('clusterlabHome') ?? mkdtempSync(path.join(os.tmpdir(), 'clusterlab-e2e-home-'));
/** The kubeconfig every CLI and kubectl run of the e2e tests uses. */
export const KUBECONFIG_FILE = path.join(HOME, 'kubeconfig');

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when the command was stopped by the helper's timeout. */
  timedOut: boolean;
}

export interface RunOptions {
  /** Extra variables (after the clean-up, so DOCKER_HOST may be set on purpose). */
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** The test process's environment without anything that would point docker or clusterlab elsewhere. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('DOCKER_') || key === 'CLUSTERLAB_ACTIVE_CLUSTER' || key === 'CLUSTERLAB_CLUSTER' || key === 'CLUSTERLAB_DOCKER_HOST') delete env[key];
  }
  // Plain progress lines, as on CI, whatever the terminal of the test run.
  // KUBECONFIG too: kube clusters merge their context there, never into the user's ~/.kube/config.
  return { ...env, CLUSTERLAB_HOME: HOME, KUBECONFIG: KUBECONFIG_FILE, CI: 'true', NO_COLOR: '1', ...extra };
}

function describeCommand(file: string, args: string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

async function run(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await execa(file, args, {
    env: cleanEnv(options.env),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 240_000,
    cwd: options.cwd ?? ROOT,
  });
  return {
    command: describeCommand(file === CLI ? 'clusterlab' : file, args),
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: Boolean(result.timedOut),
  };
}

/** Runs the built CLI; never throws on a non-zero exit (check `exitCode`). */
export function clusterlab(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return run(CLI, args, options);
}

/** Starts the built CLI without waiting, for tests that signal it. */
export function spawnClusterlab(args: string[], options: RunOptions = {}): ResultPromise<{ reject: false }> {
  return execa(CLI, args, {
    env: cleanEnv(options.env),
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 240_000,
    cwd: options.cwd ?? ROOT,
  }) as ResultPromise<{ reject: false }>;
}

/** What a failed command said, for assertion messages. */
export function show(r: RunResult): string {
  return `$ ${r.command}\nexit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Runs the CLI and throws (with its output) unless it exits 0. */
export async function clusterlabOk(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await clusterlab(args, options);
  if (r.exitCode !== 0) throw new Error(`expected exit 0\n${show(r)}`);
  return r;
}

/** The host's docker CLI (the host engine, whatever the test's environment says). */
export function docker(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return run('docker', args, { timeoutMs: 120_000, ...options });
}

export async function dockerOk(args: string[], options: RunOptions = {}): Promise<string> {
  const r = await docker(args, options);
  if (r.exitCode !== 0) throw new Error(`expected exit 0\n${show(r)}`);
  return r.stdout;
}

/** `e2e-<random>`: a DNS-1123 label well under clusterlab's 40 characters. */
export function uniqueName(prefix = 'e2e'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The variables of `export KEY="value"` lines (values are JSON-quoted by clusterlab env). */
export function parseExports(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const raw = m[2]!;
    vars[m[1]!] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.replace(/^'(.*)'$/, '$1');
  }
  return vars;
}

/** The host's docker CLI pointed at a cluster's swarm, as `eval "$(clusterlab env)"` would. */
export interface SwarmClient {
  env: Record<string, string>;
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Throws with the output unless the command exits 0; returns stdout. */
  ok(args: string[], options?: RunOptions): Promise<string>;
}

export async function swarmClient(cluster: string): Promise<SwarmClient> {
  const r = await clusterlabOk(['env', '--name', cluster]);
  const env = parseExports(r.stdout);
  if (!env.DOCKER_HOST?.startsWith('tcp://127.0.0.1:') || env.DOCKER_TLS_VERIFY !== '1' || !env.DOCKER_CERT_PATH) {
    throw new Error(`clusterlab env did not print a TLS endpoint on 127.0.0.1:\n${r.stdout}`);
  }
  const runIt = (args: string[], options: RunOptions = {}) => docker(args, { ...options, env: { ...env, ...options.env } });
  return {
    env,
    run: runIt,
    async ok(args, options) {
      const res = await runIt(args, options);
      if (res.exitCode !== 0) throw new Error(`expected exit 0\n${show(res)}`);
      return res.stdout;
    },
  };
}

export interface SwarmNode {
  ID: string;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
}

/** `docker node ls` of the swarm, as rows. */
export async function swarmNodes(swarm: SwarmClient): Promise<SwarmNode[]> {
  const out = await swarm.ok(['node', 'ls', '--format', '{{json .}}']);
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as SwarmNode);
}

/** hostname → Status, e.g. { leader: 'Ready', worker1: 'Down' }. */
export async function swarmNodeStatus(swarm: SwarmClient): Promise<Record<string, string>> {
  return Object.fromEntries((await swarmNodes(swarm)).map((n) => [n.Hostname, n.Status]));
}

/** The JSON `status -o json` prints: the product's own type, so the two cannot drift. */
export type ClusterStatusJson = ClusterStatus;

/** `clusterlab status -o json`, parsed. */
export async function clusterStatus(cluster: string): Promise<ClusterStatusJson> {
  const r = await clusterlabOk(['status', '--name', cluster, '-o', 'json']);
  return JSON.parse(r.stdout) as ClusterStatusJson;
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
}

/**
 * Calls `fn` until it resolves (throwing means "not yet", e.g. a failed expect), at most
 * `timeoutMs`. On timeout throws with the last thing `fn` observed (its last error).
 */
export async function waitFor<T>(fn: () => Promise<T> | T, options: WaitOptions): Promise<T> {
  const { timeoutMs, intervalMs = 1_000, what = 'a condition' } = options;
  const started = Date.now();
  let last: unknown = new Error('never evaluated');
  let attempts = 0;
  while (attempts === 0 || Date.now() - started < timeoutMs) {
    attempts++;
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, left)));
  }
  const lastText = last instanceof Error ? last.message : String(last);
  throw new Error(`timed out after ${((Date.now() - started) / 1000).toFixed(1)} s (${attempts} tries) waiting for ${what}; last observed:\n${lastText}`, {
    cause: last,
  });
}

export interface Leftovers {
  containers: string[];
  networks: string[];
  volumes: string[];
}

/** Everything on the host engine labelled with the cluster name. */
export async function labelled(cluster: string): Promise<Leftovers> {
  const filter = `label=${CLUSTER_LABEL}=${cluster}`;
  const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
  const [containers, networks, volumes] = await Promise.all([
    dockerOk(['ps', '-a', '--filter', filter, '--format', '{{.Names}}']),
    dockerOk(['network', 'ls', '--filter', filter, '--format', '{{.Name}}']),
    dockerOk(['volume', 'ls', '--filter', filter, '--format', '{{.Name}}']),
  ]);
  return { containers: lines(containers), networks: lines(networks), volumes: lines(volumes) };
}

export function isEmpty(l: Leftovers): boolean {
  return l.containers.length + l.networks.length + l.volumes.length === 0;
}

/**
 * `clusterlab down --name X`, then proof that nothing labelled X remains. When something does
 * (or down fails), it is removed by hand so the machine stays clean, and this throws: a test
 * that made the cluster must not pass while its cleanup is broken.
 */
export async function removeCluster(cluster: string): Promise<void> {
  const down = await clusterlab(['down', '--name', cluster], { timeoutMs: 180_000 });
  const left = await labelled(cluster);
  if (down.exitCode === 0 && isEmpty(left)) return;
  for (const c of left.containers) await docker(['rm', '-f', '-v', c]);
  for (const n of left.networks) await docker(['network', 'rm', n]);
  for (const v of left.volumes) await docker(['volume', 'rm', '-f', v]);
  throw new Error(`clusterlab down --name ${cluster} left things behind (removed by hand now): ${JSON.stringify(left)}\n${show(down)}`);
}

/** Seconds with one decimal, for `[figure]` lines. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function figure(name: string, value: string): void {
  console.log(`[figure] ${name}: ${value}`);
}

/** The newest kubectl the machine image has, called directly (the /usr/bin/kubectl dispatcher picks by server version). */
export const KUBECTL_NEWEST = ['1.33', '1.32', '1.31'].map((v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`).find((f) => existsSync(f)) ?? 'kubectl';

export interface KubectlOptions {
  input?: string;
  timeoutMs?: number;
}

/** A kubectl binary run against one context with its own discovery cache; never throws on a non-zero exit. */
export async function runKubectl(binary: string, context: string, cacheDir: string, args: string[], opts: KubectlOptions = {}): Promise<RunResult> {
  const result = await execa(binary, ['--context', context, '--cache-dir', cacheDir, '--request-timeout', '30s', ...args], {
    env: cleanEnv(),
    extendEnv: false,
    reject: false,
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return {
    command: [path.basename(binary), ...args].join(' '),
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: Boolean(result.timedOut),
  };
}

/** kubectl against one kube test cluster: raw results, exit-0-or-throw, and `get -o json`. */
export interface KubeTestClient {
  kubectl(args: string[], opts?: KubectlOptions): Promise<RunResult>;
  kubectlOk(args: string[], opts?: KubectlOptions): Promise<string>;
  getJson<T>(args: string[]): Promise<T>;
}

/** `cacheDir` is read at each call: suites make their discovery cache in beforeAll. */
export function kubeTestClient(context: string, cacheDir: () => string, binary: string = KUBECTL_NEWEST): KubeTestClient {
  const kubectl = (args: string[], opts?: KubectlOptions) => runKubectl(binary, context, cacheDir(), args, opts);
  const kubectlOk = async (args: string[], opts?: KubectlOptions): Promise<string> => {
    const r = await kubectl(args, opts);
    if (r.exitCode !== 0) throw new Error(`expected exit 0\n${show(r)}`);
    return r.stdout;
  };
  return {
    kubectl,
    kubectlOk,
    getJson: async <T>(args: string[]) => JSON.parse(await kubectlOk(['get', ...args, '-o', 'json'])) as T,
  };
}

/** A command on a cluster's node (its own docker CLI answers there); its exit code is kept. */
export function onClusterNode(cluster: string, node: string, command: string[], timeoutMs = 60_000): Promise<RunResult> {
  return clusterlab(['exec', '--name', cluster, node, '--', ...command], { timeoutMs });
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
