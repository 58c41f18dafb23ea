/**
 * What a lab runs against: a cluster view for the checks, and the environment that points
 * the learner's tools (docker, kubectl, clusterlab) at the same cluster for setup, solutions
 * and script checks. Three kinds: a local clusterlab cluster by name, any Kubernetes
 * cluster through a kubeconfig context, any swarm through a Docker host.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import YAML from 'yaml';
import { writeDockerClientCerts } from '../cluster/lifecycle.js';
import { readClusterPki, requireCluster } from '../cluster/nodes.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { clusterStateDir, dockerCertDir } from '../cluster/state.js';
import { UserError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import { ACTIVE_ENV_MARKER } from '../docker/client.js';
import { readKubeAccess } from '../engines/kube/host-api.js';
import { clusterKubeconfig, kubeconfigPath, type KubeconfigDoc } from '../engines/kube/kubeconfig.js';
import { swarmView } from './backends/swarm.js';
import type { LabEngine } from './engines.js';
import type { ClusterView } from './view.js';

export interface LabTarget {
  engine: LabEngine;
  /** For reports: `cluster "lab"`, `context prod (~/.kube/config)`, `docker host tcp://…`. */
  description: string;
  /** The local clusterlab cluster, when it is one. */
  cluster?: string;
  view: ClusterView;
  /** Variables for lab scripts: DOCKER_* or KUBECONFIG, CLUSTERLAB_CLUSTER, PATH with clusterlab first. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The package's bin/ first on PATH: lab scripts call `clusterlab node stop …` like a learner. */
function pathWithClusterlab(env: NodeJS.ProcessEnv): string {
  return [path.join(packageRoot(), 'bin'), env.PATH ?? ''].filter(Boolean).join(path.delimiter);
}

const DOCKER_REQUEST_TIMEOUT_MS = 15_000;

/** client-node is large: loaded only when a kube cluster is looked at. */
async function kubeModules() {
  const [{ KubeConfig }, { kubeView }] = await Promise.all([import('@kubernetes/client-node'), import('./backends/kube.js')]);
  return { KubeConfig, kubeView };
}

async function certFiles(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const [ca, cert, key] = await Promise.all(['ca.pem', 'cert.pem', 'key.pem'].map((f) => readFile(path.join(dir, f), 'utf8')));
  return { ca: ca!, cert: cert!, key: key! };
}

/** A local cluster made by clusterlab, found by its labels. */
export async function localTarget(rt: ClusterRuntime, cluster: string, env: NodeJS.ProcessEnv = process.env): Promise<LabTarget> {
  const record = await requireCluster(rt, cluster);
  const nodes = await rt.provider.listNodes(cluster);
  const common = { CLUSTERLAB_CLUSTER: cluster, PATH: pathWithClusterlab(env) };
  if (record.engine === 'swarm') {
    const manager = nodes.find((n) => n.role === 'manager' && n.state === 'running' && n.dockerPort !== undefined);
    if (!manager) throw new UserError(`no manager of cluster "${cluster}" is running`, { hint: `start it: clusterlab start --name ${cluster}` });
    const certDir = dockerCertDir(cluster);
    if (!existsSync(path.join(certDir, 'key.pem'))) {
      // The host's copy of the client certificate is a cache; the managers hold the original.
      const pki = await readClusterPki(rt, nodes);
      await writeDockerClientCerts(cluster, { caPem: pki.ca.certPem, certPem: pki.client.certPem, keyPem: pki.client.keyPem });
    }
    const tls = await certFiles(certDir);
    const docker = new Docker({ host: '127.0.0.1', port: manager.dockerPort!, protocol: 'https', ...tls, timeout: DOCKER_REQUEST_TIMEOUT_MS });
    return {
      engine: 'swarm',
      description: `cluster "${cluster}"`,
      cluster,
      view: swarmView(docker),
      env: {
        ...common,
        DOCKER_HOST: `tcp://127.0.0.1:${manager.dockerPort}`,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: certDir,
        // clusterlab itself keeps using the host's engine (see src/docker/client.ts).
        [ACTIVE_ENV_MARKER]: cluster,
      },
      close: async () => undefined,
    };
  }
  const access = await readKubeAccess(rt.docker, nodes);
  const doc = clusterKubeconfig(cluster, access);
  const file = path.join(clusterStateDir(cluster, env), 'lab', 'kubeconfig');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, YAML.stringify(doc), { mode: 0o600 });
  const { KubeConfig, kubeView } = await kubeModules();
  const config = new KubeConfig();
  config.loadFromString(YAML.stringify(doc));
  return {
    engine: 'kube',
    description: `cluster "${cluster}"`,
    cluster,
    view: kubeView(config),
    env: { ...common, KUBECONFIG: file },
    close: async () => undefined,
  };
}

