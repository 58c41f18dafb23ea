/**
 * The DNS daemon on loopback: real packets over UDP and TCP to a DnsServer on a random port,
 * a fake upstream nameserver (UDP and TCP) for forwarding, and a fake source of Services and
 * Endpoints. Also prints (does not assert) how many lookups per second it answers.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, RecordType } from 'dns-packet';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import { ApiClient } from '../../src/node/shared/api-client.js';
import { exchangeTcp, exchangeUdp, Forwarder, parseNameservers, type UpstreamServer } from '../../src/node/controlplane/dns/forwarder.js';
import { dnsProbe } from '../../src/node/controlplane/dns/probe.js';
import { DnsServer } from '../../src/node/controlplane/dns/server.js';
import { kubeDaemons } from '../../src/node/supervisor/kube.js';
import { KUBE_PKI_FILES, type NodeConfig } from '../../src/common/node-config.js';
import { InformerObjects, ZoneCache, type ClusterObjects } from '../../src/node/controlplane/dns/source.js';
import { frameTcpMessage, RCODES, rcodeOf, TcpMessageReader } from '../../src/node/controlplane/dns/wire.js';
import { startFakeApi } from './agent-fake-api.js';

// ---------------------------------------------------------------------------------------------
// Fakes

class FakeObjects implements ClusterObjects {
  private isSynced = false;
  private changes = 0;
  private serviceList: Service[] = [];
  private endpointList: Endpoints[] = [];

  set(services: Service[], endpoints: Endpoints[]): void {
    this.serviceList = services;
    this.endpointList = endpoints;
    this.isSynced = true;
    this.changes++;
  }

  synced(): boolean {
    return this.isSynced;
  }

  generation(): number {
    return this.changes;
  }

  services(): Service[] {
    return this.serviceList;
  }

  endpoints(): Endpoints[] {
    return this.endpointList;
  }
}

interface FakeUpstream {
  server: UpstreamServer;
  /** Every query it received: transport, id, name. */
  received: Array<{ transport: 'udp' | 'tcp'; id: number; name: string }>;
  close(): Promise<void>;
}

const MANY_ADDRESSES = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);

/** What the fake upstream knows; `huge.example` ignores UDP limits on purpose (a careless upstream). */
function upstreamAnswer(query: DecodedPacket): Packet {
  const question = query.questions![0]!;
  const a = (data: string): Answer => ({ type: 'A', name: question.name, ttl: 60, data });
  const base = { type: 'response' as const, id: query.id, questions: query.questions, flags: dnsPacket.RECURSION_AVAILABLE | (query.flags! & dnsPacket.RECURSION_DESIRED) };
  switch (question.name.toLowerCase()) {
    case 'example.com':
      return { ...base, answers: [a('93.184.216.34')] };
    case 'www.example.com':
      return { ...base, answers: question.type === 'A' ? [a('192.0.2.53')] : [] };
    case 'huge.example':
      return { ...base, answers: MANY_ADDRESSES.map(a) };
    case '9.0.96.10.in-addr.arpa':
      return { ...base, answers: [{ type: 'PTR', name: question.name, ttl: 60, data: 'outside.example' }] };
    default:
      return { ...base, flags: base.flags | RCODES.NXDOMAIN };
  }
}

