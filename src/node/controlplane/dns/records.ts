/**
 * The cluster.local zone as Kubernetes' DNS specification defines it (kubernetes/dns
 * docs/specification.md, schema 1.0.1), computed from Services and Endpoints.
 *
 * buildZone turns the objects into a table of every name that exists in the zone, each with
 * its records; the names that only have names below them (`svc.cluster.local`,
 * `default.svc.cluster.local`, `_tcp.web.default.svc.cluster.local`) are in the table too,
 * with no records, so that they answer NODATA and not NXDOMAIN. resolve then answers one
 * question from that table. Both are pure: no sockets, no API.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer, Question, RecordType, SrvAnswer, StringAnswer } from 'dns-packet';
import type { EndpointAddress, EndpointSubset, Endpoints, Service } from 'kubernetes-types/core/v1.js';
import { CLUSTER_DOMAIN } from '../../shared/cluster-dns.js';

export const ZONE = CLUSTER_DOMAIN;
/** Every record's TTL and the SOA's negative-caching TTL: CoreDNS's default, short enough to follow pods. */
export const RECORD_TTL = 5;
/** The schema version the spec asks `dns-version.<zone>` TXT to carry. */
export const DNS_SCHEMA_VERSION = '1.0.1';
/** The zone's nameserver name (CoreDNS's choice); its A records are the kube-dns Service's ClusterIPs. */
export const NAMESERVER_NAME = `ns.dns.${ZONE}`;
const HOSTMASTER_NAME = `hostmaster.${ZONE}`;
const SERVICE_SUFFIX = `.svc.${ZONE}`;
const POD_SUFFIX = `.pod.${ZONE}`;
const REVERSE_V4_SUFFIX = '.in-addr.arpa';
/** The spec's older spelling of spec.publishNotReadyAddresses. */
const TOLERATE_UNREADY_ANNOTATION = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';
/** How many in-zone CNAMEs one answer follows (ExternalName pointing at another Service). */
const MAX_CNAME_CHAIN = 8;

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface Zone {
  /** The SOA serial: changes whenever the zone is rebuilt from changed objects. */
  readonly serial: number;
  /** Every name in the zone (lower case, no trailing dot) → its records; [] for an empty non-terminal. */
  readonly names: ReadonlyMap<string, readonly Answer[]>;
  /** `d.c.b.a.in-addr.arpa` of ClusterIPs and headless endpoint addresses → their PTR records. */
  readonly reverse: ReadonlyMap<string, readonly Answer[]>;
}

/** What to do with one question. */
export type Resolution =
  /** Not a name this server is authoritative for: ask the upstream nameservers. */
  | { kind: 'forward' }
  /** A name in the zone, but the Services and Endpoints have not been read yet: SERVFAIL. */
  | { kind: 'not-synced' }
  | {
      kind: 'answer';
      rcode: Rcode;
      /** Set for zone answers; clear for PTR answers (in-addr.arpa is not our zone). */
      authoritative: boolean;
      answers: Answer[];
      authorities: Answer[];
      additionals: Answer[];
      /** The answer ends in a CNAME to a name outside the zone: resolve that upstream and append it. */
      chase?: { name: string; type: RecordType };
    };

