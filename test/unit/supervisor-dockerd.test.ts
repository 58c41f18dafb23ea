import { describe, expect, it } from 'vitest';
import type { NodeConfig } from '../../src/common/node-config.js';
import { parseNodeConfig } from '../../src/node/supervisor/config.js';
import { detectCgroupParent, dockerdArgs } from '../../src/node/supervisor/dockerd.js';

const base: NodeConfig = {
  cluster: 'demo',
  node: 'leader',
  role: 'manager',
  engine: 'swarm',
  ip: '172.30.0.10',
  dockerd: {},
};

describe('dockerdArgs', () => {
  it('serves the unix socket only, with cgroupfs, NAT and the cgroup parent', () => {
    expect(dockerdArgs(base, '/docker/abc/nested')).toEqual([
      '--host',
      'unix:///var/run/docker.sock',
      '--exec-opt',
      'native.cgroupdriver=cgroupfs',
      '--cgroup-parent',
      '/docker/abc/nested',
      '--iptables=true',
      '--ip-forward=true',
    ]);
  });

  it('leaves the cgroup parent to dockerd when there is none', () => {
    expect(dockerdArgs(base, undefined)).not.toContain('--cgroup-parent');
  });

  it('adds the TLS endpoint on 2376 with client verification', () => {
    const args = dockerdArgs(
      { ...base, dockerd: { tls: { caFile: '/pki/ca.pem', certFile: '/pki/cert.pem', keyFile: '/pki/key.pem' } } },
      undefined,
    );
    expect(args.slice(0, 11)).toEqual([
      '--host',
      'unix:///var/run/docker.sock',
      '--host',
      'tcp://0.0.0.0:2376',
      '--tlsverify',
      '--tlscacert',
      '/pki/ca.pem',
      '--tlscert',
      '/pki/cert.pem',
      '--tlskey',
      '/pki/key.pem',
    ]);
  });

  it('appends extra arguments last, so they can override', () => {
    const args = dockerdArgs({ ...base, dockerd: { extraArgs: ['--debug', '--storage-driver=vfs'] } }, undefined);
    expect(args.slice(-2)).toEqual(['--debug', '--storage-driver=vfs']);
  });
});

const ID = '3f1c0ad2b6e94d7f8a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7';

describe('detectCgroupParent', () => {
  const table: {
    name: string;
    cgroup: string;
    unified: boolean;
    parent: string | undefined;
    version: 1 | 2;
    v2Delegate?: string;
  }[] = [
    {
      name: 'v1, host cgroupns, cgroupfs driver (this machine)',
      cgroup: [
        `12:pids:/docker/${ID}`,
        `11:memory:/docker/${ID}`,
        `10:cpu,cpuacct:/docker/${ID}`,
        `1:name=systemd:/docker/${ID}`,
        '0::/',
      ].join('\n'),
      unified: false,
      parent: `/docker/${ID}/nested`,
      version: 1,
    },
    {
      name: 'v1, host cgroupns, systemd driver',
      cgroup: [`9:memory:/system.slice/docker-${ID}.scope`, `1:name=systemd:/system.slice/docker-${ID}.scope`].join('\n'),
      unified: false,
      parent: `/system.slice/docker-${ID}.scope/nested`,
      version: 1,
    },
    {
      name: 'v1, controllers at different paths: memory wins',
      cgroup: ['8:pids:/', '4:memory:/process_api/c2e57f60', '1:cpu:/', '0::/'].join('\n'),
      unified: false,
      parent: '/process_api/c2e57f60/nested',
      version: 1,
    },
    {
      name: 'v1 without a memory hierarchy: cpu',
      cgroup: ['3:cpu,cpuacct:/docker/x', '2:devices:/docker/y'].join('\n'),
      unified: false,
      parent: '/docker/x/nested',
      version: 1,
    },
    {
      name: 'v1, private cgroupns',
      cgroup: ['11:memory:/', '10:cpu,cpuacct:/', '1:name=systemd:/'].join('\n'),
      unified: false,
      parent: '/nested',
      version: 1,
    },
    {
      name: 'v2, private cgroupns (kind style)',
      cgroup: '0::/\n',
      unified: true,
      parent: '/nested',
      version: 2,
      v2Delegate: '/',
    },
    {
      name: 'v2, private cgroupns, already moved to /init',
      cgroup: '0::/init\n',
      unified: true,
      parent: '/nested',
      version: 2,
      v2Delegate: '/',
    },
    {
      name: 'v2, host cgroupns, cgroupfs driver',
      cgroup: `0::/docker/${ID}\n`,
      unified: true,
      parent: `/docker/${ID}/nested`,
      version: 2,
      v2Delegate: `/docker/${ID}`,
    },
    {
      name: 'v2, host cgroupns, systemd driver, already moved',
      cgroup: `0::/system.slice/docker-${ID}.scope/init\n`,
      unified: true,
      parent: `/system.slice/docker-${ID}.scope/nested`,
      version: 2,
      v2Delegate: `/system.slice/docker-${ID}.scope`,
    },
    {
      name: 'only name=systemd on a v1 host: falls back to the unified line',
      cgroup: ['1:name=systemd:/docker/a', '0::/docker/a'].join('\n'),
      unified: false,
      parent: '/docker/a/nested',
      version: 2,
      v2Delegate: '/docker/a',
    },
    { name: 'nothing readable', cgroup: '', unified: false, parent: undefined, version: 1 },
  ];

  it.each(table)('$name', ({ cgroup, unified, parent, version, v2Delegate }) => {
    const plan = detectCgroupParent(cgroup, { unified });
    expect(plan.parent).toBe(parent);
    expect(plan.version).toBe(version);
    expect(plan.v2Delegate).toBe(v2Delegate);
    expect(plan.reason).toMatch(/\S/);
  });
});

describe('parseNodeConfig', () => {
  it('accepts what the host writes', () => {
    expect(parseNodeConfig(JSON.stringify(base))).toEqual(base);
  });

  it('names every problem at once', () => {
    expect(() => parseNodeConfig(JSON.stringify({ cluster: 'c', role: 'boss', dockerd: { extraArgs: [1] } }))).toThrow(
      /node: .*ip: .*role: .*engine: .*dockerd\.extraArgs/,
    );
  });

  it('rejects a half-written file', () => {
    expect(() => parseNodeConfig('{"cluster": "c"')).toThrow(/not JSON/);
  });
});
