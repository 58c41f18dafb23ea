/** `nodes: {ready: 3}`: the cluster's nodes, counted. */
import * as z from 'zod';
import type { LabNode } from '../view.js';
import { plural, type CheckKind } from './types.js';

const params = z
  .strictObject({
    ready: z.int().min(0).optional().meta({ description: 'At least this many nodes are Ready.' }),
    count: z.int().min(1).optional().meta({ description: 'Exactly this many nodes are members of the cluster.' }),
    managers: z.int().min(1).optional().meta({ description: 'Exactly this many managers (swarm) / control planes (kube).' }),
  })
  .refine((p) => p.ready !== undefined || p.count !== undefined || p.managers !== undefined, {
    message: 'say what to count: ready, count or managers',
    params: { hint: 'like {ready: 3}' },
  });

type Params = z.output<typeof params>;

/** "leader (manager, Ready), worker1 (Ready), worker2 (Down)" */
export function describeNodes(nodes: LabNode[]): string {
  if (nodes.length === 0) return 'no nodes';
  return nodes
    .map((n) => {
      const facts = [...(n.role === 'manager' ? ['manager'] : []), n.state, ...(n.schedulable ? [] : [n.availability])];
      return `${n.name} (${facts.join(', ')})`;
    })
    .join(', ');
}

export const nodesCheck: CheckKind<Params> = {
  name: 'nodes',
  summary: 'how many nodes the cluster has, how many are Ready, how many are managers',
  params,
  expected: (p) =>
    [
      ...(p.count !== undefined ? [plural(p.count, 'node')] : []),
      ...(p.ready !== undefined ? [`at least ${p.ready} Ready`] : []),
      ...(p.managers !== undefined ? [plural(p.managers, 'manager')] : []),
    ].join(', '),
  async evaluate(p, ctx) {
    const nodes = await ctx.view.nodes();
    const ready = nodes.filter((n) => n.ready).length;
    const managers = nodes.filter((n) => n.role === 'manager').length;
    const ok =
      (p.count === undefined || nodes.length === p.count) &&
      (p.ready === undefined || ready >= p.ready) &&
      (p.managers === undefined || managers === p.managers);
    return { ok, observed: `${plural(nodes.length, 'node')}, ${ready} Ready: ${describeNodes(nodes)}` };
  },
};
