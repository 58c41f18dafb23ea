/**
 * One scheduling decision: filter every node, score those that fit, or explain in
 * Kubernetes' FailedScheduling wording why none does. Pure.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from './node-info.js';
import { unfitReasons } from './predicates.js';
import { pickNode } from './scoring.js';

export type Decision = { nodeName: string } | { unschedulable: string };

export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/**
 * Kubernetes' FitError text: "0/N nodes are available: <count reason, …sorted>." followed by
 * the preemption post-filter's verdict (no preemption here, so it is never helpful).
 */
export function failedSchedulingMessage(totalNodes: number, reasonCounts: ReadonlyMap<string, number>): string {
  if (totalNodes === 0) return NO_NODES_MESSAGE;
  const histogram = [...reasonCounts].map(([reason, count]) => `${count} ${reason}`).sort();
  return (
    `0/${totalNodes} nodes are available: ${histogram.join(', ')}. ` +
    `preemption: 0/${totalNodes} nodes are available: ${totalNodes} Preemption is not helpful for scheduling.`
  );
}

export function schedulePod(pod: Pod, nodes: Iterable<NodeInfo>): Decision {
  const fitting: NodeInfo[] = [];
  const reasonCounts = new Map<string, number>();
  let total = 0;
  for (const info of nodes) {
    total++;
    const reasons = unfitReasons(pod, info);
    if (reasons.length === 0) fitting.push(info);
    for (const reason of reasons) reasonCounts.set(reason, (reasonCounts.get(reason) ?? 0) + 1);
  }
  const best = pickNode(pod, fitting);
  if (best !== undefined) return { nodeName: best.name };
  return { unschedulable: failedSchedulingMessage(total, reasonCounts) };
}
