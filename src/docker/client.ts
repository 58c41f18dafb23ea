import Docker from 'dockerode';
import { UserError, messageOf } from '../common/errors.js';

/** Oldest engine clusterlab supports: Docker 20.10 (API 1.41), what Debian bookworm ships. */
export const MIN_API_VERSION = '1.41';
export const MIN_ENGINE_VERSION = '20.10';

/**
 * `eval "$(clusterlab env)"` points DOCKER_HOST at a swarm manager inside a cluster. clusterlab
 * itself must keep talking to the host's engine, so when that marker is set it ignores the
 * DOCKER_* variables (minikube does the same with MINIKUBE_ACTIVE_DOCKERD).
 */
export const ACTIVE_ENV_MARKER = 'CLUSTERLAB_ACTIVE_CLUSTER';

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  cgroupVersion: string;
  cgroupDriver: string;
  storageDriver: string;
  memTotal: number;
  ncpu: number;
  engineId: string;
  /** e.g. "Docker Desktop" / "Debian GNU/Linux 12 (bookworm)". */
  operatingSystem: string;
}

function clientOptions(env: NodeJS.ProcessEnv): Docker.DockerOptions | undefined {
  if (env[ACTIVE_ENV_MARKER]) {
    // The user's shell is set up for a cluster; the host engine is the default socket
    // unless CLUSTERLAB_DOCKER_HOST says otherwise.
    // docker-modem merges what it reads from DOCKER_* into the options given, so every
    // field it would take from there is set explicitly.
    const host = env.CLUSTERLAB_DOCKER_HOST;
    const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
    return { socketPath, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined };
  }
  return undefined; // dockerode reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself
}

function describeEndpoint(env: NodeJS.ProcessEnv): string {
  if (env[ACTIVE_ENV_MARKER]) return env.CLUSTERLAB_DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  return env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** A client for the host's engine; not yet checked (see connectDocker). */
export function dockerClient(env: NodeJS.ProcessEnv = process.env): Docker {
  return new Docker(clientOptions(env));
}

/** Compares dotted version strings numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((p) => Number.parseInt(p, 10));
  const pb = b.split(/[.+-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number.isNaN(pa[i] ?? 0) ? 0 : (pa[i] ?? 0);
    const y = Number.isNaN(pb[i] ?? 0) ? 0 : (pb[i] ?? 0);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Turns a failure to reach the engine into advice the user can act on. */
export function engineUnreachable(err: unknown, env: NodeJS.ProcessEnv = process.env): UserError {
  const endpoint = describeEndpoint(env);
  const code = (err as { code?: string }).code;
  if (code === 'EACCES') {
    return new UserError(`permission denied talking to the Docker engine at ${endpoint}`, {
      hint: 'add your user to the "docker" group (sudo usermod -aG docker $USER, then log in again) or run as root',
      cause: err,
    });
  }
  return new UserError(`cannot reach the Docker engine at ${endpoint} (${code ?? messageOf(err)})`, {
    hint: 'is Docker running? Start it (sudo systemctl start docker, or `dockerd &`), or point DOCKER_HOST at a running engine',
    cause: err,
  });
}

/** Facts about the engine, or a UserError saying why there are none. */
export async function engineInfo(docker: Docker, env: NodeJS.ProcessEnv = process.env): Promise<EngineInfo> {
  let version: Docker.DockerVersion;
  // Typed loosely by @types/dockerode; we read only documented fields of GET /info.
  let info: Record<string, unknown>;
  try {
    [version, info] = await Promise.all([docker.version(), docker.info() as Promise<Record<string, unknown>>]);
  } catch (err) {
    throw engineUnreachable(err, env);
  }
  return {
    version: version.Version,
    apiVersion: version.ApiVersion,
    os: version.Os,
    cgroupVersion: String(info.CgroupVersion ?? '1'),
    cgroupDriver: String(info.CgroupDriver ?? ''),
    storageDriver: String(info.Driver ?? ''),
    memTotal: Number(info.MemTotal ?? 0),
    ncpu: Number(info.NCPU ?? 0),
    engineId: String(info.ID ?? ''),
    operatingSystem: String(info.OperatingSystem ?? ''),
  };
}

/** Throws a UserError when the engine is older than clusterlab supports. */
export function checkEngineVersion(info: Pick<EngineInfo, 'version' | 'apiVersion'>): void {
  if (compareVersions(info.apiVersion, MIN_API_VERSION) < 0) {
    throw new UserError(
      `Docker ${info.version} (API ${info.apiVersion}) is too old: clusterlab needs Docker ${MIN_ENGINE_VERSION} (API ${MIN_API_VERSION}) or newer`,
      { hint: 'upgrade the Docker engine (e.g. apt-get install docker.io on Debian 12, or a current Docker Desktop)' },
    );
  }
}

/** A checked client: reachable and new enough. */
export async function connectDocker(env: NodeJS.ProcessEnv = process.env): Promise<{ docker: Docker; info: EngineInfo }> {
  const docker = dockerClient(env);
  const info = await engineInfo(docker, env);
  checkEngineVersion(info);
  return { docker, info };
}
