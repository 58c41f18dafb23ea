/** `node: {name: worker2, ready: false}`: one node's state as the orchestrator sees it. */
import * as z from 'zod';
import type { CheckKind } from './types.js';

const params = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Node name (hostname), like worker2.' }),
    ready: z.boolean().optional().meta({ description: 'true: Ready; false: down / NotReady / unknown.' }),
    schedulable: z.boolean().optional().meta({ description: 'false: drained or paused (swarm), cordoned (kube).' }),
    role: z.enum(['manager', 'worker']).optional(),
    present: z.boolean().optional().meta({ description: 'false: the node is no member of the cluster (removed).' }),
  })
  .refine((p) => p.ready !== undefined || p.schedulable !== undefined || p.role !== undefined || p.present !== undefined, {
    message: 'say what to look at: ready, schedulable, role or present',
    params: { hint: 'like {name: worker2, ready: false}' },
  });

type Params = z.output<typeof params>;

function expectation(p: Params): string {
  if (p.present === false) return `node ${p.name} is not in the cluster`;
  const facts = [
    ...(p.ready === undefined ? [] : [p.ready ? 'Ready' : 'not Ready (down)']),
    ...(p.schedulable === undefined ? [] : [p.schedulable ? 'schedulable' : 'not schedulable (drained, paused or cordoned)']),
    ...(p.role === undefined ? [] : [`a ${p.role}`]),
  ];
  return `node ${p.name}${facts.length ? `: ${facts.join(', ')}` : ' is in the cluster'}`;
}

export const nodeCheck: CheckKind<Params> = {
  name: 'node',
  summary: "one node's state: Ready or down, schedulable or drained/cordoned, its role, or that it was removed",
  params,
  expected: (p) => expectation(p),
  async evaluate(p, ctx) {
    const nodes = await ctx.view.nodes();
    const node = nodes.find((n) => n.name === p.name);
    if (!node) {
      const known = nodes.map((n) => n.name).join(', ') || 'none';
      return { ok: p.present === false, observed: `no node ${p.name} in the cluster (its nodes: ${known})` };
    }
    const ok =
      p.present !== false &&
      (p.ready === undefined || node.ready === p.ready) &&
      (p.schedulable === undefined || node.schedulable === p.schedulable) &&
      (p.role === undefined || node.role === p.role);
    return { ok, observed: `node ${node.name}: ${node.role}, ${node.state}, ${node.availability}` };
  },
};
