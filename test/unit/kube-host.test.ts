import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { specFromFlags } from '../../src/cluster/spec.js';
import { nodeConfig } from '../../src/cluster/node-files.js';
import { controlPlaneTaints, kubeNodeConfig } from '../../src/engines/kube/node-setup.js';
import { installKubeconfig, kubeconfigPath, mergeKubeconfig, removeFromKubeconfig, uninstallKubeconfig, type KubeconfigDoc } from '../../src/engines/kube/kubeconfig.js';
import { nodeReadiness, orchestratorState } from '../../src/engines/kube/kube.js';

const controlPlanes3 = [
  { name: 'leader', ip: '172.30.0.2' },
  { name: 'manager2', ip: '172.30.0.3' },
  { name: 'manager3', ip: '172.30.0.4' },
];

describe('kube node config', () => {
  it('gives control planes their etcd membership and their own API server first', () => {
    const spec = specFromFlags('c', 'kube', 4, 3);
    const cfg = kubeNodeConfig(spec, { node: spec.nodes[1]!, index: 1, ip: '172.30.0.3' }, controlPlanes3);
    expect(cfg.controlPlane).toBe(true);
    expect(cfg.apiServers).toEqual(['https://127.0.0.1:6443', 'https://172.30.0.2:6443', 'https://172.30.0.4:6443']);
    expect(cfg.etcd).toEqual({
      name: 'manager2',
      initialCluster: 'leader=http://172.30.0.2:2380,manager2=http://172.30.0.3:2380,manager3=http://172.30.0.4:2380',
    });
    expect(cfg.nodeLabels).toHaveProperty(['node-role.kubernetes.io/control-plane'], '');
    expect(cfg.nodeTaints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    // Ranges: the pods' is split per node by the controller manager, not here.
    expect([cfg.clusterCidr, cfg.serviceCidr]).toEqual(['10.244.0.0/16', '10.96.0.0/12']);
  });

  it('gives workers every control plane, no etcd, no taint, and keeps their labels', () => {
    const spec = specFromFlags('c', 'kube', 3, 1);
    const worker = { ...spec.nodes[2]!, labels: { disk: 'ssd' } };
    const cfg = kubeNodeConfig(spec, { node: worker, index: 2, ip: '172.30.0.4' }, controlPlanes3.slice(0, 1));
    expect(cfg.controlPlane).toBe(false);
    expect(cfg.etcd).toBeUndefined();
    expect(cfg.apiServers).toEqual(['https://172.30.0.2:6443']);
    expect(cfg.nodeLabels).toEqual({ disk: 'ssd' });
    expect(cfg.nodeTaints).toEqual([]);
    // Kubernetes' own node-failure timings unless the config shortens them.
    expect([cfg.nodeMonitorGracePeriodSeconds, cfg.defaultTolerationSeconds]).toEqual([40, 300]);
    const lab = { ...spec, kube: { nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 20 } };
    const labCfg = kubeNodeConfig(lab, { node: worker, index: 2, ip: '172.30.0.4' }, controlPlanes3.slice(0, 1));
    expect([labCfg.nodeMonitorGracePeriodSeconds, labCfg.defaultTolerationSeconds]).toEqual([10, 20]);
  });

  it('leaves a cluster without workers untainted, as kubeadm/kind do for one node', () => {
    expect(controlPlaneTaints(specFromFlags('c', 'kube', 1, 1))).toEqual([]);
    expect(controlPlaneTaints(specFromFlags('c', 'kube', 3, 3))).toEqual([]);
    expect(controlPlaneTaints(specFromFlags('c', 'kube', 2, 1))).toHaveLength(1);
  });

  it('gives kube nodes a kube section and leaves dockerd on its defaults (pods get their own bridge)', () => {
    const kube = specFromFlags('c', 'kube', 2, 1);
    const kubeCfg = nodeConfig(kube, { node: kube.nodes[1]!, index: 1, ip: '172.30.0.3' }, controlPlanes3.slice(0, 1));
    expect(kubeCfg.dockerd.extraArgs).toBeUndefined();
    expect(kubeCfg.kube?.clusterCidr).toBe('10.244.0.0/16');
    const swarm = specFromFlags('c', 'swarm', 2, 1);
    const swarmCfg = nodeConfig(swarm, { node: swarm.nodes[1]!, index: 1, ip: '172.30.0.3' }, []);
    expect(swarmCfg.dockerd.extraArgs).toBeUndefined();
    expect(swarmCfg.kube).toBeUndefined();
  });
});

describe('kubeconfig', () => {
  const access = { server: 'https://127.0.0.1:40000', caPem: 'CA', certPem: 'CERT', keyPem: 'KEY' };
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-kubeconfig-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes to the first file of $KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigPath({ KUBECONFIG: `/a/b${path.delimiter}/c/d`, HOME: '/home/x' })).toBe('/a/b');
    expect(kubeconfigPath({ HOME: '/home/x' })).toBe('/home/x/.kube/config');
  });

  it('merges its entries beside others, replaces its own, and switches the context', () => {
    const existing: KubeconfigDoc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'other', cluster: { server: 'https://x' } }, { name: 'clusterlab-lab', cluster: { server: 'old' } }],
      users: [{ name: 'other', user: {} }],
      contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }],
      'current-context': 'other',
      preferences: { colors: true },
    };
    const merged = mergeKubeconfig(existing, { clusters: [{ name: 'clusterlab-lab', cluster: { server: 'new' } }], 'current-context': 'clusterlab-lab' });
    expect(merged.clusters?.map((c) => c.name)).toEqual(['other', 'clusterlab-lab']);
    expect(merged.clusters?.[1]?.cluster).toEqual({ server: 'new' });
    expect(merged['current-context']).toBe('clusterlab-lab');
    expect(merged.preferences).toEqual({ colors: true });
    const removed = removeFromKubeconfig(merged, 'lab');
    expect(removed.clusters?.map((c) => c.name)).toEqual(['other']);
    expect(removed['current-context']).toBe('');
    expect(removeFromKubeconfig(existing, 'lab')['current-context']).toBe('other');
  });

  it('installs into and uninstalls from a real file, keeping other entries', async () => {
    const file = path.join(dir, 'config');
    await writeFile(file, YAML.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'mine', cluster: { server: 'https://m' } }], contexts: [], users: [], 'current-context': 'mine' }));
    const env = { KUBECONFIG: file, HOME: dir };
    await installKubeconfig('lab', access, env);
    const installed = YAML.parse(await readFile(file, 'utf8')) as KubeconfigDoc;
    expect(installed['current-context']).toBe('clusterlab-lab');
    expect(installed.clusters?.map((c) => c.name)).toEqual(['mine', 'clusterlab-lab']);
    const user = installed.users?.find((u) => u.name === 'clusterlab-lab')?.user as Record<string, string>;
    expect(Buffer.from(user['client-key-data']!, 'base64').toString()).toBe('KEY');
    await uninstallKubeconfig('lab', env);
    await uninstallKubeconfig('lab', env); // idempotent
    const after = YAML.parse(await readFile(file, 'utf8')) as KubeconfigDoc;
    expect(after.clusters?.map((c) => c.name)).toEqual(['mine']);
    expect(after['current-context']).toBe('');
    await uninstallKubeconfig('lab', { KUBECONFIG: path.join(dir, 'absent'), HOME: dir });
  });

  it('keeps every context when several clusters are made and removed at once (the file is locked)', async () => {
    const file = path.join(dir, 'config');
    const env = { KUBECONFIG: file, HOME: dir };
    const names = Array.from({ length: 6 }, (_, i) => `c${i}`);
    await Promise.all(names.map((n) => installKubeconfig(n, access, env)));
    const all = YAML.parse(await readFile(file, 'utf8')) as KubeconfigDoc;
    expect(all.contexts?.map((c) => c.name).sort()).toEqual(names.map((n) => `clusterlab-${n}`));
    await Promise.all(names.slice(0, 3).map((n) => uninstallKubeconfig(n, env)));
    const left = YAML.parse(await readFile(file, 'utf8')) as KubeconfigDoc;
    expect(left.contexts?.map((c) => c.name).sort()).toEqual(['clusterlab-c3', 'clusterlab-c4', 'clusterlab-c5']);
  });
});

describe('node readiness as kubectl words it', () => {
  it('reads the Ready condition, cordon and role', () => {
    const node = (status?: string, unschedulable?: boolean, cp?: boolean) => ({
      metadata: { name: 'n', labels: (cp ? { 'node-role.kubernetes.io/control-plane': '' } : {}) as Record<string, string> },
      spec: { unschedulable },
      status: { conditions: status ? [{ type: 'Ready', status }] : [] },
    });
    expect(nodeReadiness(node('True'))).toBe('Ready');
    expect(nodeReadiness(node('False'))).toBe('NotReady');
    expect(nodeReadiness(node('Unknown'))).toBe('Unknown');
    expect(nodeReadiness(node())).toBe('Unknown');
    expect(orchestratorState(node('True', true, true))).toEqual({ state: 'Ready', availability: 'SchedulingDisabled', managerStatus: 'control-plane' });
  });
});
