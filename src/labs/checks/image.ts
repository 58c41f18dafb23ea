/** `image: {workload: web, image: clusterlab/web:v2}`: the version that runs. */
import * as z from 'zod';
import { normalizeImage } from '../view.js';
import { runningReplicas, withWorkload, workloadFields, workloadName, type WorkloadParams } from './workload.js';
import type { CheckKind } from './types.js';

const params = z.strictObject({
  ...workloadFields,
  image: z.string().min(1).meta({ description: 'Image reference, like clusterlab/web:v2 (a missing tag means :latest).' }),
  all: z.boolean().default(true).meta({ description: 'Every running replica runs it (default); false: at least one does.' }),
});

type Params = z.output<typeof params> & WorkloadParams;

export const imageCheck: CheckKind<Params> = {
  name: 'image',
  summary: 'the service/deployment asks for an image, and its running replicas run it (all of them, or at least one)',
  params,
  expected: (p, engine) => `${workloadName(p, engine)} runs ${p.image}${p.all ? ' on every running replica' : ' on at least one replica'}`,
  evaluate: (p, ctx) =>
    withWorkload(p, ctx, (w) => {
      const want = normalizeImage(p.image);
      const running = runningReplicas(w);
      const counts = new Map<string, number>();
      for (const r of running) counts.set(r.image, (counts.get(r.image) ?? 0) + 1);
      const matching = counts.get(want) ?? 0;
      const ok = p.all ? normalizeImage(w.image) === want && running.length > 0 && matching === running.length : matching > 0;
      const runs = [...counts.entries()].map(([image, n]) => `${n} on ${image}`).join(', ') || 'no running replicas';
      return { ok, observed: `spec asks for ${normalizeImage(w.image)}; running: ${runs}` };
    }),
};
