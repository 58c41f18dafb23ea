/** `placement: {workload: web, notOn: [worker2]}`: where the running replicas are (and are not). */
import * as z from 'zod';
import { runningReplicas, withWorkload, workloadFields, workloadName, type WorkloadParams } from './workload.js';
import type { CheckKind } from './types.js';

const nodeList = () => z.array(z.string().min(1)).min(1);

const params = z
  .strictObject({
    ...workloadFields,
    notOn: nodeList().optional().meta({ description: 'No running replica is on these nodes.' }),
    onlyOn: nodeList().optional().meta({ description: 'Every running replica is on one of these nodes.' }),
    on: nodeList().optional().meta({ description: 'Each of these nodes runs at least one replica.' }),
  })
  .refine((p) => p.notOn !== undefined || p.onlyOn !== undefined || p.on !== undefined, {
    message: 'say where: notOn, onlyOn or on',
    params: { hint: 'like {workload: web, notOn: [worker2]}' },
  });

type Params = z.output<typeof params> & WorkloadParams;

function expectation(p: Params): string {
  const parts: string[] = [];
  if (p.notOn) parts.push(`none on ${p.notOn.join(', ')}`);
  if (p.onlyOn) parts.push(`only on ${p.onlyOn.join(', ')}`);
  if (p.on) parts.push(`at least one on each of ${p.on.join(', ')}`);
  return parts.join('; ');
}

export const placementCheck: CheckKind<Params> = {
  name: 'placement',
  summary: 'running replicas avoid some nodes (notOn), stay on some (onlyOn), or cover some (on)',
  params,
  expected: (p, engine) => `running replicas of ${workloadName(p, engine)}: ${expectation(p)}`,
  evaluate: (p, ctx) =>
    withWorkload(p, ctx, (w) => {
      const running = runningReplicas(w);
      const nodes = new Set(running.map((r) => r.node));
      const wrong = running.filter((r) => (p.notOn?.includes(r.node) ?? false) || (p.onlyOn !== undefined && !p.onlyOn.includes(r.node)));
      const uncovered = (p.on ?? []).filter((n) => !nodes.has(n));
      const where = running.length ? running.map((r) => `${r.name} on ${r.node}`).join(', ') : 'no running replicas';
      const problems = [
        ...(wrong.length ? [`misplaced: ${wrong.map((r) => `${r.name} on ${r.node}`).join(', ')}`] : []),
        ...(uncovered.length ? [`nothing on ${uncovered.join(', ')}`] : []),
      ];
      return { ok: problems.length === 0, observed: problems.length ? `${problems.join('; ')} (${where})` : where };
    }),
};
