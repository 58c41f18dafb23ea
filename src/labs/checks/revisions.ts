/** `revisions: {workload: web, min: 2}`: how many versions of the workload were rolled out. */
import * as z from 'zod';
import { withWorkload, workloadFields, workloadName, type WorkloadParams } from './workload.js';
import { plural, type CheckKind } from './types.js';

const params = z
  .strictObject({
    ...workloadFields,
    min: z.int().min(1).optional().meta({ description: 'At least this many revisions.' }),
    exactly: z.int().min(1).optional().meta({ description: 'Exactly this many revisions.' }),
  })
  .refine((p) => p.min !== undefined || p.exactly !== undefined, { message: 'say how many: min or exactly', params: { hint: 'like {workload: web, min: 2}' } });

type Params = z.output<typeof params> & WorkloadParams;

export const revisionsCheck: CheckKind<Params> = {
  name: 'revisions',
  summary: 'how many revisions a workload has (kube: ReplicaSets of the Deployment; swarm: distinct images in the task history)',
  params,
  expected: (p, engine) =>
    `${workloadName(p, engine)} has ${p.exactly !== undefined ? `exactly ${plural(p.exactly, 'revision')}` : `at least ${plural(p.min ?? 1, 'revision')}`}`,
  evaluate: (p, ctx) =>
    withWorkload(p, ctx, (w) => ({
      ok: (p.exactly === undefined || w.revisions === p.exactly) && (p.min === undefined || w.revisions >= p.min),
      observed: plural(w.revisions, 'revision'),
    })),
};
