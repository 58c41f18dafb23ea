/**
 * What the dashboard shows, the same for both engines: nodes as columns, workloads
 * (services / deployments) with their replicas, and cards (tasks / pods) placed on nodes.
 * Plain data, shared by the server and the page (no Node.js or DOM imports here).
 */

import type { StatePatch } from './diff.js';

export type DashboardEngine = 'swarm' | 'kube';

/** The orchestrator's verdict on a node: the column's colour. */
export type NodeHealth = 'ready' | 'down' | 'unknown';

/** The node as a machine (its container on the host): powered, frozen, unplugged, gone. */
export type MachineState = 'running' | 'stopped' | 'paused' | 'disconnected' | 'missing';

export interface NodeView {
  name: string;
  role: 'manager' | 'worker';
  /** Creation order: the columns' order. */
  order: number;
  health: NodeHealth;
  /** The orchestrator's own word: Ready, Down, NotReady, Unknown… */
  status: string;
  machine: MachineState;
  address: string;
  /** Whether the scheduler may place work here (swarm availability, kube cordon). */
  schedulable: boolean;
  /** Swarm leader / kube control plane. */
  leader?: boolean;
  cpus?: number;
  memoryBytes?: number;
  /** Engine or kubelet version the node reports. */
  version?: string;
}

/** A card's colour. */
export type Tone = 'ok' | 'starting' | 'warning' | 'failed' | 'gone';

export interface CardView {
  /** Task ID / pod UID: stable for one instance. */
  id: string;
  /** web.2 / web-5d9c7-abcde */
  name: string;
  /** The service / deployment it belongs to, when any. */
  workload?: string;
  /**
   * What a replacement takes over (swarm: service and slot); cards of one slot on two nodes
   * mean the work moved. Kube pods have none.
   */
  slot?: string;
  /** Where it runs; undefined while unscheduled. */
  node?: string;
  image: string;
  /** The orchestrator's word: running, failed, Pending, CrashLoopBackOff… */
  state: string;
  tone: Tone;
  restarts: number;
  /** ISO time the instance was created or started: its age. */
  since: string;
  /** Why it is in its state (an error, a waiting reason). */
  message?: string;
  /** Kube: namespace of the pod. */
  namespace?: string;
}

export interface WorkloadView {
  /** Service name, or namespace/name of a deployment. */
  id: string;
  name: string;
  kind: 'service' | 'deployment';
  namespace?: string;
  image: string;
  /** undefined for global services. */
  desired?: number;
  ready: number;
  /** The latest rollout, in words ("2 of 4 replicas updated", "update completed"), if any. */
  rollout?: string;
}

export type StepStatus = 'pending' | 'passed' | 'failed' | 'skipped';

/** The lab runner's progress file (<state dir>/lab.json), as the runner writes it. */
export interface LabProgress {
  lab: string;
  title: string;
  engine: DashboardEngine;
  currentStep?: string;
  steps: { id: string; title: string; status: StepStatus; message?: string; checkedAt?: string }[];
  done: boolean;
  updatedAt: string;
}

export interface DashboardState {
  cluster: string;
  engine: DashboardEngine;
  /** Whether the orchestrator answered on the latest look; when not, the view is the last known one. */
  source: { ok: boolean; message?: string };
  nodes: NodeView[];
  workloads: WorkloadView[];
  cards: CardView[];
  lab?: LabProgress;
}

export type Severity = 'info' | 'ok' | 'warning' | 'error';

export interface TimelineEvent {
  /** Increasing number, per dashboard run. */
  seq: number;
  /** ISO time. */
  at: string;
  kind: 'node' | 'task' | 'pod' | 'scale' | 'rollout' | 'lab' | 'action' | 'event';
  severity: Severity;
  text: string;
}

/** Something an action or an event source has to say, before it gets its number. */
export type TimelineEntry = Omit<TimelineEvent, 'seq'>;

/** Messages the server pushes to the page (server-sent events; the key is the `event:` name). */
export interface PushMessages {
  snapshot: { state: DashboardState; timeline: TimelineEvent[] };
  patch: StatePatch;
  timeline: TimelineEvent[];
}
