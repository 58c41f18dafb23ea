/** `restarts: {workload: web, min: 1}`: the orchestrator restarted or replaced failed replicas. */
import * as z from 'zod';
import { withWorkload, workloadFields, workloadName, type WorkloadParams } from './workload.js';
import { plural, type CheckKind } from './types.js';

const params = z.strictObject({
  ...workloadFields,
  min: z.int().min(1).default(1).meta({ description: 'At least this many failed replicas were restarted or replaced.' }),
});

type Params = z.output<typeof params> & WorkloadParams;

export const restartsCheck: CheckKind<Params> = {
  name: 'restarts',
  summary:
    'failed replicas were restarted or replaced at least N times (swarm: failed tasks in the service history; kube: container restarts)',
  params,
  expected: (p, engine) => `at least ${plural(p.min, 'failed replica')} of ${workloadName(p, engine)} restarted or replaced`,
  evaluate: (p, ctx) =>
    withWorkload(p, ctx, (w) => ({
      ok: w.restarts >= p.min,
      observed: ctx.engine === 'swarm' ? `${plural(w.restarts, 'failed task')} in the service's history` : `${plural(w.restarts, 'container restart')}`,
    })),
};
