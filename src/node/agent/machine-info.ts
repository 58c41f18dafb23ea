/**
 * What the node reports about its machine: CPUs and memory as its own cgroup limits them
 * (a node is a container; the host's totals would overstate it), disk, OS and ids.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuCores: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  osImage: string;
  kernelVersion: string;
  /** Kubernetes' name: amd64, arm64, … */
  architecture: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
}

/** Reads a file as text, undefined when it cannot be read (injectable for tests). */
export type ReadText = (path: string) => string | undefined;

const readTextFile: ReadText = (path) => {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** Anything at or above this means "no limit" in cgroup v1's memory.limit_in_bytes. */
const UNLIMITED_V1 = 2 ** 60;

/** The cgroup directories this process sits in, innermost first, for each controller layout. */
function cgroupPaths(procSelfCgroup: string, controller: string): { v2: string[]; v1: string[] } {
  const v2: string[] = [];
  const v1: string[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, cgroupPath] = line.split(':', 3) as [string, string | undefined, string | undefined];
    if (cgroupPath === undefined || controllers === undefined) continue;
    if (controllers === '') v2.push(...ancestors(cgroupPath).map((p) => `/sys/fs/cgroup${p}`));
    else if (controllers.split(',').includes(controller)) v1.push(...ancestors(cgroupPath).map((p) => `/sys/fs/cgroup/${controllers}${p}`));
  }
  return { v2, v1 };
}

/** '/a/b' -> ['/a/b', '/a', ''] */
function ancestors(cgroupPath: string): string[] {
  const parts = cgroupPath.split('/').filter((p) => p !== '');
  const result: string[] = [];
  for (let i = parts.length; i >= 0; i--) result.push(i === 0 ? '' : `/${parts.slice(0, i).join('/')}`);
  return result;
}

/** The tightest memory limit over this process's cgroup and its ancestors, if any. */
export function cgroupMemoryLimit(procSelfCgroup: string, read: ReadText): number | undefined {
  const { v2, v1 } = cgroupPaths(procSelfCgroup, 'memory');
  let limit: number | undefined;
  const consider = (value: number): void => {
    if (Number.isFinite(value) && value > 0 && value < UNLIMITED_V1) limit = limit === undefined ? value : Math.min(limit, value);
  };
  for (const dir of v2) {
    const text = read(`${dir}/memory.max`)?.trim();
    if (text && text !== 'max') consider(Number(text));
  }
  for (const dir of v1) {
    const text = read(`${dir}/memory.limit_in_bytes`)?.trim();
    if (text) consider(Number(text));
  }
  return limit;
}

/** The tightest CPU quota (in cores, rounded up) over this process's cgroups, if any. */
export function cgroupCpuLimit(procSelfCgroup: string, read: ReadText): number | undefined {
  const { v2, v1 } = cgroupPaths(procSelfCgroup, 'cpu');
  let limit: number | undefined;
  const consider = (quota: number, period: number): void => {
    if (!(quota > 0 && period > 0)) return;
    const cores = quota / period;
    limit = limit === undefined ? cores : Math.min(limit, cores);
  };
  for (const dir of v2) {
    const [quota, period] = (read(`${dir}/cpu.max`)?.trim() ?? '').split(/\s+/);
    if (quota && quota !== 'max') consider(Number(quota), Number(period ?? 100000));
  }
  for (const dir of v1) {
    const quota = read(`${dir}/cpu.cfs_quota_us`)?.trim();
    const period = read(`${dir}/cpu.cfs_period_us`)?.trim();
    if (quota && period) consider(Number(quota), Number(period));
  }
  return limit === undefined ? undefined : Math.max(1, Math.ceil(limit - 1e-9));
}

/** MemTotal from /proc/meminfo, in bytes. */
export function meminfoTotal(text: string | undefined): number | undefined {
  const match = /^MemTotal:\s+(\d+)\s*kB/m.exec(text ?? '');
  return match ? Number(match[1]) * 1024 : undefined;
}

export function osReleasePrettyName(text: string | undefined): string {
  const match = /^PRETTY_NAME=(.*)$/m.exec(text ?? '');
  if (!match) return 'Linux';
  return match[1]!.trim().replace(/^"(.*)"$/, '$1');
}

export function kubeArchitecture(nodeArch: string): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return names[nodeArch] ?? nodeArch;
}

function visibleCores(): number {
  // os.availableParallelism arrived in Node 18.14; older 18s only have os.cpus().
  const parallelism = (os as { availableParallelism?: () => number }).availableParallelism;
  return typeof parallelism === 'function' ? parallelism() : Math.max(1, os.cpus().length);
}

function diskBytes(path: string): number {
  const statfs = (fs as { statfsSync?: (p: string) => { bsize: number; blocks: number } }).statfsSync;
  if (typeof statfs !== 'function') return 0;
  try {
    const stats = statfs(path);
    return stats.bsize * stats.blocks;
  } catch {
    return 0;
  }
}

/** A stable id derived from text, formatted as a UUID (for machines that have no readable one). */
function uuidFrom(text: string): string {
  const hex = crypto.createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function readMachineInfo(nodeName: string, read: ReadText = readTextFile): MachineInfo {
  const selfCgroup = read('/proc/self/cgroup') ?? '';
  const cores = visibleCores();
  const cpuLimit = cgroupCpuLimit(selfCgroup, read);
  const memTotal = meminfoTotal(read('/proc/meminfo')) ?? os.totalmem();
  const memLimit = cgroupMemoryLimit(selfCgroup, read);
  const machineID = (read('/etc/machine-id')?.trim() || crypto.createHash('md5').update(`clusterlab-${nodeName}`).digest('hex'));
  return {
    cpuCores: cpuLimit === undefined ? cores : Math.min(cores, cpuLimit),
    memoryBytes: memLimit === undefined ? memTotal : Math.min(memTotal, memLimit),
    ephemeralStorageBytes: diskBytes('/var/lib/docker') || diskBytes('/'),
    osImage: osReleasePrettyName(read('/etc/os-release')),
    kernelVersion: os.release(),
    architecture: kubeArchitecture(process.arch),
    machineID,
    systemUUID: read('/sys/class/dmi/id/product_uuid')?.trim() || uuidFrom(`${machineID}/${nodeName}`),
    bootID: read('/proc/sys/kernel/random/boot_id')?.trim() || uuidFrom(`${nodeName}/${os.uptime()}`),
  };
}
