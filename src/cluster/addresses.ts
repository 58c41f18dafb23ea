/**
 * Address planning for cluster networks, in pure code.
 *
 * Every cluster gets its own /24 with fixed node addresses (gateway .1, nodes from .2 in
 * creation order), so nodes keep their addresses across restarts of the host's engine or
 * machine: the top complaint against kind and k3d.
 */

/** Where cluster subnets are taken from: 172.30.0.0/24, 172.30.1.0/24, … 172.31.255.0/24. */
const FIRST_CANDIDATE = ipToInt('172.30.0.0');
const CANDIDATES = 512;
const FIRST_NODE_HOST = 2;
const LAST_NODE_HOST = 254;

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map((p) => Number.parseInt(p, 10));
  if (parts.length !== 4 || parts.some((p) => Number.isNaN(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, bits] = cidr.split('/');
  const prefix = Number.parseInt(bits ?? '', 10);
  if (!ip || Number.isNaN(prefix) || prefix < 0 || prefix > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return { base: (ipToInt(ip) & mask) >>> 0, prefix };
}

function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/**
 * The first candidate /24 that overlaps none of `used` (subnets of the engine's networks and
 * of the host's interfaces). IPv6 entries are ignored.
 */
export function pickClusterSubnet(used: string[]): string {
  const taken = used.filter((c) => c.includes('.') && c.includes('/')).map(parseCidr);
  for (let i = 0; i < CANDIDATES; i++) {
    const candidate: Cidr = { base: FIRST_CANDIDATE + i * 256, prefix: 24 };
    if (!taken.some((t) => cidrsOverlap(candidate, t))) return `${intToIp(candidate.base)}/24`;
  }
  throw new Error('no free /24 left in 172.30.0.0/15 for a cluster network');
}

export function gatewayAddress(subnet: string): string {
  return intToIp(parseCidr(subnet).base + 1);
}

/** The lowest free node address of a subnet, given the addresses already held. */
export function nextNodeAddress(subnet: string, held: string[]): string {
  const { base } = parseCidr(subnet);
  const heldSet = new Set(held);
  for (let host = FIRST_NODE_HOST; host <= LAST_NODE_HOST; host++) {
    const ip = intToIp(base + host);
    if (!heldSet.has(ip)) return ip;
  }
  throw new Error(`no free address left in ${subnet}`);
}
