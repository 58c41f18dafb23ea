import { readFile, statfs } from 'node:fs/promises';
import type Docker from 'dockerode';
import { connectDocker, MIN_ENGINE_VERSION, type EngineInfo } from '../docker/client.js';
import { imageExists, nodeImageRef } from '../docker/image.js';
import { ignoreNotFound } from '../docker/provider.js';
import { detectRunMode, shouldMountKernelModules } from '../docker/run-mode.js';
import { UserError, messageOf } from '../common/errors.js';
import { LABELS } from './labels.js';
import { execa } from 'execa';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it (warn/fail). */
  hint?: string;
}

const GiB = 1024 ** 3;
/** Below this, `up` refuses to start: a node image and three nodes need room. */
export const MIN_FREE_DISK = 2 * GiB;
const RECOMMENDED_FREE_DISK = 10 * GiB;
/** kind's recommendation: many nodes each run an engine that watches files. */
const MIN_INOTIFY_INSTANCES = 512;
const MIN_INOTIFY_WATCHES = 524288;

async function readNumber(file: string): Promise<number | undefined> {
  try {
    return Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
  } catch {
    return undefined;
  }
}

/** Free bytes where the engine keeps its data, when that is on this machine. */
async function freeDiskBytes(info: { dockerRootDir: string }): Promise<number | undefined> {
  for (const dir of [info.dockerRootDir, '/']) {
    try {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    } catch {
      // not local (Docker Desktop VM) or not readable: try the next
    }
  }
  return undefined;
}

export function diskCheck(free: number | undefined): CheckResult {
  if (free === undefined) return { check: 'free disk', status: 'ok', detail: 'not measurable from here (engine in a VM)' };
  const gib = (free / GiB).toFixed(1);
  if (free < MIN_FREE_DISK) return { check: 'free disk', status: 'fail', detail: `${gib} GiB free for Docker`, hint: 'free at least 2 GiB (docker system prune, or remove old images)' };
  if (free < RECOMMENDED_FREE_DISK) return { check: 'free disk', status: 'warn', detail: `${gib} GiB free for Docker`, hint: 'a few clusters and images want about 10 GiB' };
  return { check: 'free disk', status: 'ok', detail: `${gib} GiB free for Docker` };
}

export function inotifyCheck(instances: number | undefined, watches: number | undefined): CheckResult {
  if (instances === undefined || watches === undefined) return { check: 'inotify limits', status: 'ok', detail: 'not readable here' };
  const detail = `max_user_instances=${instances}, max_user_watches=${watches}`;
  if (instances < MIN_INOTIFY_INSTANCES || watches < MIN_INOTIFY_WATCHES) {
    return {
      check: 'inotify limits',
      status: 'warn',
      detail,
      hint: `clusters of many nodes can fail with "too many open files"; raise them: sudo sysctl fs.inotify.max_user_instances=${MIN_INOTIFY_INSTANCES} fs.inotify.max_user_watches=${MIN_INOTIFY_WATCHES}`,
    };
  }
  return { check: 'inotify limits', status: 'ok', detail };
}

/**
 * Kernel features seen from a throwaway container on the engine (the engine's kernel is the
 * one that matters, also under Docker Desktop): VXLAN for overlay networks, IPVS for the
 * swarm routing mesh.
 */
