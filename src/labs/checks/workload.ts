/** What the checks about a workload (a swarm service or a kube Deployment) share. */
import * as z from 'zod';
import { workloadNoun, type LabEngine } from '../engines.js';
import type { Replica, Workload } from '../view.js';
import type { CheckContext, Observation } from './types.js';

export const workloadFields = {
  workload: z.string().min(1).meta({ description: 'Name of the swarm service or the Kubernetes Deployment.' }),
  namespace: z.string().min(1).optional().meta({ description: 'Kubernetes namespace (default "default"); ignored on swarm.' }),
};

export interface WorkloadParams {
  workload: string;
  namespace?: string | undefined;
}

export function workloadName(p: WorkloadParams, engine: LabEngine): string {
  const where = engine === 'kube' && p.namespace && p.namespace !== 'default' ? ` in namespace ${p.namespace}` : '';
  return `${workloadNoun(engine)} ${p.workload}${where}`;
}

/** "3 running (web.1 on leader, web.2 on worker1, web.3 on worker2); 1 starting (web.4 on leader)". */
export function describeReplicas(replicas: Replica[]): string {
  if (replicas.length === 0) return 'no replicas';
  const groups = new Map<string, Replica[]>();
  for (const r of replicas) {
    const key = r.running ? 'running' : r.state || 'unknown';
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const order = [...groups.keys()].sort((a, b) => (a === 'running' ? -1 : b === 'running' ? 1 : a.localeCompare(b)));
  return order
    .map((state) => {
      const list = groups.get(state)!;
      const shown = list.slice(0, 6).map((r) => `${r.name}${r.node ? ` on ${r.node}` : ''}`);
      if (list.length > shown.length) shown.push(`${list.length - shown.length} more`);
      return `${list.length} ${state} (${shown.join(', ')})`;
    })
    .join('; ');
}

export function runningReplicas(w: Workload): Replica[] {
  return w.replicas.filter((r) => r.running);
}

/**
 * Looks the workload up and hands it to `judge`; a missing workload is a failed
 * observation that says so.
 */
export async function withWorkload(
  p: WorkloadParams,
  ctx: CheckContext,
  judge: (w: Workload) => Observation,
): Promise<Observation> {
  const workload = await ctx.view.workload(p.workload, p.namespace);
  if (!workload) return { ok: false, observed: `there is no ${workloadName(p, ctx.engine)}` };
  return judge(workload);
}
