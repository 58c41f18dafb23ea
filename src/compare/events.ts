/**
 * The events `clusterlab compare` (and the swarm-vs-k8s lab) puts both orchestrators
 * through, in the order they run: each one is something that happens to a real service.
 */
import { UsageError } from '../common/errors.js';

export const COMPARE_EVENTS = ['crash', 'node-loss', 'rollout', 'scale'] as const;
export type CompareEvent = (typeof COMPARE_EVENTS)[number];

/** What the timed figure of each event measures, for tables and the chart. */
export const EVENT_TITLES: Record<CompareEvent, { title: string; time: string }> = {
  crash: { title: 'crash a replica', time: 'time to recover' },
  'node-loss': { title: 'lose a node', time: 'time to recover' },
  rollout: { title: 'rolling update v1→v2', time: 'rollout time' },
  scale: { title: 'scale 1→10', time: 'time to scale' },
};

/** `crash,scale` → ['crash', 'scale'], in the canonical order, each once. */
export function parseEvents(text: string | undefined): CompareEvent[] {
  if (text === undefined || text.trim() === '') return [...COMPARE_EVENTS];
  const asked = text.split(',').map((e) => e.trim()).filter(Boolean);
  const unknown = asked.filter((e) => !(COMPARE_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0) {
    throw new UsageError(`unknown event${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, `events are ${COMPARE_EVENTS.join(', ')}`);
  }
  return COMPARE_EVENTS.filter((e) => asked.includes(e));
}
