import { describe, expect, it } from 'vitest';
import { nodeContainerCreateOptions, type NodeContainerInput } from '../../src/docker/node-container.js';
import { LABELS } from '../../src/cluster/labels.js';

const base: NodeContainerInput = {
  cluster: 'lab',
  engine: 'swarm',
  node: { name: 'worker1', role: 'worker', labels: {}, ports: [] },
  index: 1,
  ip: '172.30.0.3',
  image: 'clusterlab/node:abc',
  runMode: 'capabilities',
  cgroupVersion: '1',
  mountKernelModules: true,
};

describe('nodeContainerCreateOptions', () => {
  it('names, labels and addresses the node', () => {
    const o = nodeContainerCreateOptions(base);
    expect(o.name).toBe('lab-worker1');
    expect(o.Hostname).toBe('worker1');
    expect(o.Labels).toMatchObject({
      [LABELS.managed]: 'true',
      [LABELS.cluster]: 'lab',
      [LABELS.node]: 'worker1',
      [LABELS.role]: 'worker',
      [LABELS.ip]: '172.30.0.3',
      [LABELS.index]: '1',
    });
    expect(o.NetworkingConfig?.EndpointsConfig?.['clusterlab-lab']).toEqual({ IPAMConfig: { IPv4Address: '172.30.0.3' }, Aliases: ['worker1'] });
    expect(o.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'lab-worker1-var-lib-docker', Target: '/var/lib/docker' }]);
    expect(o.HostConfig?.RestartPolicy).toEqual({ Name: 'unless-stopped' });
  });

  it('uses explicit capabilities where --privileged is refused', () => {
    const h = nodeContainerCreateOptions(base).HostConfig as Record<string, unknown>;
    expect(h.Privileged).toBeUndefined();
    expect(h.CapAdd).toEqual(['ALL']);
    expect(h.CapDrop).toEqual(['SYS_RESOURCE']);
    expect(h.SecurityOpt).toEqual(expect.arrayContaining(['seccomp=unconfined', 'apparmor=unconfined']));
    expect(h.MaskedPaths).toEqual([]);
    expect(h.ReadonlyPaths).toEqual([]);
    expect(h.DeviceCgroupRules).toEqual(['a *:* rwm']);
    expect(h.CgroupnsMode).toBe('host');
    expect(h.Binds).toEqual(expect.arrayContaining(['/sys/fs/cgroup:/sys/fs/cgroup:rw', '/lib/modules:/lib/modules:ro']));
  });

  it('runs privileged with a private cgroup namespace on cgroup v2', () => {
    const h = nodeContainerCreateOptions({ ...base, runMode: 'privileged', cgroupVersion: '2' }).HostConfig as Record<string, unknown>;
    expect(h.Privileged).toBe(true);
    expect(h.CapAdd).toBeUndefined();
    expect(h.CgroupnsMode).toBe('private');
    expect(h.Binds).not.toContain('/sys/fs/cgroup:/sys/fs/cgroup:rw');
  });

  it('keeps the host cgroup namespace for privileged nodes on cgroup v1', () => {
    const h = nodeContainerCreateOptions({ ...base, runMode: 'privileged', cgroupVersion: '1' }).HostConfig as Record<string, unknown>;
    expect(h.Privileged).toBe(true);
    expect(h.CgroupnsMode).toBeUndefined();
  });

  it('turns limits and port mappings into engine options; the Docker endpoint binds 127.0.0.1', () => {
    const o = nodeContainerCreateOptions({
      ...base,
      node: {
        name: 'leader',
        role: 'manager',
        labels: {},
        cpus: 1.5,
        memoryBytes: 512 * 1024 * 1024,
        ports: [
          { containerPort: 80, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'tcp' },
          { containerPort: 53, hostPort: 5353, listenAddress: '0.0.0.0', protocol: 'udp' },
        ],
      },
      dockerPort: 41234,
    });
    expect(o.HostConfig?.NanoCpus).toBe(1_500_000_000);
    expect(o.HostConfig?.Memory).toBe(536870912);
    expect(o.HostConfig?.MemorySwap).toBe(536870912);
    expect(o.HostConfig?.PortBindings).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
      '53/udp': [{ HostIp: '0.0.0.0', HostPort: '5353' }],
      '2376/tcp': [{ HostIp: '127.0.0.1', HostPort: '41234' }],
    });
    expect(o.Labels?.[LABELS.dockerPort]).toBe('41234');
  });

  it("publishes a kube control plane's API server on 127.0.0.1 and records the port in a label", () => {
    const o = nodeContainerCreateOptions({ ...base, engine: 'kube', apiPort: 40123 });
    expect(o.HostConfig?.PortBindings?.['6443/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '40123' }]);
    expect(o.ExposedPorts).toHaveProperty('6443/tcp');
    expect(o.Labels?.[LABELS.apiPort]).toBe('40123');
  });

  it('sets no limits when the spec has none', () => {
    const o = nodeContainerCreateOptions(base);
    expect(o.HostConfig?.Memory).toBeUndefined();
    expect(o.HostConfig?.NanoCpus).toBeUndefined();
    expect(o.HostConfig?.PortBindings).toEqual({});
  });
});