/** Any Kubernetes cluster: a kubeconfig file and (optionally) one of its contexts. */
export async function kubeconfigTarget(file: string | undefined, context: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LabTarget> {
  const source = file ?? kubeconfigPath(env);
  const { KubeConfig, kubeView } = await kubeModules();
  const config = new KubeConfig();
  try {
    config.loadFromFile(source);
  } catch (err) {
    throw new UserError(`cannot read the kubeconfig ${source}: ${(err as Error).message}`, { hint: 'give one with --kubeconfig FILE', cause: err });
  }
  if (context) {
    if (!config.getContextObject(context)) {
      throw new UserError(`no context "${context}" in ${source}`, { hint: `its contexts: ${config.getContexts().map((c) => c.name).join(', ') || 'none'}` });
    }
    config.setCurrentContext(context);
  }
  const current = config.getCurrentContext();
  if (!current) throw new UserError(`${source} has no current context`, { hint: 'choose one with --context' });
  // Scripts get a kubeconfig whose current context is the chosen one (kubectl has no variable for it).
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-grade-'));
  const copy = path.join(dir, 'kubeconfig');
  const doc = YAML.parse(await readFile(source, 'utf8')) as KubeconfigDoc;
  await writeFile(copy, YAML.stringify({ ...doc, 'current-context': current }), { mode: 0o600 });
  return {
    engine: 'kube',
    description: `context ${current} (${source})`,
    view: kubeView(config),
    env: { KUBECONFIG: copy, PATH: pathWithClusterlab(env) },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Any swarm manager: a Docker host (tcp://HOST:PORT or unix:///PATH) with TLS from a
 * certificate folder (DOCKER_CERT_PATH's ca.pem, cert.pem, key.pem) when given.
 */
export async function dockerHostTarget(host: string, certPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LabTarget> {
  let docker: Docker;
  const vars: Record<string, string> = { DOCKER_HOST: host, PATH: pathWithClusterlab(env) };
  if (host.startsWith('unix://')) {
    docker = new Docker({ socketPath: host.slice('unix://'.length), timeout: DOCKER_REQUEST_TIMEOUT_MS });
  } else {
    const match = /^(?:tcp|https?):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(host);
    if (!match) throw new UserError(`cannot use the Docker host "${host}"`, { hint: 'give tcp://HOST:PORT or unix:///PATH' });
    const address = match[1]!.replace(/^\[|\]$/g, '');
    if (certPath) {
      const tls = await certFiles(certPath).catch((err: unknown) => {
        throw new UserError(`cannot read the TLS certificates in ${certPath} (ca.pem, cert.pem, key.pem)`, { cause: err });
      });
      docker = new Docker({ host: address, port: Number(match[2]), protocol: 'https', ...tls, timeout: DOCKER_REQUEST_TIMEOUT_MS });
      Object.assign(vars, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath });
    } else {
      docker = new Docker({ host: address, port: Number(match[2]), protocol: 'http', timeout: DOCKER_REQUEST_TIMEOUT_MS });
    }
  }
  const swarm = (await docker.info().catch((err: unknown) => {
    throw new UserError(`cannot reach the Docker engine at ${host}: ${(err as Error).message}`, { cause: err });
  })) as { Swarm?: { ControlAvailable?: boolean } };
  if (!swarm.Swarm?.ControlAvailable) {
    throw new UserError(`the Docker engine at ${host} is not a swarm manager`, { hint: 'point --docker-host at a manager of the swarm' });
  }
  return { engine: 'swarm', description: `docker host ${host}`, view: swarmView(docker), env: vars, close: async () => undefined };
}
