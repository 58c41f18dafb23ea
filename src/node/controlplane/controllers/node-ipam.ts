/**
 * The node IPAM controller (kube-controller-manager --allocate-node-cidrs): gives every Node
 * without one a /24 of the cluster's pod range in spec.podCIDR. The agent on the node makes
 * its pod bridge from it, and every agent routes each node's range to that node.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { isConflict, recordEvent } from '../../shared/api-client.js';
import type { ControllerContext } from './context.js';
import { WorkQueue } from './work-queue.js';

const NODE_MASK_BITS = 24;
const COMPONENT = 'node-ipam-controller';

function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 address ${ip}`);
  return parts.reduce((value, part) => value * 256 + part, 0);
}

function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** The /24 ranges of a cluster CIDR, in order (10.244.0.0/16 → 10.244.0.0/24 … 10.244.255.0/24). */
export function nodeRanges(clusterCidr: string): string[] {
  const [ip = '', bitsText = ''] = clusterCidr.split('/');
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 8 || bits > NODE_MASK_BITS) throw new Error(`cluster CIDR ${clusterCidr}: the prefix must be /8 to /${NODE_MASK_BITS}`);
  const size = 2 ** (32 - bits);
  const base = ipToNumber(ip) - (ipToNumber(ip) % size);
  const step = 2 ** (32 - NODE_MASK_BITS);
  return Array.from({ length: size / step }, (_, i) => `${numberToIp(base + i * step)}/${NODE_MASK_BITS}`);
}

/**
 * The ranges to hand out: nodes without spec.podCIDR get the lowest free ones, oldest node
 * first (so the first control plane gets 10.244.0.0/24, as kubeadm clusters show).
 */
export function planAllocations(nodes: Node[], clusterCidr: string): Map<string, string> {
  const used = new Set(nodes.map((n) => n.spec?.podCIDR).filter((c): c is string => Boolean(c)));
  const free = nodeRanges(clusterCidr).filter((range) => !used.has(range));
  const waiting = nodes
    .filter((n) => !n.spec?.podCIDR && !n.metadata?.deletionTimestamp)
    .sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const plan = new Map<string, string>();
  for (const node of waiting) {
    const range = free.shift();
    if (range === undefined) break;
    plan.set(node.metadata?.name ?? '', range);
  }
  return plan;
}

export function setupNodeIpamController(ctx: ControllerContext): () => Promise<void> {
  const nodes = ctx.informer<Node>('/api/v1/nodes');
  const queue = new WorkQueue('node-ipam', { log: ctx.log });
  // One key: allocations depend on every node's range, so they are planned together.
  const ALL = 'all';
  nodes.onAdd(() => queue.add(ALL)).onUpdate((n, old) => n.spec?.podCIDR !== old.spec?.podCIDR && queue.add(ALL)).onDelete(() => queue.add(ALL));

  const sync = async (): Promise<void> => {
    const all = nodes.list();
    const plan = planAllocations(all, ctx.settings.clusterCidr);
    for (const node of all) {
      if (!node.spec?.podCIDR && !node.metadata?.deletionTimestamp && !plan.has(node.metadata?.name ?? '')) {
        void recordEvent(ctx.client, { kind: 'Node', apiVersion: 'v1', name: node.metadata?.name ?? '', uid: node.metadata?.uid ?? '', namespace: '' }, 'Warning', 'CIDRNotAvailable', `Node ${node.metadata?.name} status is now: CIDRNotAvailable`, COMPONENT);
      }
    }
    for (const [name, range] of plan) {
      // resourceVersion makes the patch conditional: a range is never given twice, even when
      // this cache is behind (a former leader's write not seen yet).
      const resourceVersion = nodes.get(name)?.metadata?.resourceVersion;
      try {
        await ctx.client.patch(`/api/v1/nodes/${name}`, { metadata: { resourceVersion }, spec: { podCIDR: range, podCIDRs: [range] } }, 'merge');
        ctx.log(`node-ipam: node ${name} gets pod range ${range}`);
      } catch (err) {
        if (!isConflict(err)) ctx.log(`node-ipam: giving ${range} to node ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
        queue.addAfter(ALL, 500);
      }
    }
  };
  return () => queue.run(sync, ctx.signal, 1);
}