/** Lower case without the trailing dot: the form of every key in Zone. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export function isInZone(name: string): boolean {
  const normalized = normalizeName(name);
  return normalized === ZONE || normalized.endsWith(`.${ZONE}`);
}

/** `10.244.1.5` → `10-244-1-5`; IPv6 colons become dashes too (CoreDNS's spelling). */
export function dashedIp(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

/** `10.96.0.1` → `1.0.96.10.in-addr.arpa`; undefined for anything but IPv4. */
export function reverseName(ip: string): string | undefined {
  if (!isIPv4(ip)) return undefined;
  return `${ip.split('.').reverse().join('.')}${REVERSE_V4_SUFFIX}`;
}

// ---------------------------------------------------------------------------------------------
// Building the zone

export function buildZone(services: readonly Service[], endpoints: readonly Endpoints[], serial: number): Zone {
  const builder = new ZoneBuilder();
  builder.add({ type: 'SOA', name: ZONE, ttl: RECORD_TTL, data: soaData(serial) });
  builder.add({ type: 'NS', name: ZONE, ttl: RECORD_TTL, data: NAMESERVER_NAME });
  builder.add({ type: 'TXT', name: `dns-version.${ZONE}`, ttl: RECORD_TTL, data: DNS_SCHEMA_VERSION });
  builder.ensure(NAMESERVER_NAME);
  builder.ensure(`svc.${ZONE}`);
  builder.ensure(`pod.${ZONE}`);

  const endpointsByKey = new Map<string, Endpoints>();
  for (const ep of endpoints) endpointsByKey.set(`${ep.metadata?.namespace ?? ''}/${ep.metadata?.name ?? ''}`, ep);

  for (const service of services) {
    const namespace = service.metadata?.namespace;
    const name = service.metadata?.name;
    if (!namespace || !name) continue;
    builder.ensure(`${namespace.toLowerCase()}${SERVICE_SUFFIX}`);
    const fqdn = `${name.toLowerCase()}.${namespace.toLowerCase()}${SERVICE_SUFFIX}`;
    if (service.spec?.type === 'ExternalName') addExternalName(builder, service, fqdn);
    else if (service.spec?.clusterIP === 'None') addHeadless(builder, service, endpointsByKey.get(`${namespace}/${name}`), fqdn);
    else addClusterIp(builder, service, fqdn);
    if (namespace === 'kube-system' && name === 'kube-dns') {
      for (const ip of clusterIps(service)) builder.add(addressRecord(NAMESERVER_NAME, ip));
    }
  }
  return builder.finish(serial);
}

function soaData(serial: number) {
  // refresh/retry/expire as CoreDNS sets them; minimum = the negative-caching TTL.
  return { mname: NAMESERVER_NAME, rname: HOSTMASTER_NAME, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: RECORD_TTL };
}

function addExternalName(builder: ZoneBuilder, service: Service, fqdn: string): void {
  const target = service.spec?.externalName;
  if (!target) return;
  builder.add({ type: 'CNAME', name: fqdn, ttl: RECORD_TTL, data: target.replace(/\.$/, '') });
}

function clusterIps(service: Service): string[] {
  const spec = service.spec;
  const ips = spec?.clusterIPs && spec.clusterIPs.length > 0 ? spec.clusterIPs : spec?.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip) => isIPv4(ip) || isIPv6(ip));
}

function addClusterIp(builder: ZoneBuilder, service: Service, fqdn: string): void {
  const ips = clusterIps(service);
  // Not allocated yet (or malformed): the name does not exist until it has an address.
  if (ips.length === 0) return;
  for (const ip of ips) {
    builder.add(addressRecord(fqdn, ip));
    builder.addReverse(ip, fqdn);
  }
  for (const port of service.spec?.ports ?? []) {
    if (!port.name) continue; // unnamed ports have no SRV record
    builder.add(srvRecord(srvName(port.name, port.protocol, fqdn), port.port, fqdn));
  }
}

/** Whether the Service wants its not-ready endpoints in DNS too. */
function publishesNotReady(service: Service): boolean {
  return service.spec?.publishNotReadyAddresses === true || service.metadata?.annotations?.[TOLERATE_UNREADY_ANNOTATION] === 'true';
}

function readyAddresses(subset: EndpointSubset, includeNotReady: boolean): EndpointAddress[] {
  const addresses = (subset.addresses ?? []).filter((a) => isIPv4(a.ip) || isIPv6(a.ip));
  if (!includeNotReady) return addresses;
  return [...addresses, ...(subset.notReadyAddresses ?? []).filter((a) => isIPv4(a.ip) || isIPv6(a.ip))];
}

