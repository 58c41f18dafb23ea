import { describe, expect, it } from 'vitest';
import { cgroupCpuLimit, cgroupMemoryLimit, kubeArchitecture, meminfoTotal, osReleasePrettyName } from '../../src/node/agent/machine-info.js';
import { buildNodeStatus, nodeImages, nodeStatusChanged, registrationNode, reregistrationPatch, type NodeIdentity } from '../../src/node/agent/node-status.js';

const files = (map: Record<string, string>) => (path: string) => map[path];

describe('machine info', () => {
  it('reads cgroup v2 limits along the path, tightest wins', () => {
    const read = files({
      '/sys/fs/cgroup/docker/abc/memory.max': '536870912\n',
      '/sys/fs/cgroup/docker/memory.max': 'max\n',
      '/sys/fs/cgroup/docker/abc/cpu.max': '150000 100000\n',
    });
    expect(cgroupMemoryLimit('0::/docker/abc\n', read)).toBe(536870912);
    expect(cgroupCpuLimit('0::/docker/abc\n', read)).toBe(2);
  });

  it('reads cgroup v1 limits and ignores "unlimited"', () => {
    const proc = '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n';
    const read = files({
      '/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '9223372036854771712',
      '/sys/fs/cgroup/memory/docker/memory.limit_in_bytes': '1073741824',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '-1',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000',
    });
    expect(cgroupMemoryLimit(proc, read)).toBe(1073741824);
    expect(cgroupCpuLimit(proc, read)).toBeUndefined();
  });

  it('parses meminfo, os-release and architecture names', () => {
    expect(meminfoTotal('MemTotal:       24576000 kB\nMemFree: 1 kB\n')).toBe(24576000 * 1024);
    expect(osReleasePrettyName('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect([kubeArchitecture('x64'), kubeArchitecture('arm64')]).toEqual(['amd64', 'arm64']);
  });
});

describe('node object', () => {
  const identity: NodeIdentity = {
    name: 'w1',
    ip: '172.30.0.4',
    kube: { nodeLabels: { 'node-role.kubernetes.io/worker': '' }, nodeTaints: [{ key: 'k', effect: 'NoExecute' }], clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', version: '1.30.2' },
  };
  const machine = {
    cpuCores: 4,
    memoryBytes: 1024 * 1024 * 1024,
    ephemeralStorageBytes: 2048,
    osImage: 'Debian',
    kernelVersion: '6.1',
    architecture: 'arm64',
    machineID: 'm',
    systemUUID: 's',
    bootID: 'b',
  };

  it('registers with labels and taints (no pod CIDR: the controller gives it); re-registration leaves taints alone', () => {
    const node = registrationNode(identity, machine);
    expect(node.metadata?.labels).toEqual({
      'beta.kubernetes.io/arch': 'arm64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'arm64',
      'kubernetes.io/hostname': 'w1',
      'kubernetes.io/os': 'linux',
      'node-role.kubernetes.io/worker': '',
    });
    expect(node.spec).toEqual({ taints: [{ key: 'k', effect: 'NoExecute' }] });
    const patch = reregistrationPatch(identity, machine);
    expect(patch).toEqual({ metadata: { labels: node.metadata?.labels } });
  });

  it('reports capacity, conditions and node info; heartbeats alone are not changes', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const status = buildNodeStatus({ node: identity, machine, runtimeVersion: '20.10.24', images: [], previous: [], now });
    expect(status.capacity).toEqual({ cpu: '4', memory: '1048576Ki', pods: '110', 'ephemeral-storage': '2Ki' });
    expect(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'MemoryPressure=False/KubeletHasSufficientMemory',
      'DiskPressure=False/KubeletHasNoDiskPressure',
      'PIDPressure=False/KubeletHasSufficientPID',
      'Ready=True/KubeletReady',
    ]);
    expect(status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.30.2', kubeProxyVersion: 'v1.30.2', containerRuntimeVersion: 'docker://20.10.24', architecture: 'arm64' });
    const later = buildNodeStatus({ node: identity, machine, runtimeVersion: '20.10.24', images: [], previous: status.conditions!, now: new Date('2026-01-01T00:00:30Z') });
    expect(later.conditions?.[3]?.lastHeartbeatTime).toBe('2026-01-01T00:00:30Z');
    expect(later.conditions?.[3]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(nodeStatusChanged(status, later)).toBe(false);
    const down = buildNodeStatus({ node: identity, machine, runtimeVersion: undefined, images: [], previous: later.conditions!, now });
    expect(down.conditions?.[3]).toMatchObject({ status: 'False', message: 'container runtime is down' });
    expect(nodeStatusChanged(later, down)).toBe(true);
  });

  it('lists images biggest first without <none> names', () => {
    expect(
      nodeImages([
        { id: 'a', repoTags: ['small:1'], repoDigests: [], sizeBytes: 1 },
        { id: 'b', repoTags: ['<none>:<none>'], repoDigests: [], sizeBytes: 5 },
        { id: 'c', repoTags: ['big:1'], repoDigests: ['big@sha256:00'], sizeBytes: 9 },
      ]),
    ).toEqual([
      { names: ['big@sha256:00', 'big:1'], sizeBytes: 9 },
      { names: ['small:1'], sizeBytes: 1 },
    ]);
  });
});

describe('lease renewal', () => {
  it("renews every 10 s against kube's grace period and a quarter of a lab's shorter one", async () => {
    const { leaseRenewMs } = await import('../../src/node/agent/heartbeat.js');
    expect(leaseRenewMs(undefined)).toBe(10_000);
    expect(leaseRenewMs(40)).toBe(10_000);
    expect(leaseRenewMs(10)).toBe(2_500);
    expect(leaseRenewMs(1)).toBe(500);
  });
});