async function startFakeUpstream(): Promise<FakeUpstream> {
  const received: FakeUpstream['received'] = [];
  const handle = (raw: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
    const query = dnsPacket.decode(raw);
    const name = query.questions![0]!.name;
    received.push({ transport, id: query.id!, name });
    if (name === 'silent.example') return undefined;
    return dnsPacket.encode(upstreamAnswer(query));
  };
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((done) => udp.bind(0, '127.0.0.1', done));
  const port = udp.address().port;
  udp.on('message', (message, remote) => {
    const reply = handle(message, 'udp');
    if (reply) udp.send(reply, remote.port, remote.address);
  });
  const tcp = net.createServer((socket) => {
    const reader = new TcpMessageReader();
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        const reply = handle(message, 'tcp');
        if (reply) socket.write(frameTcpMessage(reply));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((done) => tcp.listen(port, '127.0.0.1', done));
  return {
    server: { address: '127.0.0.1', port },
    received,
    close: async () => {
      udp.close();
      await new Promise<void>((done) => tcp.close(() => done()));
    },
  };
}

/** An upstream that takes queries and never answers (UDP and TCP). */
async function startSilentUpstream(): Promise<{ server: UpstreamServer; close(): Promise<void> }> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((done) => udp.bind(0, '127.0.0.1', done));
  const port = udp.address().port;
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((done) => tcp.listen(port, '127.0.0.1', done));
  return {
    server: { address: '127.0.0.1', port },
    close: async () => {
      udp.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => tcp.close(() => done()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Client side

let nextId = 1;

function encodeQuery(name: string, type: RecordType, opts: { id?: number; ednsSize?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? nextId++ % 0x10000,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: opts.ednsSize ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.ednsSize, flags: 0, options: [] } as unknown as Answer] : [],
  });
}

function sendUdp(port: number, raw: Buffer, timeoutMs = 3_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no UDP answer'));
    }, timeoutMs);
    socket.once('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message);
    });
    socket.send(raw, port, '127.0.0.1');
  });
}