async function kernelChecks(docker: Docker, image: string, engineOs: string): Promise<CheckResult[]> {
  const script = [
    'modprobe vxlan 2>/dev/null; modprobe ip_vs 2>/dev/null',
    'if ip link add clvx0 type vxlan id 4242 dstport 4789 dev eth0 2>/dev/null; then ip link del clvx0; echo vxlan=yes; else echo vxlan=no; fi',
    'if [ -e /proc/net/ip_vs ]; then echo ipvs=yes; else echo ipvs=no; fi',
  ].join('\n');
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ['sh', '-c', script],
    Labels: { [LABELS.managed]: 'true', 'dev.clusterlab.probe': 'doctor' },
    HostConfig: { CapAdd: ['NET_ADMIN', 'SYS_MODULE'], Binds: shouldMountKernelModules(engineOs) ? ['/lib/modules:/lib/modules:ro'] : [] },
  });
  try {
    await container.start();
    await container.wait();
    const raw = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    const text = raw.toString('utf8');
    const vxlan = /vxlan=yes/.test(text);
    const ipvs = /ipvs=yes/.test(text);
    return [
      vxlan
        ? { check: 'VXLAN (overlay networks)', status: 'ok', detail: 'available' }
        : { check: 'VXLAN (overlay networks)', status: 'fail', detail: 'a VXLAN device could not be created', hint: 'swarm overlay networks need the vxlan kernel module (modprobe vxlan)' },
      ipvs
        ? { check: 'IPVS (swarm routing mesh)', status: 'ok', detail: 'available' }
        : {
            check: 'IPVS (swarm routing mesh)',
            status: 'warn',
            detail: 'not in this kernel',
            hint: 'published ports through the routing mesh will not answer; use --publish mode=host and --endpoint-mode dnsrr',
          },
    ];
  } finally {
    await ignoreNotFound(container.remove({ force: true, v: true }));
  }
}

async function onPath(command: string): Promise<boolean> {
  return execa('sh', ['-c', `command -v ${command}`]).then(() => true, () => false);
}

/** Every check `clusterlab doctor` runs, in order. Never throws for a failed check. */
export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let docker: Docker;
  let info: EngineInfo;
  try {
    ({ docker, info } = await connectDocker(env));
    results.push({ check: 'Docker engine', status: 'ok', detail: `${info.version} (API ${info.apiVersion}) on ${info.operatingSystem}` });
  } catch (err) {
    results.push({ check: 'Docker engine', status: 'fail', detail: messageOf(err), hint: err instanceof UserError ? err.hint : `clusterlab needs Docker ${MIN_ENGINE_VERSION} or newer` });
    return results;
  }
  results.push({ check: 'cgroups', status: 'ok', detail: `v${info.cgroupVersion}, ${info.cgroupDriver} driver, ${info.storageDriver} storage` });

  const image = await nodeImageRef();
  const haveImage = await imageExists(docker, image);
  if (haveImage) {
    results.push({ check: 'node image', status: 'ok', detail: image });
    const mode = await detectRunMode(docker, image, info.engineId, env);
    results.push({
      check: '--privileged',
      status: 'ok',
      detail: mode === 'privileged' ? 'granted: nodes run privileged' : 'refused by this engine: nodes run with explicit capabilities instead',
    });
    results.push(...(await kernelChecks(docker, image, info.os)));
  } else {
    const debootstrap = await onPath('debootstrap');
    results.push({
      check: 'node image',
      status: 'warn',
      detail: `${image} not built yet`,
      hint: `\`clusterlab up\` builds it (a few minutes), or run \`clusterlab image build\` now${debootstrap ? '' : '; without a registry it needs debootstrap (apt-get install debootstrap)'}`,
    });
    results.push({ check: '--privileged, VXLAN, IPVS', status: 'warn', detail: 'checked once the node image exists', hint: 'run clusterlab doctor again after clusterlab image build' });
  }

  results.push(
    inotifyCheck(await readNumber('/proc/sys/fs/inotify/max_user_instances'), await readNumber('/proc/sys/fs/inotify/max_user_watches')),
  );
  const dockerRootDir = String(((await docker.info()) as { DockerRootDir?: string }).DockerRootDir ?? '/var/lib/docker');
  results.push(diskCheck(await freeDiskBytes({ dockerRootDir })));
  return results;
}

/** The part of doctor that `up` runs first: problems that would make creation fail. */
export async function fatalProblems(docker: Docker): Promise<CheckResult[]> {
  const dockerRootDir = String(((await docker.info()) as { DockerRootDir?: string }).DockerRootDir ?? '/var/lib/docker');
  return [diskCheck(await freeDiskBytes({ dockerRootDir }))].filter((r) => r.status === 'fail');
}
