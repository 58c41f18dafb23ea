/** `rollout: {workload: web, state: stalled}`: where the latest update of a workload stands. */
import * as z from 'zod';
import { ROLLOUT_STATES } from '../view.js';
import { withWorkload, workloadFields, workloadName, type WorkloadParams } from './workload.js';
import type { CheckKind } from './types.js';

const params = z.strictObject({
  ...workloadFields,
  state: z.enum(ROLLOUT_STATES).meta({
    description:
      'complete: every replica runs the spec; progressing: being replaced; stalled: swarm paused the update, or kube exceeded the progress deadline; paused: kube spec.paused.',
  }),
});

type Params = z.output<typeof params> & WorkloadParams;

export const rolloutCheck: CheckKind<Params> = {
  name: 'rollout',
  summary: "a workload's rollout is complete, progressing, stalled (swarm: update paused; kube: ProgressDeadlineExceeded) or paused",
  params,
  expected: (p, engine) => `the rollout of ${workloadName(p, engine)} is ${p.state}`,
  evaluate: (p, ctx) =>
    withWorkload(p, ctx, (w) =>
      w.rollout
        ? { ok: w.rollout.state === p.state, observed: `${w.rollout.state} (${w.rollout.detail})` }
        : { ok: false, observed: 'this cluster does not report rollouts' },
    ),
};
