/**
 * The stream tests' world: an in-process API server (plain HTTP, MemoryStore) whose node
 * points at a fake agent, pods in whatever state a test needs, and the real kubectl binaries
 * run against it with a throwaway kubeconfig and discovery cache.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { startApiServer } from '../../src/node/controlplane/apiserver/server.js';
import type { KubeletClientOptions } from '../../src/node/controlplane/apiserver/streams/kubelet-client.js';
import { MemoryStore } from '../../src/node/controlplane/store/memory.js';
import { request } from './apiserver-helpers.js';
import { startFakeAgent, type FakeAgent } from './apiserver-streams-fake-agent.js';

export const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';
export const kubectlBinary = (version: string) => path.join(KUBECTL_DIR, `kubectl.${version}`);

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface StreamsWorld {
  url: string;
  agent: FakeAgent;
  logs: string[];
  tmp: string;
  kubeconfig: string;
  api: (method: string, urlPath: string, body?: unknown) => ReturnType<typeof request>;
  addPod(spec: PodSetup): Promise<Pod>;
  kubectl(version: string, args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  spawnKubectl(version: string, args: string[]): ChildProcessWithoutNullStreams;
  close(): Promise<void>;
}

export interface PodSetup {
  name: string;
  containers?: string[];
  initContainers?: string[];
  labels?: Record<string, string>;
  /** Omit to leave the pod unscheduled. */
  nodeName?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  podIP?: string;
  containerStatuses?: ContainerStatus[];
  ports?: number[];
}

export const NODE_NAME = 'node-1';

export function running(name: string, extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    name,
    image: 'busybox',
    imageID: '',
    ready: true,
    restartCount: 0,
    containerID: `docker://${name}-1`,
    state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
    ...extra,
  };
}

export async function startStreamsWorld(options: { kubelet?: KubeletClientOptions; agent?: FakeAgent } = {}): Promise<StreamsWorld> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'streams-test-'));
  const agent = options.agent ?? (await startFakeAgent({ cwd: tmp }));
  const store = new MemoryStore();
  const logs: string[] = [];
  const server = await startApiServer({
    store,
    host: '127.0.0.1',
    port: 0,
    serviceCidr: '10.96.0.0/16',
    version: '1.33.0',
    log: (line) => logs.push(line),
    ...(options.kubelet ? { kubelet: options.kubelet } : {}),
  });
  const api = (method: string, urlPath: string, body?: unknown) => request(server.url, method, urlPath, body);

  const created = await api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE_NAME } });
  if (created.status !== 201) throw new Error(`node: ${created.text}`);
  const node = created.json;
  node.status = {
    addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE_NAME }],
    daemonEndpoints: { kubeletEndpoint: { Port: agent.port } },
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'KubeletReady', message: 'ready' }],
  };
  const nodeStatus = await api('PUT', `/api/v1/nodes/${NODE_NAME}/status`, node);
  if (nodeStatus.status !== 200) throw new Error(`node status: ${nodeStatus.text}`);

  const kubeconfig = path.join(tmp, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: test, cluster: {server: "' + server.url + '"}}]',
      'users: [{name: test, user: {}}]',
      'contexts: [{name: test, context: {cluster: test, user: test, namespace: default}}]',
      'current-context: test',
      '',
    ].join('\n'),
  );
  const kubectlArgs = (args: string[]) => ['--kubeconfig', kubeconfig, '--cache-dir', path.join(tmp, 'cache'), ...args];
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: tmp };

  const world: StreamsWorld = {
    url: server.url,
    agent,
    logs,
    tmp,
    kubeconfig,
    api,
    addPod: async (setup) => {
      const containers = setup.containers ?? ['app'];
      const body = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: setup.name, ...(setup.labels ? { labels: setup.labels } : {}) },
        spec: {
          ...(setup.initContainers ? { initContainers: setup.initContainers.map((name) => ({ name, image: 'busybox' })) } : {}),
          containers: containers.map((name, i) => ({
            name,
            image: 'busybox',
            ...(i === 0 && setup.ports ? { ports: setup.ports.map((containerPort) => ({ containerPort })) } : {}),
          })),
          ...(setup.nodeName ? { nodeName: setup.nodeName } : {}),
        },
      };
      const made = await api('POST', '/api/v1/namespaces/default/pods', body);
      if (made.status !== 201) throw new Error(`pod ${setup.name}: ${made.text}`);
      if (!setup.phase) return made.json as Pod;
      const pod = made.json;
      pod.status = {
        phase: setup.phase,
        ...(setup.podIP ? { podIP: setup.podIP, podIPs: [{ ip: setup.podIP }] } : {}),
        containerStatuses: setup.containerStatuses ?? (setup.phase === 'Running' ? containers.map((c) => running(c)) : []),
      };
      const updated = await api('PUT', `/api/v1/namespaces/default/pods/${setup.name}/status`, pod);
      if (updated.status !== 200) throw new Error(`pod ${setup.name} status: ${updated.text}`);
      return updated.json as Pod;
    },
    spawnKubectl: (version, args) => spawn(kubectlBinary(version), kubectlArgs(args), { env }),
    kubectl: (version, args, opts = {}) =>
      new Promise<KubectlResult>((resolve, reject) => {
        const child = spawn(kubectlBinary(version), kubectlArgs(args), { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`kubectl ${args.join(' ')} timed out; stdout=${stdout} stderr=${stderr}`));
        }, opts.timeoutMs ?? 20_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
        if (opts.input !== undefined) child.stdin.end(opts.input);
        else child.stdin.end();
      }),
    close: async () => {
      await server.close();
      await store.close();
      if (!options.agent) await agent.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  return world;
}

/** Waits until the text shows up in what a child process printed. */
export function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far: ${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}

/** client-node refuses plain http unless TLS verification is off, which is moot without TLS. */
export function clientNodeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server, skipTLSVerify: true }],
    users: [{ name: 'test' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', namespace: 'default' }],
    currentContext: 'test',
  });
  return kc;
}
