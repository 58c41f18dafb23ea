/** `replicas: {workload: web, running: 3}`: how many replicas run and are ready. */
import * as z from 'zod';
import { describeReplicas, runningReplicas, withWorkload, workloadFields, workloadName, type WorkloadParams } from './workload.js';
import { plural, type CheckKind } from './types.js';

const count = () => z.int().min(0);

const params = z
  .strictObject({
    ...workloadFields,
    running: count().optional().meta({ description: 'Exactly this many replicas running and ready.' }),
    min: count().optional().meta({ description: 'At least this many running.' }),
    max: count().optional().meta({ description: 'At most this many running.' }),
    desired: count().optional().meta({ description: 'The spec asks for exactly this many replicas.' }),
  })
  .refine((p) => [p.running, p.min, p.max, p.desired].some((v) => v !== undefined), {
    message: 'say how many: running, min, max or desired',
    params: { hint: 'like {workload: web, running: 3}' },
  });

type Params = z.output<typeof params> & WorkloadParams;

function expectedCount(p: Params): string {
  const parts: string[] = [];
  if (p.running !== undefined) parts.push(`${plural(p.running, 'replica')} running`);
  if (p.min !== undefined) parts.push(`at least ${p.min} running`);
  if (p.max !== undefined) parts.push(`at most ${p.max} running`);
  if (p.desired !== undefined) parts.push(`${p.desired} desired`);
  return parts.join(', ');
}

export const replicasCheck: CheckKind<Params> = {
  name: 'replicas',
  summary: 'how many replicas of a service/deployment run and are ready (exactly, at least, at most), and how many the spec asks for',
  params,
  expected: (p, engine) => `${workloadName(p, engine)}: ${expectedCount(p)}`,
  evaluate: (p, ctx) =>
    withWorkload(p, ctx, (w) => {
      const running = runningReplicas(w).length;
      const ok =
        (p.running === undefined || running === p.running) &&
        (p.min === undefined || running >= p.min) &&
        (p.max === undefined || running <= p.max) &&
        (p.desired === undefined || w.desired === p.desired);
      const desired = w.desired === undefined ? 'global' : `${w.desired} desired`;
      return { ok, observed: `${desired}; ${describeReplicas(w.replicas)}` };
    }),
};