function addHeadless(builder: ZoneBuilder, service: Service, endpoints: Endpoints | undefined, fqdn: string): void {
  const includeNotReady = publishesNotReady(service);
  // The spec: no ready endpoints → NXDOMAIN, so nothing is added for the Service itself.
  for (const subset of endpoints?.subsets ?? []) {
    for (const address of readyAddresses(subset, includeNotReady)) {
      const endpointName = `${(address.hostname || dashedIp(address.ip)).toLowerCase()}.${fqdn}`;
      builder.add(addressRecord(fqdn, address.ip));
      builder.add(addressRecord(endpointName, address.ip));
      builder.addReverse(address.ip, endpointName);
      for (const port of subset.ports ?? []) {
        if (!port.name) continue;
        builder.add(srvRecord(srvName(port.name, port.protocol, fqdn), port.port, endpointName));
      }
    }
  }
}

function srvName(portName: string, protocol: string | undefined, fqdn: string): string {
  return `_${portName.toLowerCase()}._${(protocol ?? 'TCP').toLowerCase()}.${fqdn}`;
}

function addressRecord(name: string, ip: string): StringAnswer {
  return { type: isIPv4(ip) ? 'A' : 'AAAA', name, ttl: RECORD_TTL, data: ip };
}

function srvRecord(name: string, port: number, target: string): SrvAnswer {
  // Weights are set in finish(), once every record of the name is known.
  return { type: 'SRV', name, ttl: RECORD_TTL, data: { priority: 0, weight: 0, port, target } };
}

class ZoneBuilder {
  private readonly names = new Map<string, Answer[]>();
  private readonly reverse = new Map<string, Answer[]>();
  private readonly seen = new Set<string>();

  /** Makes `name` and every name between it and the zone apex exist. */
  ensure(name: string): void {
    let current = name;
    while (!this.names.has(current)) {
      this.names.set(current, []);
      if (current === ZONE) return;
      const dot = current.indexOf('.');
      if (dot < 0) return;
      current = current.slice(dot + 1);
    }
  }

  /** Adds a record once: the same address in two subsets is one record. */
  add(record: Answer): void {
    const key = `${record.name} ${record.type} ${record.type === 'SRV' ? `${record.data.port} ${record.data.target}` : String((record as { data?: unknown }).data)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.ensure(record.name);
    this.names.get(record.name)!.push(record);
  }

  addReverse(ip: string, target: string): void {
    const name = reverseName(ip);
    if (name === undefined) return;
    const key = `${name} PTR ${target}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const records = this.reverse.get(name) ?? [];
    records.push({ type: 'PTR', name, ttl: RECORD_TTL, data: target });
    this.reverse.set(name, records);
  }

  finish(serial: number): Zone {
    // RFC 2782 weights: equal shares of 100 among a name's targets, all at priority 0.
    for (const records of this.names.values()) {
      const srv = records.filter((r): r is SrvAnswer => r.type === 'SRV');
      const weight = Math.max(1, Math.floor(100 / Math.max(1, srv.length)));
      for (const record of srv) record.data.weight = weight;
    }
    return { serial, names: this.names, reverse: this.reverse };
  }
}

// ---------------------------------------------------------------------------------------------
// Answering

/** The answer to one question, given the zone (undefined until Services and Endpoints are read). */
export function resolve(zone: Zone | undefined, question: Question): Resolution {
  const name = normalizeName(question.name);
  if (name.endsWith(REVERSE_V4_SUFFIX)) return resolveReverse(zone, name, question);
  if (!isInZone(name)) return { kind: 'forward' };
  if (zone === undefined) return { kind: 'not-synced' };
  const qclass = question.class ?? 'IN';
  if ((qclass !== 'IN' && qclass !== 'ANY') || question.type === 'AXFR' || question.type === 'IXFR') {
    // Zone transfers and other classes are not served.
    return { kind: 'answer', rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] };
  }
  return answerInZone(zone, name, question.name, question.type, 0);
}

/** PTR of a ClusterIP or headless endpoint: answered here; every other reverse name goes upstream. */
function resolveReverse(zone: Zone | undefined, name: string, question: Question): Resolution {
  const records = zone?.reverse.get(name);
  if (records === undefined || (question.type !== 'PTR' && !asksForAll(question.type))) return { kind: 'forward' };
  return { kind: 'answer', rcode: 'NOERROR', authoritative: false, answers: records.map((r) => ({ ...r, name: question.name })), authorities: [], additionals: [] };
}

