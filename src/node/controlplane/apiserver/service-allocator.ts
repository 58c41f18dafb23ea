/**
 * ClusterIPs from the service CIDR and NodePorts from 30000-32767, unique across API servers:
 * each allocation is a key created atomically in the store (create fails when it exists), and
 * released by deleting it. The first address of the range is the `kubernetes` Service's.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { StoreKeyExistsError, StoreKeyNotFoundError, type Store } from '../store/store.js';

const IP_PREFIX = '/registry/ranges/serviceips/';
const PORT_PREFIX = '/registry/ranges/servicenodeports/';
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

export interface Ipv4Range {
  /** The network address as a 32-bit number. */
  base: number;
  /** Number of addresses in the range. */
  size: number;
}

export function parseIpv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = value * 256 + Number(p);
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseCidr(cidr: string): Ipv4Range {
  const [ip = '', bitsText = ''] = cidr.split('/');
  const addr = parseIpv4(ip);
  const bits = Number(bitsText);
  if (addr === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`invalid service CIDR ${cidr}`);
  const size = 2 ** (32 - bits);
  return { base: addr - (addr % size), size };
}

/** The addresses services may get: not the network address, not the broadcast address. */
export function inAllocatableRange(range: Ipv4Range, ip: string): boolean {
  const v = parseIpv4(ip);
  return v !== undefined && v > range.base && v < range.base + range.size - 1;
}

/** The address of the `kubernetes` Service (the range's first host). */
export function apiServerServiceIp(range: Ipv4Range): string {
  return formatIpv4(range.base + 1);
}

/**
 * Picks a free value among `count` candidates (candidate(i) for i in [0, count)), starting at
 * a random index and probing forward, skipping `used`. Undefined when every one is taken.
 */
export function pickFree<T>(count: number, candidate: (i: number) => T, used: Set<T>, random: () => number = Math.random): T | undefined {
  const start = Math.floor(random() * count);
  for (let n = 0; n < count; n++) {
    const value = candidate((start + n) % count);
    if (!used.has(value)) return value;
  }
  return undefined;
}

export class AllocationError extends Error {
  constructor(
    readonly field: string,
    readonly value: string | number,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'AllocationError';
  }
}

export class ServiceAllocator {
  private readonly range: Ipv4Range;

  constructor(
    private readonly store: Store,
    serviceCidr: string,
  ) {
    this.range = parseCidr(serviceCidr);
  }

  get kubernetesServiceIp(): string {
    return apiServerServiceIp(this.range);
  }

  /**
   * Fills spec.clusterIP(s) and nodePorts of a new Service (mutates it), reserving them.
   * On failure everything reserved so far is released.
   */
  async allocateForCreate(svc: Service, owner: string): Promise<void> {
    const taken: Array<() => Promise<void>> = [];
    try {
      const spec = (svc.spec ??= {});
      const type = spec.type ?? 'ClusterIP';
      if (type !== 'ExternalName' && spec.clusterIP !== 'None') {
        const requested = spec.clusterIP || spec.clusterIPs?.[0] || undefined;
        const ip = await this.allocateIp(requested, owner);
        taken.push(() => this.release(IP_PREFIX + ip));
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
        spec.ipFamilies = ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
      } else if (spec.clusterIP === 'None') {
        spec.clusterIPs = ['None'];
        spec.ipFamilies = ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
      }
      await this.allocatePorts(svc, new Set(), owner, taken);
    } catch (err) {
      for (const undo of taken) await undo().catch(() => undefined);
      throw err;
    }
  }

  /**
   * An update: clusterIP stays as it was (copied when the new object omits it); node ports are
   * reserved for new ports and released for dropped ones.
   */
  async reallocateForUpdate(next: Service, old: Service, owner: string): Promise<void> {
    const spec = (next.spec ??= {});
    const oldSpec = old.spec ?? {};
    if (!spec.clusterIP && oldSpec.clusterIP && (spec.type ?? 'ClusterIP') !== 'ExternalName') {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
      spec.ipFamilies ??= oldSpec.ipFamilies;
      spec.ipFamilyPolicy ??= oldSpec.ipFamilyPolicy;
    } else if (spec.clusterIP && oldSpec.clusterIP && spec.clusterIP !== oldSpec.clusterIP) {
      throw new AllocationError('spec.clusterIPs[0]', spec.clusterIP, `Invalid value: ${JSON.stringify([spec.clusterIP])}: may not change once set`);
    }
    // A port the new spec leaves without nodePort keeps the one it had (matched by port number).
    if (usesNodePorts(spec.type)) {
      for (const p of spec.ports ?? []) {
        if (p.nodePort) continue;
        const before = oldSpec.ports?.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (before?.nodePort) p.nodePort = before.nodePort;
      }
    }
    const oldPorts = new Set(nodePortsOf(old));
    const taken: Array<() => Promise<void>> = [];
    try {
      await this.allocatePorts(next, oldPorts, owner, taken);
    } catch (err) {
      for (const undo of taken) await undo().catch(() => undefined);
      throw err;
    }
    const kept = new Set(nodePortsOf(next));
    for (const port of oldPorts) if (!kept.has(port)) await this.release(PORT_PREFIX + port);
  }