/** Sends several queries on one TCP connection; resolves with the replies by id. */
function sendTcp(port: number, raws: Buffer[], timeoutMs = 3_000): Promise<Map<number, Buffer>> {
  return new Promise((resolve, reject) => {
    const replies = new Map<number, Buffer>();
    const reader = new TcpMessageReader();
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP: ${replies.size} of ${raws.length} answers`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(Buffer.concat(raws.map(frameTcpMessage))));
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) replies.set(message.readUInt16BE(0), Buffer.from(message));
      if (replies.size === raws.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
    socket.on('error', reject);
  });
}

async function askUdp(port: number, name: string, type: RecordType, opts: { ednsSize?: number } = {}): Promise<DecodedPacket> {
  return dnsPacket.decode(await sendUdp(port, encodeQuery(name, type, opts)));
}

async function askTcp(port: number, name: string, type: RecordType): Promise<DecodedPacket> {
  const raw = encodeQuery(name, type);
  const replies = await sendTcp(port, [raw]);
  return dnsPacket.decode(replies.get(raw.readUInt16BE(0))!);
}

function rcode(packet: DecodedPacket): number {
  return rcodeOf(packet.flags ?? 0);
}

function addresses(packet: DecodedPacket): unknown[] {
  return (packet.answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: unknown }).data);
}

// ---------------------------------------------------------------------------------------------
// The cluster the tests look at

const SERVICES: Service[] = [
  { metadata: { namespace: 'default', name: 'kubernetes' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } },
  { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
  { metadata: { namespace: 'default', name: 'big' }, spec: { clusterIP: 'None' } },
  { metadata: { namespace: 'default', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } },
  { metadata: { namespace: 'default', name: 'gone' }, spec: { type: 'ExternalName', externalName: 'unknown.example' } },
];
const BIG_ADDRESSES = Array.from({ length: 40 }, (_, i) => `10.244.${1 + Math.floor(i / 20)}.${10 + i}`);
const ENDPOINTS: Endpoints[] = [
  { metadata: { namespace: 'default', name: 'big' }, subsets: [{ addresses: BIG_ADDRESSES.map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080 }] }] },
];

describe('DnsServer on loopback', () => {
  let upstream: FakeUpstream;
  let objects: FakeObjects;
  let server: DnsServer;
  let port: number;
  const logs: string[] = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    objects = new FakeObjects();
    const zone = new ZoneCache(objects);
    server = new DnsServer({
      host: '127.0.0.1',
      port: 0,
      zone: () => zone.current(),
      upstream: new Forwarder([upstream.server], { timeoutMs: 500, log: (l) => logs.push(l) }),
      log: (l) => logs.push(l),
    });
    port = await server.listen();
  });

  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  describe('before Services and Endpoints are read', () => {
    it('answers SERVFAIL for cluster names, over UDP and TCP', async () => {
      const udp = await askUdp(port, 'kubernetes.default.svc.cluster.local', 'A');
      expect(rcode(udp)).toBe(RCODES.SERVFAIL);
      expect(udp.answers).toEqual([]);
      expect(rcode(await askTcp(port, 'kubernetes.default.svc.cluster.local', 'A'))).toBe(RCODES.SERVFAIL);
    });

    it('still forwards other names: they never depend on the API', async () => {
      const reply = await askUdp(port, 'example.com', 'A');
      expect(rcode(reply)).toBe(RCODES.NOERROR);
      expect(addresses(reply)).toEqual(['93.184.216.34']);
    });
  });

  describe('once synced', () => {
    beforeAll(() => objects.set(SERVICES, ENDPOINTS));

    it('answers a Service A record over UDP, with the query id, AA and the question echoed', async () => {
      const raw = encodeQuery('Kubernetes.Default.svc.cluster.local', 'A', { id: 31337 });
      const reply = dnsPacket.decode(await sendUdp(port, raw));
      expect(reply.id).toBe(31337);
      expect(reply.type).toBe('response');
      expect(reply.flag_aa).toBe(true);
      expect(reply.flag_rd).toBe(true);
      expect(reply.questions).toEqual([{ type: 'A', name: 'Kubernetes.Default.svc.cluster.local', class: 'IN' }]);
      expect(reply.answers).toEqual([{ type: 'A', name: 'Kubernetes.Default.svc.cluster.local', ttl: 5, class: 'IN', flush: false, data: '10.96.0.1' }]);
    });

    it('answers the same over TCP, several pipelined queries on one connection', async () => {
      const queries = [encodeQuery('web.default.svc.cluster.local', 'A'), encodeQuery('_http._tcp.web.default.svc.cluster.local', 'SRV'), encodeQuery('example.com', 'A')];
      const replies = await sendTcp(port, queries);
      const [web, srv, external] = queries.map((q) => dnsPacket.decode(replies.get(q.readUInt16BE(0))!));
      expect(addresses(web!)).toEqual(['10.96.0.20']);
      expect(srv!.answers![0]).toMatchObject({ type: 'SRV', data: { port: 80, target: 'web.default.svc.cluster.local' } });
      expect(srv!.additionals![0]).toMatchObject({ type: 'A', name: 'web.default.svc.cluster.local', data: '10.96.0.20' });
      expect(addresses(external!)).toEqual(['93.184.216.34']);
      expect(upstream.received.some((r) => r.transport === 'tcp' && r.name === 'example.com')).toBe(true);
    });

    it('answers NXDOMAIN and NODATA with the SOA in the authority section', async () => {
      const missing = await askUdp(port, 'nope.default.svc.cluster.local', 'A');
      expect(rcode(missing)).toBe(RCODES.NXDOMAIN);
      expect(missing.authorities![0]).toMatchObject({ type: 'SOA', name: 'cluster.local' });
      const nodata = await askUdp(port, 'web.default.svc.cluster.local', 'AAAA');
      expect(rcode(nodata)).toBe(RCODES.NOERROR);
      expect(nodata.answers).toEqual([]);
      expect(nodata.authorities![0]).toMatchObject({ type: 'SOA' });
    });

    it('forwards other names with the query id kept, and passes the upstream answer on', async () => {
      const raw = encodeQuery('example.com', 'A', { id: 4711 });
      const reply = dnsPacket.decode(await sendUdp(port, raw));
      expect(reply.id).toBe(4711);
      expect(addresses(reply)).toEqual(['93.184.216.34']);
      expect(upstream.received).toContainEqual({ transport: 'udp', id: 4711, name: 'example.com' });
      expect(rcode(await askUdp(port, 'unknown.example', 'A'))).toBe(RCODES.NXDOMAIN);
    });

    it('forwards reverse lookups it does not know, answers those of Services itself', async () => {
      const outside = await askUdp(port, '9.0.96.10.in-addr.arpa', 'PTR');
      expect(outside.answers![0]).toMatchObject({ type: 'PTR', data: 'outside.example' });
      const service = await askUdp(port, '20.0.96.10.in-addr.arpa', 'PTR');
      expect(service.answers![0]).toMatchObject({ type: 'PTR', data: 'web.default.svc.cluster.local' });
    });

    it('follows an ExternalName CNAME upstream', async () => {
      const reply = await askUdp(port, 'ext.default.svc.cluster.local', 'A');
      expect(rcode(reply)).toBe(RCODES.NOERROR);
      expect(reply.answers!.map((a) => [a.type, a.name, (a as { data: unknown }).data])).toEqual([
        ['CNAME', 'ext.default.svc.cluster.local', 'www.example.com'],
        ['A', 'www.example.com', '192.0.2.53'],
      ]);
      const gone = await askTcp(port, 'gone.default.svc.cluster.local', 'A');
      expect(rcode(gone)).toBe(RCODES.NXDOMAIN);
      expect(gone.answers!.map((a) => a.type)).toEqual(['CNAME']);
    });

    it('truncates a large UDP answer to 512 bytes with TC, and sends it whole over TCP', async () => {
      const raw = encodeQuery('big.default.svc.cluster.local', 'A');
      const udpReply = await sendUdp(port, raw);
      expect(udpReply.length).toBeLessThanOrEqual(512);
      const udp = dnsPacket.decode(udpReply);
      expect(udp.flag_tc).toBe(true);
      expect(udp.answers!.length).toBeLessThan(40);
      const tcp = await askTcp(port, 'big.default.svc.cluster.local', 'A');
      expect(tcp.flag_tc).toBe(false);
      expect(new Set(addresses(tcp))).toEqual(new Set(BIG_ADDRESSES));
    });

    it('fits UDP answers into the EDNS size the client advertised', async () => {
      const reply = await askUdp(port, 'big.default.svc.cluster.local', 'A', { ednsSize: 4096 });
      expect(reply.flag_tc).toBe(false);
      expect(reply.answers!.filter((a) => a.type === 'A')).toHaveLength(40);
      expect(reply.additionals!.some((a) => a.type === 'OPT')).toBe(true);
    });

    it('cuts a forwarded UDP answer that is larger than the client can take', async () => {
      const raw = encodeQuery('huge.example', 'A');
      const reply = await sendUdp(port, raw);
      expect(reply.length).toBeLessThanOrEqual(512);
      expect(dnsPacket.decode(reply).flag_tc).toBe(true);
      expect(reply.readUInt16BE(0)).toBe(raw.readUInt16BE(0));
    });

    it('answers FORMERR to a packet it cannot decode and ignores responses', async () => {
      const raw = encodeQuery('web.default.svc.cluster.local', 'A', { id: 999 });
      const broken = Buffer.concat([raw.subarray(0, 12), Buffer.from([0x3f, 0x61])]);
      const reply = await sendUdp(port, broken);
      expect(reply.readUInt16BE(0)).toBe(999);
      expect(rcodeOf(reply.readUInt16BE(2))).toBe(RCODES.FORMERR);
      const response = Buffer.from(raw);
      response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
      await expect(sendUdp(port, response, 300)).rejects.toThrow('no UDP answer');
    });

    it('sees changes to Services at the next question', async () => {
      expect(rcode(await askUdp(port, 'fresh.default.svc.cluster.local', 'A'))).toBe(RCODES.NXDOMAIN);
      objects.set([...SERVICES, { metadata: { namespace: 'default', name: 'fresh' }, spec: { clusterIP: '10.96.0.99' } }], ENDPOINTS);
      expect(addresses(await askUdp(port, 'fresh.default.svc.cluster.local', 'A'))).toEqual(['10.96.0.99']);
      objects.set(SERVICES, ENDPOINTS);
    });

    it('measures lookups per second on loopback (printed, not asserted)', async () => {
      const total = 5_000;
      const window = 64;
      const names = ['kubernetes.default.svc.cluster.local', 'web.default.svc.cluster.local', 'nope.default.svc.cluster.local', '_http._tcp.web.default.svc.cluster.local'];
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
      let sent = 0;
      let answered = 0;
      const started = process.hrtime.bigint();
      const deadline = Date.now() + 10_000;
      await new Promise<void>((done) => {
        const sendOne = (): void => {
          if (sent >= total) return;
          const i = sent++;
          socket.send(encodeQuery(names[i % names.length]!, i % 4 === 3 ? 'SRV' : 'A', { id: i % 0x10000 }), port, '127.0.0.1');
        };
        socket.on('message', () => {
          answered++;
          if (answered >= total || Date.now() > deadline) return done();
          sendOne();
        });
        for (let i = 0; i < window; i++) sendOne();
        // A lost datagram must not hang the test: stop at the deadline whatever arrived.
        setTimeout(done, 10_000).unref();
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      socket.close();
      console.log(`dns: ${answered} of ${total} UDP lookups answered in ${seconds.toFixed(2)} s on loopback: ${Math.round(answered / seconds)} lookups/s (${window} in flight)`);
      expect(answered).toBeGreaterThan(0);
    });
  });

  it('logs no line per query', () => {
    expect(logs).toEqual([]);
  });
});

describe('Forwarder', () => {
  it('tries each upstream in turn and answers SERVFAIL through the server when none answers', async () => {
    const silent = await startSilentUpstream();
    const upstream = await startFakeUpstream();
    const logs: string[] = [];
    const objects = new FakeObjects();
    const zone = new ZoneCache(objects);
    const forwarder = new Forwarder([silent.server, upstream.server], { timeoutMs: 200, log: (l) => logs.push(l) });
    const server = new DnsServer({ host: '127.0.0.1', port: 0, zone: () => zone.current(), upstream: forwarder, log: (l) => logs.push(l) });
    const port = await server.listen();
    try {
      const udp = await askUdp(port, 'example.com', 'A');
      expect(addresses(udp)).toEqual(['93.184.216.34']);
      const tcp = await askTcp(port, 'example.com', 'A');
      expect(addresses(tcp)).toEqual(['93.184.216.34']);
      // A second failure of the same upstream is not logged again.
      await askUdp(port, 'example.com', 'A');
      expect(logs.filter((l) => l.includes(`${silent.server.address}:${silent.server.port}/udp`))).toHaveLength(1);

      const started = Date.now();
      const none = await askUdp(port, 'silent.example', 'A');
      expect(rcode(none)).toBe(RCODES.SERVFAIL);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await server.close();
      await silent.close();
      await upstream.close();
    }
  });

  it('exchanges raw queries over UDP and TCP, giving up after the timeout', async () => {
    const upstream = await startFakeUpstream();
    try {
      const raw = encodeQuery('example.com', 'A', { id: 1234 });
      const udp = await exchangeUdp(upstream.server, raw, 500);
      expect(dnsPacket.decode(udp!).id).toBe(1234);
      const tcp = await exchangeTcp(upstream.server, raw, 500);
      expect(addresses(dnsPacket.decode(tcp!))).toEqual(['93.184.216.34']);
      expect(await exchangeUdp(upstream.server, encodeQuery('silent.example', 'A'), 100)).toBeUndefined();
      expect(await exchangeTcp({ address: '127.0.0.1', port: 1 }, raw, 500)).toBeUndefined();
    } finally {
      await upstream.close();
    }
  });

  it('reads the nameservers of a resolv.conf', () => {
    const text = '# generated by Docker\nnameserver 127.0.0.11\nsearch example.org\nnameserver  fd00::1 # v6\n;nameserver 10.0.0.1\nnameserver not-an-ip\noptions ndots:0\n';
    expect(parseNameservers(text)).toEqual([
      { address: '127.0.0.11', port: 53 },
      { address: 'fd00::1', port: 53 },
    ]);
  });
});

describe('InformerObjects and ZoneCache', () => {
  it('build the zone from the API once both lists are in, and follow watch events', async () => {
    const api = await startFakeApi();
    const client = new ApiClient({ servers: [api.url], ca: '', cert: '', key: '', userAgent: 'clusterlab-dns/test' });
    await client.create('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.20' } });
    const logs: string[] = [];
    const objects = new InformerObjects(client, (l) => logs.push(l));
    let second = 100;
    const zone = new ZoneCache(objects, () => second);
    try {
      expect(zone.current()).toBeUndefined();
      await objects.start();
      expect(objects.synced()).toBe(true);
      const first = zone.current()!;
      expect(first.names.get('web.default.svc.cluster.local')).toEqual([{ type: 'A', name: 'web.default.svc.cluster.local', ttl: 5, data: '10.96.0.20' }]);
      expect(zone.current()).toBe(first); // no change, no rebuild

      second = 50; // a clock going back does not lower the serial
      await client.create('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None' } });
      await client.create('/api/v1/namespaces/default/endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db' }, subsets: [{ addresses: [{ ip: '10.244.1.5' }] }] });
      const deadline = Date.now() + 3_000;
      while (!zone.current()!.names.has('db.default.svc.cluster.local') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const updated = zone.current()!;
      expect(updated.names.get('db.default.svc.cluster.local')?.map((r) => (r as { data: unknown }).data)).toEqual(['10.244.1.5']);
      expect(updated.serial).toBeGreaterThan(first.serial);
      expect(logs).toEqual(['dns: synced 1 services and 0 endpoints']);
    } finally {
      objects.stop();
      await api.close();
    }
  });

  it('stays unsynced while the API cannot be reached', async () => {
    const client = new ApiClient({ servers: ['http://127.0.0.1:1'], ca: '', cert: '', key: '', userAgent: 'clusterlab-dns/test' });
    const objects = new InformerObjects(client, () => undefined);
    const started = objects.start();
    started.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(objects.synced()).toBe(false);
    expect(new ZoneCache(objects).current()).toBeUndefined();
    objects.stop();
    await expect(started).rejects.toThrow(/stopped before its first list/);
  });
});

describe('the supervisor runs it', () => {
  it('on control planes only, with a probe that passes once the zone is known', async () => {
    const pkiDir = mkdtempSync(path.join(os.tmpdir(), 'dns-pki-'));
    for (const file of Object.values(KUBE_PKI_FILES)) writeFileSync(path.join(pkiDir, file), 'pem');
    const kube = { apiServers: ['https://172.30.0.2:6443'], nodeLabels: {}, nodeTaints: [], clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', version: '1.33.0' };
    const config = (controlPlane: boolean): NodeConfig => ({
      cluster: 'lab',
      node: controlPlane ? 'leader' : 'worker1',
      role: controlPlane ? 'manager' : 'worker',
      engine: 'kube',
      ip: '172.30.0.2',
      dockerd: {},
      kube: { ...kube, controlPlane, ...(controlPlane ? { etcd: { name: 'leader', initialCluster: 'leader=http://172.30.0.2:2380' } } : {}) },
    });
    try {
      const dns = kubeDaemons(config(true), pkiDir).find((d) => d.name === 'dns');
      expect(dns?.args.at(-1)).toBe('/opt/clusterlab/dns.js');
      expect(dns?.args).toContain('--max-old-space-size=256');
      expect(dns?.probe).toBeTypeOf('function');
      expect(kubeDaemons(config(false), pkiDir).map((d) => d.name)).not.toContain('dns');
    } finally {
      rmSync(pkiDir, { recursive: true, force: true });
    }

    const objects = new FakeObjects();
    const zone = new ZoneCache(objects);
    const server = new DnsServer({ host: '127.0.0.1', port: 0, zone: () => zone.current(), upstream: { forward: async () => undefined, lookup: async () => undefined }, log: () => undefined });
    const port = await server.listen();
    try {
      const probe = dnsProbe({ port, timeoutMs: 500 });
      expect(await probe(new AbortController().signal)).toBe(false);
      objects.set(SERVICES, ENDPOINTS);
      expect(await probe(new AbortController().signal)).toBe(true);
      await server.close();
      expect(await probe(new AbortController().signal)).toBe(false);
    } finally {
      await server.close();
    }
  });
});