function answerInZone(zone: Zone, name: string, askedName: string, type: RecordType, depth: number): Resolution & { kind: 'answer' } {
  const records = zone.names.get(name) ?? podRecords(name);
  if (records === undefined) return negative(zone, 'NXDOMAIN');
  const owned = (record: Answer): Answer => ({ ...record, name: askedName });

  const cname = records.find((r) => r.type === 'CNAME') as StringAnswer | undefined;
  if (cname !== undefined && type !== 'CNAME' && !asksForAll(type)) {
    const target = normalizeName(cname.data);
    const cnameOnly = (): Resolution & { kind: 'answer' } => ({ kind: 'answer', rcode: 'NOERROR', authoritative: true, answers: [owned(cname)], authorities: [], additionals: [] });
    if (!isInZone(target)) return { ...cnameOnly(), chase: { name: cname.data, type } };
    // A loop of ExternalNames ends with the CNAME alone, as a resolver would give up on it.
    if (depth >= MAX_CNAME_CHAIN) return cnameOnly();
    const rest = answerInZone(zone, target, target, type, depth + 1);
    return { ...rest, answers: [owned(cname), ...rest.answers] };
  }

  const matching = asksForAll(type) ? records : records.filter((r) => r.type === type);
  if (matching.length === 0) return negative(zone, 'NOERROR');
  return { kind: 'answer', rcode: 'NOERROR', authoritative: true, answers: matching.map(owned), authorities: [], additionals: additionalRecords(zone, matching) };
}

/** QTYPE ANY (255): dns-packet decodes it as 'ANY', which its typings leave out of RecordType. */
function asksForAll(type: RecordType): boolean {
  return (type as string) === 'ANY';
}

/** NXDOMAIN, or NOERROR with no answer (NODATA): either way the SOA, for negative caching. */
function negative(zone: Zone, rcode: 'NOERROR' | 'NXDOMAIN'): Resolution & { kind: 'answer' } {
  const soa = zone.names.get(ZONE)?.filter((r) => r.type === 'SOA') ?? [];
  return { kind: 'answer', rcode, authoritative: true, answers: [], authorities: [...soa], additionals: [] };
}

/** The addresses of SRV targets and of the zone's nameserver, so the client needs no second query. */
function additionalRecords(zone: Zone, answers: readonly Answer[]): Answer[] {
  const targets = new Set<string>();
  for (const record of answers) {
    if (record.type === 'SRV') targets.add(normalizeName(record.data.target));
    else if (record.type === 'NS') targets.add(normalizeName(record.data));
  }
  const additionals: Answer[] = [];
  for (const target of targets) {
    for (const record of zone.names.get(target) ?? []) if (record.type === 'A' || record.type === 'AAAA') additionals.push(record);
  }
  return additionals;
}

/**
 * `<dashed-ip>.<ns>.pod.cluster.local` → A (AAAA for IPv6), for any address and namespace, as
 * the spec's deprecated-but-required pod records say; `<ns>.pod.cluster.local` exists as
 * their parent. undefined for anything else under pod.cluster.local (NXDOMAIN).
 */
function podRecords(name: string): Answer[] | undefined {
  if (!name.endsWith(POD_SUFFIX)) return undefined;
  const labels = name.slice(0, -POD_SUFFIX.length).split('.');
  if (labels.length === 1) return [];
  if (labels.length !== 2) return undefined;
  const ip = ipFromDashed(labels[0]!);
  return ip === undefined ? undefined : [addressRecord(name, ip)];
}

function ipFromDashed(label: string): string | undefined {
  const v4 = label.replace(/-/g, '.');
  if (label.split('-').length === 4 && isIPv4(v4)) return v4;
  const v6 = label.replace(/-/g, ':');
  return isIPv6(v6) ? v6 : undefined;
}