  async releaseAll(svc: Service): Promise<void> {
    const ip = svc.spec?.clusterIP;
    if (ip && ip !== 'None') await this.release(IP_PREFIX + ip);
    for (const port of nodePortsOf(svc)) await this.release(PORT_PREFIX + port);
  }

  private async allocatePorts(svc: Service, alreadyOwned: Set<number>, owner: string, taken: Array<() => Promise<void>>): Promise<void> {
    const spec = svc.spec ?? {};
    if (!usesNodePorts(spec.type)) {
      for (const p of spec.ports ?? []) delete p.nodePort;
      return;
    }
    for (const [i, p] of (spec.ports ?? []).entries()) {
      if (p.nodePort && alreadyOwned.has(p.nodePort)) continue;
      const port = await this.allocatePort(p.nodePort, owner, `spec.ports[${i}].nodePort`);
      taken.push(() => this.release(PORT_PREFIX + port));
      p.nodePort = port;
    }
  }

  private async allocateIp(requested: string | undefined, owner: string): Promise<string> {
    if (requested !== undefined) {
      if (!inAllocatableRange(this.range, requested)) {
        throw new AllocationError('spec.clusterIPs', requested, `Invalid value: ${JSON.stringify([requested])}: failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${formatIpv4(this.range.base)}/${32 - Math.log2(this.range.size)}`);
      }
      if (!(await this.tryReserve(IP_PREFIX + requested, owner))) {
        throw new AllocationError('spec.clusterIPs', requested, `Invalid value: ${JSON.stringify([requested])}: failed to allocate IP ${requested}: provided IP is already allocated`);
      }
      return requested;
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const used = await this.usedValues(IP_PREFIX);
      // Offsets 2 .. size-2: skip the network address, the kubernetes Service and broadcast.
      const ip = pickFree(this.range.size - 3, (i) => formatIpv4(this.range.base + 2 + i), used);
      if (ip === undefined) break;
      if (await this.tryReserve(IP_PREFIX + ip, owner)) return ip;
    }
    throw new AllocationError('spec.clusterIPs', '', 'Internal error: failed to allocate a serviceIP: range is full');
  }

  private async allocatePort(requested: number | undefined, owner: string, field: string): Promise<number> {
    if (requested !== undefined) {
      if (requested < NODE_PORT_MIN || requested > NODE_PORT_MAX) {
        throw new AllocationError(field, requested, `Invalid value: ${requested}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`);
      }
      if (!(await this.tryReserve(PORT_PREFIX + requested, owner))) {
        throw new AllocationError(field, requested, `Invalid value: ${requested}: provided port is already allocated`);
      }
      return requested;
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const used = new Set([...(await this.usedValues(PORT_PREFIX))].map(Number));
      const port = pickFree(NODE_PORT_MAX - NODE_PORT_MIN + 1, (i) => NODE_PORT_MIN + i, used);
      if (port === undefined) break;
      if (await this.tryReserve(PORT_PREFIX + port, owner)) return port;
    }
    throw new AllocationError(field, '', 'Internal error: failed to allocate a nodePort: range is full');
  }

  private async usedValues(prefix: string): Promise<Set<string>> {
    const { items } = await this.store.list(prefix);
    return new Set(items.map((item) => item.key.slice(prefix.length)));
  }

  private async tryReserve(key: string, owner: string): Promise<boolean> {
    try {
      await this.store.create(key, JSON.stringify({ owner }));
      return true;
    } catch (err) {
      if (err instanceof StoreKeyExistsError) return false;
      throw err;
    }
  }

  private async release(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch (err) {
      if (!(err instanceof StoreKeyNotFoundError)) throw err;
    }
  }
}

function usesNodePorts(type: string | undefined): boolean {
  return type === 'NodePort' || type === 'LoadBalancer';
}

export function nodePortsOf(svc: Service): number[] {
  if (!usesNodePorts(svc.spec?.type)) return [];
  return (svc.spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => typeof p === 'number');
}
