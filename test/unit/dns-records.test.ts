import { describe, expect, it } from 'vitest';
import type { Answer, RecordType, SrvAnswer } from 'dns-packet';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import { buildZone, dashedIp, resolve, reverseName, RECORD_TTL, type Resolution, type Zone } from '../../src/node/controlplane/dns/records.js';

function clusterIpService(namespace: string, name: string, clusterIP: string | undefined, ports: Array<{ name?: string; port: number; protocol?: string }> = []): Service {
  return { metadata: { namespace, name }, spec: { clusterIP, ...(clusterIP ? { clusterIPs: [clusterIP] } : {}), ports } };
}

function headlessService(namespace: string, name: string, extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return { metadata: { namespace, name }, spec: { clusterIP: 'None', clusterIPs: ['None'], ...extra } };
}

const SERVICES: Service[] = [
  clusterIpService('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
  clusterIpService('default', 'web', '10.96.0.20', [
    { name: 'http', port: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]),
  clusterIpService('default', 'plain', '10.96.0.21', [{ port: 8080, protocol: 'TCP' }]),
  clusterIpService('default', 'pending', undefined, [{ name: 'http', port: 80 }]),
  clusterIpService('kube-system', 'kube-dns', '10.96.0.10', [
    { name: 'dns', port: 53, protocol: 'UDP' },
    { name: 'dns-tcp', port: 53, protocol: 'TCP' },
  ]),
  clusterIpService('shop', 'cart', '10.96.0.30', [{ name: 'http', port: 80 }]),
  headlessService('default', 'db'),
  headlessService('default', 'db-all', { publishNotReadyAddresses: true }),
  headlessService('default', 'empty'),
  { metadata: { namespace: 'default', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'www.example.com.' } },
  { metadata: { namespace: 'default', name: 'alias' }, spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' } },
  { metadata: { namespace: 'default', name: 'loop' }, spec: { type: 'ExternalName', externalName: 'loop.default.svc.cluster.local' } },
];

const DB_SUBSET = {
  addresses: [{ ip: '10.244.1.5', hostname: 'db-0' }, { ip: '10.244.2.7' }],
  notReadyAddresses: [{ ip: '10.244.1.9', hostname: 'db-2' }],
  ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
};

const ENDPOINTS: Endpoints[] = [
  { metadata: { namespace: 'default', name: 'db' }, subsets: [DB_SUBSET, { addresses: [{ ip: '10.244.2.7' }], ports: [{ port: 9999 }] }] },
  { metadata: { namespace: 'default', name: 'db-all' }, subsets: [DB_SUBSET] },
  { metadata: { namespace: 'default', name: 'empty' }, subsets: [{ notReadyAddresses: [{ ip: '10.244.3.3' }], ports: [{ name: 'pg', port: 5432 }] }] },
  // A ClusterIP service's endpoints make no names of their own.
  { metadata: { namespace: 'default', name: 'web' }, subsets: [{ addresses: [{ ip: '10.244.1.40', hostname: 'web-a' }], ports: [{ name: 'http', port: 8080 }] }] },
];

const SERIAL = 1_700_000_000;
const zone: Zone = buildZone(SERVICES, ENDPOINTS, SERIAL);

type Answered = Resolution & { kind: 'answer' };

function ask(name: string, type: RecordType): Resolution {
  return resolve(zone, { name, type, class: 'IN' });
}

/** Before the first sync there is no zone yet. */
function askUnsynced(name: string, type: RecordType): Resolution {
  return resolve(undefined, { name, type, class: 'IN' });
}

function answered(name: string, type: RecordType): Answered {
  const result = ask(name, type);
  if (result.kind !== 'answer') throw new Error(`${name} ${type}: expected an answer, got ${result.kind}`);
  return result;
}

function data(records: readonly Answer[]): unknown[] {
  return records.map((r) => (r as { data: unknown }).data);
}

function expectNegative(result: Answered, rcode: 'NOERROR' | 'NXDOMAIN'): void {
  expect(result.rcode).toBe(rcode);
  expect(result.answers).toEqual([]);
  expect(result.authorities).toHaveLength(1);
  expect(result.authorities[0]).toMatchObject({ type: 'SOA', name: 'cluster.local', ttl: RECORD_TTL, data: { serial: SERIAL, minimum: RECORD_TTL } });
}

describe('ClusterIP services', () => {
  it('answers <svc>.<ns>.svc.cluster.local A with the ClusterIP, authoritatively, TTL 5', () => {
    const result = answered('kubernetes.default.svc.cluster.local', 'A');
    expect(result.rcode).toBe('NOERROR');
    expect(result.authoritative).toBe(true);
    expect(result.answers).toEqual([{ type: 'A', name: 'kubernetes.default.svc.cluster.local', ttl: RECORD_TTL, data: '10.96.0.1' }]);
  });

  it('matches names case-insensitively and keeps the asked spelling as the owner name', () => {
    const result = answered('KUBERNETES.Default.Svc.Cluster.Local.', 'A');
    expect(data(result.answers)).toEqual(['10.96.0.1']);
    expect(result.answers[0]!.name).toBe('KUBERNETES.Default.Svc.Cluster.Local.');
  });

  it('answers other namespaces', () => {
    expect(data(answered('cart.shop.svc.cluster.local', 'A').answers)).toEqual(['10.96.0.30']);
    expectNegative(answered('cart.default.svc.cluster.local', 'A'), 'NXDOMAIN');
  });

  it('answers NOERROR with no answer and the SOA for a type the name does not have (AAAA, TXT)', () => {
    expectNegative(answered('web.default.svc.cluster.local', 'AAAA'), 'NOERROR');
    expectNegative(answered('web.default.svc.cluster.local', 'TXT'), 'NOERROR');
  });

  it('answers NXDOMAIN with the SOA for a Service that does not exist', () => {
    expectNegative(answered('nope.default.svc.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('a.b.web.default.svc.cluster.local', 'A'), 'NXDOMAIN');
  });

  it('has no name for a Service whose ClusterIP is not allocated yet', () => {
    expectNegative(answered('pending.default.svc.cluster.local', 'A'), 'NXDOMAIN');
  });

  it('gives AAAA for IPv6 ClusterIPs', () => {
    const z = buildZone([{ metadata: { namespace: 'default', name: 'dual' }, spec: { clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50', 'fd00::50'] } }], [], 1);
    const aaaa = resolve(z, { name: 'dual.default.svc.cluster.local', type: 'AAAA' }) as Answered;
    expect(data(aaaa.answers)).toEqual(['fd00::50']);
    const a = resolve(z, { name: 'dual.default.svc.cluster.local', type: 'A' }) as Answered;
    expect(data(a.answers)).toEqual(['10.96.0.50']);
  });

  it('does not make names for the endpoints of a ClusterIP Service (the spec gives those to headless ones)', () => {
    expectNegative(answered('web-a.web.default.svc.cluster.local', 'A'), 'NXDOMAIN');
  });

  it('answers ANY with every record of the name', () => {
    expect(data(answered('web.default.svc.cluster.local', 'ANY' as RecordType).answers)).toEqual(['10.96.0.20']);
  });
});

describe('SRV records', () => {
  it('gives one SRV per named port of a ClusterIP Service, targeting the Service, its A record in the additional section', () => {
    const result = answered('_http._tcp.web.default.svc.cluster.local', 'SRV');
    expect(result.rcode).toBe('NOERROR');
    expect(result.answers).toEqual([
      { type: 'SRV', name: '_http._tcp.web.default.svc.cluster.local', ttl: RECORD_TTL, data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } },
    ]);
    expect(result.additionals).toEqual([{ type: 'A', name: 'web.default.svc.cluster.local', ttl: RECORD_TTL, data: '10.96.0.20' }]);
  });

  it('uses the port protocol in the name', () => {
    expect((answered('_dns._udp.web.default.svc.cluster.local', 'SRV').answers[0] as SrvAnswer).data.port).toBe(53);
    expectNegative(answered('_dns._tcp.web.default.svc.cluster.local', 'SRV'), 'NXDOMAIN');
    expectNegative(answered('_http._udp.web.default.svc.cluster.local', 'SRV'), 'NXDOMAIN');
    expect(data(answered('_HTTPS._TCP.kubernetes.default.svc.cluster.local', 'SRV').answers)).toEqual([
      { priority: 0, weight: 100, port: 443, target: 'kubernetes.default.svc.cluster.local' },
    ]);
  });

  it('has no SRV for unnamed ports', () => {
    expectNegative(answered('_tcp.plain.default.svc.cluster.local', 'SRV'), 'NXDOMAIN');
    expect(data(answered('plain.default.svc.cluster.local', 'A').answers)).toEqual(['10.96.0.21']);
  });

  it('answers NODATA for the SRV name asked with another type, and for the _proto name between', () => {
    expectNegative(answered('_http._tcp.web.default.svc.cluster.local', 'A'), 'NOERROR');
    expectNegative(answered('_tcp.web.default.svc.cluster.local', 'SRV'), 'NOERROR');
  });

  it('gives a headless Service one SRV per ready endpoint and named port, targeting each endpoint, their A records additional', () => {
    const result = answered('_pg._tcp.db.default.svc.cluster.local', 'SRV');
    expect(data(result.answers)).toEqual([
      { priority: 0, weight: 50, port: 5432, target: 'db-0.db.default.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5432, target: '10-244-2-7.db.default.svc.cluster.local' },
    ]);
    expect(result.additionals.map((r) => [r.name, (r as { data: unknown }).data])).toEqual([
      ['db-0.db.default.svc.cluster.local', '10.244.1.5'],
      ['10-244-2-7.db.default.svc.cluster.local', '10.244.2.7'],
    ]);
  });
});

describe('headless services', () => {
  it('answers A with every ready address, not the not-ready ones, each address once', () => {
    const result = answered('db.default.svc.cluster.local', 'A');
    expect(result.rcode).toBe('NOERROR');
    expect(data(result.answers)).toEqual(['10.244.1.5', '10.244.2.7']);
  });

  it('includes not-ready addresses when the Service publishes them', () => {
    expect(data(answered('db-all.default.svc.cluster.local', 'A').answers)).toEqual(['10.244.1.5', '10.244.2.7', '10.244.1.9']);
    expect(data(answered('db-2.db-all.default.svc.cluster.local', 'A').answers)).toEqual(['10.244.1.9']);
  });

  it('honours the tolerate-unready-endpoints annotation the spec names', () => {
    const service: Service = { metadata: { namespace: 'default', name: 'db', annotations: { 'service.alpha.kubernetes.io/tolerate-unready-endpoints': 'true' } }, spec: { clusterIP: 'None' } };
    const z = buildZone([service], ENDPOINTS, 1);
    expect(data((resolve(z, { name: 'db.default.svc.cluster.local', type: 'A' }) as Answered).answers)).toEqual(['10.244.1.5', '10.244.2.7', '10.244.1.9']);
  });

  it('names each endpoint by its hostname, else by its dashed IP', () => {
    expect(data(answered('db-0.db.default.svc.cluster.local', 'A').answers)).toEqual(['10.244.1.5']);
    expect(data(answered('10-244-2-7.db.default.svc.cluster.local', 'A').answers)).toEqual(['10.244.2.7']);
    expectNegative(answered('db-2.db.default.svc.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('10-244-1-5.db.default.svc.cluster.local', 'A'), 'NXDOMAIN');
  });

  it('gives one A record per IP of a hostname that has several', () => {
    const endpoints: Endpoints = { metadata: { namespace: 'default', name: 'db' }, subsets: [{ addresses: [{ ip: '10.244.1.5', hostname: 'db-0' }, { ip: '10.244.1.6', hostname: 'db-0' }] }] };
    const z = buildZone([headlessService('default', 'db')], [endpoints], 1);
    expect(data((resolve(z, { name: 'db-0.db.default.svc.cluster.local', type: 'A' }) as Answered).answers)).toEqual(['10.244.1.5', '10.244.1.6']);
  });

  it('answers NXDOMAIN for a headless Service without ready endpoints, as the spec says', () => {
    expectNegative(answered('empty.default.svc.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('_pg._tcp.empty.default.svc.cluster.local', 'SRV'), 'NXDOMAIN');
  });

  it('answers AAAA of an IPv4-only headless Service with NODATA', () => {
    expectNegative(answered('db.default.svc.cluster.local', 'AAAA'), 'NOERROR');
  });
});

describe('ExternalName services', () => {
  it('answers with a CNAME to the external name, to be followed upstream', () => {
    const result = answered('ext.default.svc.cluster.local', 'A');
    expect(result.rcode).toBe('NOERROR');
    expect(result.answers).toEqual([{ type: 'CNAME', name: 'ext.default.svc.cluster.local', ttl: RECORD_TTL, data: 'www.example.com' }]);
    expect(result.chase).toEqual({ name: 'www.example.com', type: 'A' });
  });

  it('answers a CNAME question with the CNAME alone', () => {
    const result = answered('ext.default.svc.cluster.local', 'CNAME');
    expect(data(result.answers)).toEqual(['www.example.com']);
    expect(result.chase).toBeUndefined();
  });

  it('follows a CNAME into the zone itself', () => {
    const result = answered('alias.default.svc.cluster.local', 'A');
    expect(result.answers.map((r) => [r.type, (r as { data: unknown }).data])).toEqual([
      ['CNAME', 'web.default.svc.cluster.local'],
      ['A', '10.96.0.20'],
    ]);
    expect(result.chase).toBeUndefined();
  });

  it('stops following a CNAME loop', () => {
    const result = answered('loop.default.svc.cluster.local', 'A');
    expect(result.rcode).toBe('NOERROR');
    expect(result.answers.length).toBeGreaterThan(1);
    expect(result.answers.length).toBeLessThan(12);
    expect(result.answers.every((r) => r.type === 'CNAME')).toBe(true);
    expect(result.chase).toBeUndefined();
  });
});

describe('pod records', () => {
  it('answers <dashed-ip>.<ns>.pod.cluster.local with the address, for any namespace', () => {
    expect(answered('10-244-1-5.default.pod.cluster.local', 'A').answers).toEqual([{ type: 'A', name: '10-244-1-5.default.pod.cluster.local', ttl: RECORD_TTL, data: '10.244.1.5' }]);
    expect(data(answered('10-244-9-9.anything.pod.cluster.local', 'A').answers)).toEqual(['10.244.9.9']);
    expect(data(answered('fd00--5.default.pod.cluster.local', 'AAAA').answers)).toEqual(['fd00::5']);
  });

  it('answers NXDOMAIN for what is not a dashed address, NODATA for the namespace level and for AAAA of an IPv4 pod', () => {
    expectNegative(answered('300-1-1-1.default.pod.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('10-244-1.default.pod.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('x.10-244-1-5.default.pod.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('default.pod.cluster.local', 'A'), 'NOERROR');
    expectNegative(answered('10-244-1-5.default.pod.cluster.local', 'AAAA'), 'NOERROR');
  });
});

describe('the zone itself', () => {
  it('answers NODATA for the names that exist only as parents: the zone, svc, pod and a namespace with Services', () => {
    for (const name of ['cluster.local', 'svc.cluster.local', 'pod.cluster.local', 'default.svc.cluster.local', 'kube-system.svc.cluster.local', 'shop.svc.cluster.local']) {
      expectNegative(answered(name, 'A'), 'NOERROR');
    }
  });

  it('answers NXDOMAIN for a namespace without Services and for unknown names in the zone', () => {
    expectNegative(answered('nosuchns.svc.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('web.nosuchns.svc.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('google.com.default.svc.cluster.local', 'A'), 'NXDOMAIN');
    expectNegative(answered('something.cluster.local', 'A'), 'NXDOMAIN');
  });

  it('answers SOA and NS at the apex, the nameserver being the kube-dns Service', () => {
    const soa = answered('cluster.local', 'SOA');
    expect(soa.answers).toEqual([
      {
        type: 'SOA',
        name: 'cluster.local',
        ttl: RECORD_TTL,
        data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: SERIAL, refresh: 7200, retry: 1800, expire: 86400, minimum: RECORD_TTL },
      },
    ]);
    const ns = answered('cluster.local', 'NS');
    expect(data(ns.answers)).toEqual(['ns.dns.cluster.local']);
    expect(data(ns.additionals)).toEqual(['10.96.0.10']);
  });

  it('carries the schema version in dns-version TXT', () => {
    expect(data(answered('dns-version.cluster.local', 'TXT').answers)).toEqual(['1.0.1']);
  });

  it('refuses zone transfers and other classes', () => {
    expect(answered('cluster.local', 'AXFR').rcode).toBe('REFUSED');
    const chaos = resolve(zone, { name: 'kubernetes.default.svc.cluster.local', type: 'A', class: 'CH' });
    expect(chaos).toMatchObject({ kind: 'answer', rcode: 'REFUSED' });
  });
});

describe('reverse lookups', () => {
  it('answers PTR for ClusterIPs and headless endpoints, not authoritatively', () => {
    const service = answered('1.0.96.10.in-addr.arpa', 'PTR');
    expect(service.answers).toEqual([{ type: 'PTR', name: '1.0.96.10.in-addr.arpa', ttl: RECORD_TTL, data: 'kubernetes.default.svc.cluster.local' }]);
    expect(service.authoritative).toBe(false);
    expect(data(answered('5.1.244.10.in-addr.arpa.', 'PTR').answers)).toEqual(['db-0.db.default.svc.cluster.local', 'db-0.db-all.default.svc.cluster.local']);
    expect(data(answered('7.2.244.10.IN-ADDR.ARPA', 'PTR').answers)).toEqual(['10-244-2-7.db.default.svc.cluster.local', '10-244-2-7.db-all.default.svc.cluster.local']);
  });

  it('forwards the reverse names it does not know, and all of them before the first sync', () => {
    expect(ask('99.99.99.10.in-addr.arpa', 'PTR')).toEqual({ kind: 'forward' });
    expect(askUnsynced('1.0.96.10.in-addr.arpa', 'PTR')).toEqual({ kind: 'forward' });
  });

  it('spells reverse names and dashed addresses as the spec does', () => {
    expect(reverseName('10.96.0.1')).toBe('1.0.96.10.in-addr.arpa');
    expect(reverseName('fd00::1')).toBeUndefined();
    expect(dashedIp('10.244.1.5')).toBe('10-244-1-5');
    expect(dashedIp('fd00::5')).toBe('fd00--5');
  });
});

describe('names outside the zone and before the first sync', () => {
  it('forwards names outside cluster.local, synced or not', () => {
    expect(ask('example.com', 'A')).toEqual({ kind: 'forward' });
    expect(askUnsynced('example.com', 'A')).toEqual({ kind: 'forward' });
    expect(ask('notcluster.local', 'A')).toEqual({ kind: 'forward' });
  });

  it('reports names in the zone as not synced until the zone is known', () => {
    expect(askUnsynced('kubernetes.default.svc.cluster.local', 'A')).toEqual({ kind: 'not-synced' });
    expect(askUnsynced('cluster.local', 'SOA')).toEqual({ kind: 'not-synced' });
  });
});
