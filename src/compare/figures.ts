/**
 * What a comparison measured: per engine, per event, the timed figure and what the probe
 * saw. report.json is this object as it is; report.md and the chart are drawn from it.
 */
import type { LabEngine } from '../labs/engines.js';
import type { CompareEvent } from './events.js';

export interface ProbeFigures {
  requests: number;
  failed: number;
  /** The longest run of failed requests, first failure to next success (s). */
  downtimeSeconds: number;
  failuresByReason: Record<string, number>;
  latencyP95Ms: number | null;
}

export interface EventFigures {
  event: CompareEvent;
  /** Whether the cluster got back to the expected state within the event's time limit. */
  completed: boolean;
  /** From the event until the expected state (null when it never came). */
  seconds: number | null;
  probe: ProbeFigures | null;
  /** What the measurement saw, in words: "web.2 on worker1 killed; 3 running again". */
  detail: string;
  /** Set when the event could not be run or measured. */
  error?: string;
}

export interface EngineResult {
  engine: LabEngine;
  cluster: string;
  startedAt: string;
  finishedAt: string;
  events: EventFigures[];
  /** Set when the engine's run stopped early (the cluster could not be made…). */
  error?: string;
}

export interface ComparisonSettings {
  nodes: number;
  replicas: number;
  probeRatePerSecond: number;
  /** The kube cluster's node-failure timings (Kubernetes' defaults are 40 s and 300 s). */
  kube: { nodeMonitorGracePeriodSeconds: number; defaultTolerationSeconds: number };
}

export interface ComparisonReport {
  version: 1;
  createdAt: string;
  /** Set when the figures come from a lab's runs (swarm-vs-k8s) rather than `clusterlab compare`. */
  lab?: string;
  events: CompareEvent[];
  settings: ComparisonSettings;
  engines: EngineResult[];
}

export function resultFor(report: ComparisonReport, engine: LabEngine, event: CompareEvent): EventFigures | undefined {
  return report.engines.find((e) => e.engine === engine)?.events.find((e) => e.event === event);
}
