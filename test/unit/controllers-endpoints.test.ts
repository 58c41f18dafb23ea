import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoints, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { setupClusterEndpointsController, controlPlaneAddresses } from '../../src/node/controlplane/controllers/cluster-endpoints.js';
import { setupEndpointsController } from '../../src/node/controlplane/controllers/endpoints.js';
import { desiredSubsets, resolveTargetPort } from '../../src/node/controlplane/controllers/endpoints-plan.js';
import { nodeRanges, planAllocations, setupNodeIpamController } from '../../src/node/controlplane/controllers/node-ipam.js';
import { readyNode, runningPod } from './controller-fixtures.js';
import { eventually, startControlPlane, type ControlPlane } from './controller-harness.js';

function podAt(name: string, ip: string, opts: { ready?: boolean; labels?: Record<string, string>; port?: { name: string; containerPort: number } } = {}): Pod {
  const pod = runningPod(name, 'w1', { labels: opts.labels ?? { app: 'web' }, ready: opts.ready ?? true });
  pod.status!.podIP = ip;
  if (opts.port) pod.spec!.containers[0]!.ports = [{ ...opts.port, protocol: 'TCP' }];
  return pod;
}

const service: Service = {
  metadata: { name: 'web', namespace: 'default', labels: { tier: 'front' } },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

describe('endpoints plan', () => {
  it('lists ready pods as addresses and the others as not ready, per resolved port', () => {
    const pods = [
      podAt('a', '10.244.1.5', { port: { name: 'http', containerPort: 8080 } }),
      podAt('b', '10.244.2.5', { port: { name: 'http', containerPort: 8080 }, ready: false }),
      podAt('c', '10.244.2.6', { port: { name: 'http', containerPort: 9090 } }),
      podAt('d', '10.244.2.7', { port: { name: 'other', containerPort: 1 } }),
      podAt('x', '10.244.2.8', { labels: { app: 'other' }, port: { name: 'http', containerPort: 8080 } }),
    ];
    expect(desiredSubsets(service, pods)).toEqual([
      {
        addresses: [{ ip: '10.244.1.5', nodeName: 'w1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '10.244.2.5', nodeName: 'w1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.244.2.6', nodeName: 'w1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }],
        ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
      },
    ]);
    expect(resolveTargetPort({ port: 80 }, podAt('n', '1.1.1.1'))).toBe(80);
    expect(resolveTargetPort({ port: 80, targetPort: '8443' }, podAt('n', '1.1.1.1'))).toBe(8443);
  });

  it('gives pods /24s of the cluster range in creation order, skipping taken ones', () => {
    expect(nodeRanges('10.244.0.0/16')).toHaveLength(256);
    const nodes: Node[] = [
      { metadata: { name: 'b', creationTimestamp: '2026-01-01T00:00:02Z' } },
      { metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:01Z' } },
      { metadata: { name: 'c', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { podCIDR: '10.244.0.0/24' } },
    ];
    expect([...planAllocations(nodes, '10.244.0.0/16')]).toEqual([
      ['a', '10.244.1.0/24'],
      ['b', '10.244.2.0/24'],
    ]);
    expect(planAllocations(nodes, '10.244.0.0/23').size).toBe(1);
    expect(() => nodeRanges('10.244.0.0/25')).toThrow(/prefix/);
  });

  it('sends cluster services to the Ready control planes (all of them while none is Ready)', () => {
    const plane = (name: string, ip: string, ready: 'True' | 'False'): Node => {
      const node = readyNode(name, { labels: { 'node-role.kubernetes.io/control-plane': '' }, ready });
      node.status!.addresses = [{ type: 'InternalIP', address: ip }];
      return node;
    };
    const worker = readyNode('w1');
    worker.status!.addresses = [{ type: 'InternalIP', address: '172.30.0.9' }];
    expect(controlPlaneAddresses([plane('m2', '172.30.0.3', 'False'), plane('m1', '172.30.0.2', 'True'), worker])).toEqual([{ ip: '172.30.0.2', nodeName: 'm1' }]);
    expect(controlPlaneAddresses([plane('m2', '172.30.0.3', 'False')])).toEqual([{ ip: '172.30.0.3', nodeName: 'm2' }]);
  });
});

describe('network controllers against the API server', () => {
  let plane: ControlPlane | undefined;
  afterEach(async () => {
    await plane?.stop();
    plane = undefined;
  });

  it('keeps Endpoints in step with pods: readiness, label changes, and deletion with the Service', async () => {
    plane = await startControlPlane([setupEndpointsController]);
    const { client } = plane;
    await client.create('/api/v1/namespaces/default/services', service);
    for (const pod of [podAt('a', '10.244.1.5', { port: { name: 'http', containerPort: 8080 } }), podAt('b', '10.244.2.5', { port: { name: 'http', containerPort: 8080 } })]) {
      const { status, ...rest } = pod;
      await client.create('/api/v1/namespaces/default/pods', { ...rest, metadata: { name: rest.metadata!.name, labels: rest.metadata!.labels } });
      await client.patch(`/api/v1/namespaces/default/pods/${rest.metadata!.name}/status`, { status }, 'merge');
    }
    const path = '/api/v1/namespaces/default/endpoints/web';
    const ips = (e: Endpoints, field: 'addresses' | 'notReadyAddresses') => (e.subsets ?? []).flatMap((s) => s[field] ?? []).map((a) => a.ip);
    await eventually('both pods ready in the Endpoints', async () => {
      const e = await client.getOrUndefined<Endpoints>(path);
      return e && ips(e, 'addresses').join() === '10.244.1.5,10.244.2.5' ? e : undefined;
    });
    const e = await client.get<Endpoints>(path);
    expect(e.metadata?.labels).toEqual({ tier: 'front' });
    expect(e.subsets?.[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);

    // A failing readiness probe takes the pod out of rotation.
    await client.patch('/api/v1/namespaces/default/pods/b/status', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'merge');
    await eventually('b not ready', async () => {
      const now = await client.get<Endpoints>(path);
      return ips(now, 'addresses').join() === '10.244.1.5' && ips(now, 'notReadyAddresses').join() === '10.244.2.5' ? true : undefined;
    });
    // Relabelled out of the selector: gone altogether.
    await client.patch('/api/v1/namespaces/default/pods/a', { metadata: { labels: { app: 'moved' } } }, 'merge');
    await eventually('a gone', async () => (ips(await client.get<Endpoints>(path), 'addresses').length === 0 ? true : undefined));
    await client.delete('/api/v1/namespaces/default/services/web');
    await eventually('Endpoints removed with the Service', async () => ((await client.getOrUndefined(path)) === undefined ? true : undefined));
  });

  it('gives each node a pod range once, and keeps kube-dns and kubernetes pointing at the control planes', async () => {
    plane = await startControlPlane([setupNodeIpamController, setupClusterEndpointsController]);
    const { client } = plane;
    for (const [name, ip] of [['leader', '172.30.0.2'], ['worker1', '172.30.0.3']] as const) {
      const node = readyNode(name, name === 'leader' ? { labels: { 'node-role.kubernetes.io/control-plane': '' } } : {});
      const { status, ...rest } = node;
      await client.create('/api/v1/nodes', rest);
      await client.patch(`/api/v1/nodes/${name}/status`, { status: { ...status, addresses: [{ type: 'InternalIP', address: ip }] } }, 'merge');
    }
    const ranges = await eventually('both nodes have a range', async () => {
      const { items } = await client.list<Node>('/api/v1/nodes');
      const cidrs = items.map((n) => n.spec?.podCIDR);
      return cidrs.every(Boolean) ? cidrs : undefined;
    });
    expect(new Set(ranges).size).toBe(2);
    for (const cidr of ranges) expect(cidr).toMatch(/^10\.244\.[01]\.0\/24$/);

    const dns = await eventually('kube-dns Service', () => client.getOrUndefined<Service>('/api/v1/namespaces/kube-system/services/kube-dns'));
    expect(dns.spec?.clusterIP).toBe('10.96.0.10');
    expect(dns.spec?.ports?.map((p) => `${p.name}/${p.protocol}/${p.port}`)).toEqual(['dns/UDP/53', 'dns-tcp/TCP/53']);
    const dnsEndpoints = await eventually('kube-dns endpoints', () => client.getOrUndefined<Endpoints>('/api/v1/namespaces/kube-system/endpoints/kube-dns'));
    expect(dnsEndpoints.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual(['172.30.0.2']);
    const api = await eventually('kubernetes endpoints', async () => {
      const e = await client.getOrUndefined<Endpoints>('/api/v1/namespaces/default/endpoints/kubernetes');
      return e?.subsets ? e : undefined;
    });
    expect(api.subsets?.[0]).toEqual({ addresses: [{ ip: '172.30.0.2', nodeName: 'leader' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] });
  });
});
