import { describe, expect, it } from 'vitest';
import { ETCD_DATA_DIR, type NodeConfig } from '../../src/common/node-config.js';
import { etcdLaunchPlan } from '../../src/node/supervisor/etcd.js';

const controlPlane: NodeConfig = {
  cluster: 'demo',
  node: 'cp-1',
  role: 'manager',
  engine: 'kube',
  ip: '172.30.0.11',
  dockerd: {},
  kube: {
    controlPlane: true,
    apiServers: ['https://172.30.0.11:6443'],
    etcd: {
      name: 'cp-1',
      initialCluster: 'cp-1=http://172.30.0.11:2380,cp-2=http://172.30.0.12:2380,cp-3=http://172.30.0.13:2380',
    },
    nodeLabels: {},
    nodeTaints: [],
    clusterCidr: '10.244.0.0/16',
    serviceCidr: '10.96.0.0/16',
    version: '1.33.0',
  },
};

/** The value following a flag, or undefined when the flag is absent. */
function flag(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index < 0 ? undefined : args[index + 1];
}

describe('etcdLaunchPlan', () => {
  const fresh = etcdLaunchPlan(controlPlane, { hasMember: false, arch: 'x64' });

  it.each([
    ['--name', 'cp-1'],
    ['--data-dir', ETCD_DATA_DIR],
    ['--listen-client-urls', 'http://127.0.0.1:2379,http://172.30.0.11:2379'],
    ['--advertise-client-urls', 'http://172.30.0.11:2379'],
    ['--listen-peer-urls', 'http://172.30.0.11:2380'],
    ['--initial-advertise-peer-urls', 'http://172.30.0.11:2380'],
    ['--initial-cluster', 'cp-1=http://172.30.0.11:2380,cp-2=http://172.30.0.12:2380,cp-3=http://172.30.0.13:2380'],
    ['--initial-cluster-token', 'demo'],
    ['--initial-cluster-state', 'new'],
    ['--auto-compaction-mode', 'revision'],
    ['--auto-compaction-retention', '10000'],
    ['--quota-backend-bytes', String(512 * 1024 * 1024)],
    ['--snapshot-count', '10000'],
    ['--logger', 'zap'],
  ])('passes %s %s for a new member', (name, value) => {
    expect(flag(fresh.args, name)).toBe(value);
  });

  it('gives every flag a value (no flag swallowed as another one\'s value)', () => {
    for (let i = 0; i < fresh.args.length; i += 2) {
      expect(fresh.args[i]).toMatch(/^--[a-z-]+$/);
      expect(fresh.args[i + 1]).toBeDefined();
      expect(fresh.args[i + 1]).not.toMatch(/^--/);
    }
  });

  it('leaves the cluster state out when the data dir already holds a member', () => {
    const restarted = etcdLaunchPlan(controlPlane, { hasMember: true, arch: 'x64' });
    expect(restarted.args).not.toContain('--initial-cluster-state');
    expect(flag(restarted.args, '--name')).toBe('cp-1');
  });

  it('allows arm64, which etcd 3.4 refuses unless told', () => {
    expect(etcdLaunchPlan(controlPlane, { hasMember: false, arch: 'arm64' }).env).toEqual({ GOGC: '50', ETCD_UNSUPPORTED_ARCH: 'arm64' });
    expect(fresh.env).toEqual({ GOGC: '50' });
  });

  it('refuses a node without an etcd section', () => {
    const worker: NodeConfig = { ...controlPlane, kube: { ...controlPlane.kube!, controlPlane: false, etcd: undefined } };
    expect(() => etcdLaunchPlan(worker, { hasMember: false, arch: 'x64' })).toThrow(/no kube.etcd/);
  });
});
