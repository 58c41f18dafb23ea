/**
 * The node's half of the pod network, in the flannel "host-gw" style: the pods' docker bridge
 * hands out addresses from the node's range (Node.spec.podCIDR), and a route to every other
 * node's range goes through that node's address. The nodes share one L2 network (the
 * cluster's docker network on the host), so pods reach each other directly, without NAT or
 * encapsulation.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { Node } from 'kubernetes-types/core/v1.js';
import { DockerError, type DockerClient } from './docker-client.js';

export const POD_NETWORK = 'clusterlab-pods';
/** The bridge's interface name in the node (what `ip addr` shows). */
export const POD_BRIDGE = 'cl-pods';
const BRIDGE_FILTER_SYSCTL = '/proc/sys/net/bridge/bridge-nf-call-iptables';

/** Runs a program; resolves with its stdout, rejects with its stderr when it fails. */
export type CommandRunner = (file: string, args: string[], input?: string) => Promise<string>;

export const runCommand: CommandRunner = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || `exit code ${code}`}`))));
    // A program that exits before reading its input closes the pipe (EPIPE): its exit code tells.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });

export function parseIpv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

/** True when `inner` (a CIDR) lies inside `outer` (a CIDR). */
export function cidrContains(outer: string, inner: string): boolean {
  const [outerIp = '', outerBits = ''] = outer.split('/');
  const [innerIp = '', innerBits = '32'] = inner.split('/');
  const a = parseIpv4(outerIp);
  const b = parseIpv4(innerIp);
  if (a === undefined || b === undefined || Number(innerBits) < Number(outerBits)) return false;
  const size = 2 ** (32 - Number(outerBits));
  return Math.floor(a / size) === Math.floor(b / size);
}

/** The bridge's own address in a range: its first host (10.244.1.0/24 → 10.244.1.1). */
export function gatewayOf(podCidr: string): string {
  const [ip = ''] = podCidr.split('/');
  const value = (parseIpv4(ip) ?? 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface PodRoute {
  cidr: string;
  via: string;
}

/** A route per other node that has a range and an address. */
export function desiredRoutes(nodes: Node[], self: string): PodRoute[] {
  const routes: PodRoute[] = [];
  for (const node of nodes) {
    const cidr = node.spec?.podCIDR;
    const via = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (node.metadata?.name === self || !cidr || !via) continue;
    routes.push({ cidr, via });
  }
  return routes.sort((a, b) => a.cidr.localeCompare(b.cidr, 'en', { numeric: true }));
}

/** Gateway routes inside the pod network from `ip -4 route show` ("10.244.2.0/24 via 172.30.0.3 dev eth0"). */
export function podRoutesIn(routeTable: string, clusterCidr: string): PodRoute[] {
  const routes: PodRoute[] = [];
  for (const line of routeTable.split('\n')) {
    const match = /^(\d+\.\d+\.\d+\.\d+\/\d+) via (\d+\.\d+\.\d+\.\d+)/.exec(line.trim());
    if (match && cidrContains(clusterCidr, match[1]!)) routes.push({ cidr: match[1]!, via: match[2]! });
  }
  return routes;
}

interface NetworkInspect {
  Id: string;
  IPAM?: { Config?: Array<{ Subnet?: string }> | null };
  Containers?: Record<string, unknown> | null;
}

export class PodNetwork {
  constructor(
    private readonly docker: DockerClient,
    private readonly run: CommandRunner,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Makes the pods' docker network on the node's range: a bridge without docker's masquerade
   * (the service rules masquerade only traffic leaving the pod network). An old network on
   * another range (the node got a new one) is replaced once no container uses it.
   */
  async ensureBridge(podCidr: string): Promise<void> {
    const existing = await this.inspect();
    if (existing) {
      const subnet = existing.IPAM?.Config?.[0]?.Subnet;
      if (subnet === podCidr) return;
      if (Object.keys(existing.Containers ?? {}).length > 0) {
        throw new Error(`the pod network is on ${subnet} but this node's range is now ${podCidr}, and containers still use it`);
      }
      this.log(`agent: pod network moves from ${subnet} to ${podCidr}`);
      await this.docker.json({ method: 'DELETE', path: `/networks/${existing.Id}` });
    }
    await this.docker.json({
      method: 'POST',
      path: '/networks/create',
      body: {
        Name: POD_NETWORK,
        Driver: 'bridge',
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: podCidr, Gateway: gatewayOf(podCidr) }] },
        Options: {
          'com.docker.network.bridge.name': POD_BRIDGE,
          'com.docker.network.bridge.enable_ip_masquerade': 'false',
        },
        Labels: { 'dev.clusterlab.pod-network': 'true' },
      },
    });
    this.log(`agent: pod network ${POD_NETWORK} on ${podCidr} (bridge ${POD_BRIDGE}, gateway ${gatewayOf(podCidr)})`);
  }

  /**
   * Lets bridged pod traffic through iptables, so a Service reply between two pods of this
   * node is un-DNATed (kube needs br_netfilter for the same reason). False when the kernel
   * does not offer it here; the service rules then masquerade such connections instead.
   */
  async enableBridgeFilter(): Promise<boolean> {
    try {
      await fs.writeFile(BRIDGE_FILTER_SYSCTL, '1');
      return (await fs.readFile(BRIDGE_FILTER_SYSCTL, 'utf8')).trim() === '1';
    } catch {
      return false;
    }
  }

  /** Routes every other node's range through it; drops routes of ranges no node has any more. */
  async syncRoutes(wanted: PodRoute[], clusterCidr: string): Promise<void> {
    const current = podRoutesIn(await this.run('ip', ['-4', 'route', 'show']), clusterCidr);
    const key = (r: PodRoute): string => `${r.cidr} via ${r.via}`;
    const wantedKeys = new Set(wanted.map(key));
    const currentKeys = new Set(current.map(key));
    for (const route of current) {
      if (wantedKeys.has(key(route))) continue;
      await this.run('ip', ['route', 'del', route.cidr, 'via', route.via]).catch((err: Error) => this.log(`agent: removing route ${key(route)}: ${err.message}`));
      this.log(`agent: route ${key(route)} removed`);
    }
    for (const route of wanted) {
      if (currentKeys.has(key(route))) continue;
      await this.run('ip', ['route', 'replace', route.cidr, 'via', route.via]);
      this.log(`agent: route ${key(route)}`);
    }
  }

  private async inspect(): Promise<NetworkInspect | undefined> {
    try {
      return await this.docker.json<NetworkInspect>({ method: 'GET', path: `/networks/${POD_NETWORK}` });
    } catch (err) {
      if (err instanceof DockerError && err.statusCode === 404) return undefined;
      throw err;
    }
  }
}
