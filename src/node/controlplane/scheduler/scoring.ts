/**
 * Scoring among the nodes that fit: spread a controller's replicas first (fewest pods of the
 * same owner), then the least requested node, then the name so the choice is deterministic.
 * Pure.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { controllerUid, type NodeInfo } from './node-info.js';
import { podNonZeroRequests } from './resources.js';

export interface NodeScore {
  name: string;
  /** Pods of the same controller already on the node (0 for pods without one). */
  sameOwnerPods: number;
  /** Mean of cpu and memory requested / allocatable, this pod included (non-zero defaults). */
  requestedFraction: number;
}

function fraction(requested: number, allocatable: number): number {
  return allocatable > 0 ? requested / allocatable : 1;
}

export function scoreNode(pod: Pod, info: NodeInfo): NodeScore {
  const owner = controllerUid(pod);
  const ask = podNonZeroRequests(pod);
  const cpu = fraction(info.nonZeroRequested.cpu + ask.cpu, info.allocatable.get('cpu') ?? 0);
  const memory = fraction(info.nonZeroRequested.memory + ask.memory, info.allocatable.get('memory') ?? 0);
  return {
    name: info.name,
    sameOwnerPods: owner === undefined ? 0 : (info.podsByOwner.get(owner) ?? 0),
    requestedFraction: (cpu + memory) / 2,
  };
}

/** Negative when a is the better node. */
export function compareScores(a: NodeScore, b: NodeScore): number {
  if (a.sameOwnerPods !== b.sameOwnerPods) return a.sameOwnerPods - b.sameOwnerPods;
  if (a.requestedFraction !== b.requestedFraction) return a.requestedFraction - b.requestedFraction;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The best of the fitting nodes, or undefined when there is none. */
export function pickNode(pod: Pod, fitting: NodeInfo[]): NodeInfo | undefined {
  let best: { info: NodeInfo; score: NodeScore } | undefined;
  for (const info of fitting) {
    const score = scoreNode(pod, info);
    if (best === undefined || compareScores(score, best.score) < 0) best = { info, score };
  }
  return best?.info;
}
