/** The engines a lab may target; the same names as the cluster's `engine`. */
export const LAB_ENGINES = ['swarm', 'kube'] as const;
export type LabEngine = (typeof LAB_ENGINES)[number];

/** What the learner's workload is called on each engine, for messages. */
export function workloadNoun(engine: LabEngine): string {
  return engine === 'swarm' ? 'service' : 'deployment';
}
