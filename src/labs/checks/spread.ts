/** `spread: {workload: web, minNodes: 2}`: running replicas are on at least N different nodes. */
import * as z from 'zod';
import { runningReplicas, withWorkload, workloadFields, workloadName, type WorkloadParams } from './workload.js';
import type { CheckKind } from './types.js';

const params = z.strictObject({
  ...workloadFields,
  minNodes: z.int().min(1).meta({ description: 'Running replicas are on at least this many different nodes.' }),
});

type Params = z.output<typeof params> & WorkloadParams;

export const spreadCheck: CheckKind<Params> = {
  name: 'spread',
  summary: 'running replicas of a service/deployment are spread over at least N nodes',
  params,
  expected: (p, engine) => `running replicas of ${workloadName(p, engine)} on at least ${p.minNodes} different nodes`,
  evaluate: (p, ctx) =>
    withWorkload(p, ctx, (w) => {
      const perNode = new Map<string, number>();
      for (const r of runningReplicas(w)) perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
      const shown = [...perNode.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([node, n]) => `${node} ×${n}`);
      return {
        ok: perNode.size >= p.minNodes,
        observed: perNode.size === 0 ? 'no running replicas' : `running on ${perNode.size} node${perNode.size === 1 ? '' : 's'}: ${shown.join(', ')}`,
      };
    }),
};
