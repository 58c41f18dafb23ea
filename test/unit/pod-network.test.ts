import { describe, expect, it } from 'vitest';
import type { Endpoints, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { cidrContains, desiredRoutes, gatewayOf, PodNetwork, podRoutesIn, type CommandRunner } from '../../src/node/agent/pod-network.js';
import { buildProxyRules, chainsInSave, JUMPS, jumpRule, readyEndpoints, serviceChain } from '../../src/node/agent/proxy-rules.js';
import { parseResolvConf, podResolvConf } from '../../src/node/agent/resolv-conf.js';
import { ServiceProxy } from '../../src/node/agent/service-proxy.js';
import type { DockerClient } from '../../src/node/agent/docker-client.js';
import { dnsServiceIp } from '../../src/node/shared/cluster-dns.js';

const DNS = { nameserver: '10.96.0.10', domain: 'cluster.local' };

function pod(spec: Pod['spec'] = { containers: [] }, namespace = 'shop'): Pod {
  return { metadata: { name: 'p', namespace, uid: 'u1' }, spec };
}

describe('pod resolv.conf (kubelet dnsPolicy rules)', () => {
  const nodeConf = 'nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0\n';

  it('ClusterFirst: cluster DNS, the namespace search path, ndots:5', () => {
    expect(podResolvConf(pod(), DNS, nodeConf)).toBe(
      'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    );
  });

  it('host-network pods use the node resolver unless ClusterFirstWithHostNet', () => {
    expect(podResolvConf(pod({ containers: [], hostNetwork: true }), DNS, nodeConf)).toBe('nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0\n');
    expect(podResolvConf(pod({ containers: [], hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), DNS, nodeConf)).toContain('nameserver 10.96.0.10\n');
    expect(podResolvConf(pod({ containers: [], dnsPolicy: 'Default' }), DNS, nodeConf)).toContain('nameserver 127.0.0.11\n');
  });

  it('merges dnsConfig: extra servers and searches appended, options override by name; None uses only dnsConfig', () => {
    const merged = podResolvConf(
      pod({ containers: [], dnsConfig: { nameservers: ['1.1.1.1'], searches: ['extra.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }),
      DNS,
      nodeConf,
    );
    expect(merged).toBe('nameserver 10.96.0.10\nnameserver 1.1.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local extra.example\noptions ndots:2 edns0\n');
    expect(podResolvConf(pod({ containers: [], dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'] } }), DNS, nodeConf)).toBe('nameserver 9.9.9.9\n');
    expect(parseResolvConf('# c\nnameserver 1.2.3.4 # x\ndomain a.b\n').searches).toEqual(['a.b']);
  });

  it('puts the kube-dns Service on the tenth address of the service range', () => {
    expect(dnsServiceIp('10.96.0.0/12')).toBe('10.96.0.10');
    expect(dnsServiceIp('172.20.0.0/16')).toBe('172.20.0.10');
  });
});

describe('routes between nodes', () => {
  const node = (name: string, ip: string, cidr?: string): Node => ({
    metadata: { name },
    spec: cidr ? { podCIDR: cidr } : {},
    status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
  });

  it('routes every other node range through that node', () => {
    const nodes = [node('leader', '172.30.0.2', '10.244.0.0/24'), node('worker2', '172.30.0.4', '10.244.2.0/24'), node('worker1', '172.30.0.3', '10.244.1.0/24'), node('new', '172.30.0.5')];
    expect(desiredRoutes(nodes, 'worker1')).toEqual([
      { cidr: '10.244.0.0/24', via: '172.30.0.2' },
      { cidr: '10.244.2.0/24', via: '172.30.0.4' },
    ]);
  });

  it('reads only gateway routes inside the pod network from the route table', () => {
    const table = [
      'default via 172.30.0.1 dev eth0',
      '10.244.0.0/24 via 172.30.0.2 dev eth0',
      '10.244.1.0/24 dev cl-pods proto kernel scope link src 10.244.1.1',
      '10.1.0.0/24 via 172.30.0.9 dev eth0',
      '172.30.0.0/16 dev eth0 proto kernel scope link src 172.30.0.3',
    ].join('\n');
    expect(podRoutesIn(table, '10.244.0.0/16')).toEqual([{ cidr: '10.244.0.0/24', via: '172.30.0.2' }]);
    expect(cidrContains('10.244.0.0/16', '10.244.255.0/24')).toBe(true);
    expect(cidrContains('10.244.0.0/16', '10.245.0.0/24')).toBe(false);
    expect(cidrContains('10.244.0.0/24', '10.244.0.0/16')).toBe(false);
    expect(gatewayOf('10.244.3.0/24')).toBe('10.244.3.1');
  });

  it('adds missing routes and removes stale ones with ip(8)', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (file, args) => {
      calls.push([file, ...args].join(' '));
      return args[2] === 'show' ? '10.244.0.0/24 via 172.30.0.2 dev eth0\n10.244.5.0/24 via 172.30.0.9 dev eth0\n' : '';
    };
    const network = new PodNetwork({} as DockerClient, run, () => undefined);
    await network.syncRoutes([{ cidr: '10.244.0.0/24', via: '172.30.0.2' }, { cidr: '10.244.2.0/24', via: '172.30.0.4' }], '10.244.0.0/16');
    expect(calls).toEqual(['ip -4 route show', 'ip route del 10.244.5.0/24 via 172.30.0.9', 'ip route replace 10.244.2.0/24 via 172.30.0.4']);
  });
});

describe('Service rules (kube-proxy iptables mode)', () => {
  const web: Service = {
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'NodePort', clusterIP: '10.96.12.34', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }] },
  };
  const webEndpoints: Endpoints = {
    metadata: { name: 'web', namespace: 'shop' },
    subsets: [
      {
        addresses: [{ ip: '10.244.2.7' }, { ip: '10.244.1.5' }, { ip: '10.244.1.10' }],
        notReadyAddresses: [{ ip: '10.244.2.9' }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  };
  const rules = (services: Service[], endpoints: Endpoints[], extra: Partial<Parameters<typeof buildProxyRules>[0]> = {}): string =>
    buildProxyRules({ services, endpoints: new Map(endpoints.map((e) => [`${e.metadata?.namespace}/${e.metadata?.name}`, e])), clusterCidr: '10.244.0.0/16', ...extra });

  it('takes only ready addresses, in address order', () => {
    expect(readyEndpoints(webEndpoints, web.spec!.ports![0]!)).toEqual([
      { ip: '10.244.1.5', port: 8080 },
      { ip: '10.244.1.10', port: 8080 },
      { ip: '10.244.2.7', port: 8080 },
    ]);
  });

  it('spreads a ClusterIP evenly over the ready endpoints and DNATs to each', () => {
    const text = rules([web], [webEndpoints]);
    const svc = serviceChain('shop/web:http', 'tcp');
    const lines = text.split('\n');
    expect(lines).toContain(`-A KUBE-SERVICES -d 10.96.12.34/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web:http cluster IP" -j ${svc}`);
    const picks = lines.filter((l) => l.startsWith(`-A ${svc} -m comment`));
    expect(picks).toHaveLength(3);
    expect(picks[0]).toContain('--probability 0.3333333333');
    expect(picks[1]).toContain('--probability 0.5000000000');
    expect(picks[2]).not.toContain('statistic');
    for (const ip of ['10.244.1.5', '10.244.1.10', '10.244.2.7']) expect(text).toContain(`-j DNAT --to-destination ${ip}:8080`);
    expect(text).not.toContain('10.244.2.9');
    // Node ports: every local address, through a chain that marks for masquerade.
    expect(text).toMatch(/-A KUBE-NODEPORTS -p tcp -m tcp --dport 30080 .*-j KUBE-EXT-/);
    const last = lines.filter((l) => l.startsWith('-A KUBE-SERVICES')).at(-1);
    expect(last).toContain('--dst-type LOCAL');
    expect(text).toContain('-A KUBE-POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16');
    expect(text.match(/^COMMIT$/gm)).toHaveLength(2);
  });

  it('rejects at once when a Service has no ready endpoint', () => {
    const text = rules([web], [{ ...webEndpoints, subsets: [{ notReadyAddresses: [{ ip: '10.244.2.9' }], ports: [{ name: 'http', port: 8080 }] }] }]);
    expect(text).toContain('-A KUBE-SERVICES -d 10.96.12.34/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web:http has no endpoints" -j REJECT');
    expect(text).toContain('-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080');
    expect(text).not.toContain('DNAT');
  });

  it('keeps a client on one endpoint with sessionAffinity ClientIP', () => {
    const sticky = { ...web, spec: { ...web.spec, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } };
    const text = rules([sticky], [webEndpoints]);
    expect(text.match(/--rcheck --seconds 60 --reap/g)).toHaveLength(3);
    expect(text.match(/--rsource --set -j DNAT/g)).toHaveLength(3);
  });

  it('skips headless services, deletes chains of services that are gone, masquerades same-bridge DNAT without br_netfilter', () => {
    const headless: Service = { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } };
    const stale = 'KUBE-SVC-0000000000000000';
    const text = rules([headless], [], { existingChains: { nat: ['KUBE-SERVICES', stale, 'DOCKER'], filter: [] }, localPodCidrWithoutBridgeFilter: '10.244.1.0/24' });
    expect(text).not.toContain('5432');
    expect(text).toContain(`:${stale} - [0:0]`);
    expect(text).toContain(`-X ${stale}`);
    expect(text).not.toContain('-X DOCKER');
    expect(text).toContain('-s 10.244.1.0/24 -d 10.244.1.0/24 -m conntrack --ctstate DNAT');
    expect(chainsInSave('*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SVC-AB - [0:0]\n-A X\n')).toEqual(['PREROUTING', 'KUBE-SVC-AB']);
  });

  it('restores atomically, then adds only the missing jumps, in order', async () => {
    const calls: Array<{ args: string[]; input?: string }> = [];
    const present = new Set([`nat PREROUTING ${jumpRule(JUMPS[0]!).join(' ')}`]);
    const run: CommandRunner = async (file, args, input) => {
      calls.push({ args: [file, ...args], ...(input ? { input } : {}) });
      if (args.includes('-C')) {
        const table = args[args.indexOf('-t') + 1];
        const chain = args[args.indexOf('-C') + 1];
        if (!present.has(`${table} ${chain} ${args.slice(args.indexOf('-C') + 2).join(' ')}`)) throw new Error('no such rule');
      }
      return file === 'iptables-save' ? '*nat\n:KUBE-SVC-OLD0000000000000 - [0:0]\nCOMMIT\n' : '';
    };
    await new ServiceProxy(run, () => undefined).sync({ services: [web], endpoints: new Map([['shop/web', webEndpoints]]), clusterCidr: '10.244.0.0/16' });
    const restore = calls.find((c) => c.args[0] === 'iptables-restore')!;
    expect(restore.args).toEqual(['iptables-restore', '--noflush', '-w', '5']);
    expect(restore.input).toContain('-X KUBE-SVC-OLD0000000000000');
    const inserts = calls.filter((c) => c.args.includes('-I')).map((c) => `${c.args[4]} ${c.args[6]} ${c.args.at(-1)}`);
    // Inserted at position 1 in reverse: the first of JUMPS ends up first.
    expect(inserts).toEqual([
      'filter INPUT KUBE-EXTERNAL-SERVICES',
      'filter OUTPUT KUBE-SERVICES',
      'filter FORWARD KUBE-FORWARD',
      'filter FORWARD KUBE-SERVICES',
      'nat POSTROUTING KUBE-POSTROUTING',
      'nat OUTPUT KUBE-SERVICES',
    ]);
  });
});
