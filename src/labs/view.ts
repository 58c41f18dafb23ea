/**
 * What lab checks may see of a cluster, the same for both engines: nodes, and workloads
 * (a swarm service or a Kubernetes Deployment) with their replicas. The back ends read it
 * from the Docker API (backends/swarm.ts) and the Kubernetes API (backends/kube.ts): never
 * from CLI output, never from files a learner can edit.
 */
import type { LabEngine } from './engines.js';

export interface LabNode {
  name: string;
  role: 'manager' | 'worker';
  /** swarm: status ready; kube: the Ready condition is True. */
  ready: boolean;
  /** The orchestrator's word for it: swarm ready|down|unknown…, kube Ready|NotReady|Unknown. */
  state: string;
  /** swarm: availability active; kube: not cordoned. */
  schedulable: boolean;
  /** swarm: availability active|pause|drain; kube: Schedulable|SchedulingDisabled. */
  availability: string;
  /** Address other machines reach it at ('' when unknown). */
  address: string;
}

export interface Replica {
  /** swarm: service.slot (web.2); kube: the pod's name. */
  name: string;
  /** Node name ('' while unscheduled). */
  node: string;
  /** swarm: the task's state (running, starting, pending, failed…); kube: the pod's phase, or Terminating. */
  state: string;
  /** Running and ready: counted as a replica that serves. */
  running: boolean;
  /** Image reference as deployed, without a digest. */
  image: string;
}

export interface Workload {
  /** swarm `service`, kube `deployment`. */
  kind: string;
  name: string;
  /** Replicas asked for; undefined for a global service. */
  desired: number | undefined;
  /** The image the workload's spec asks for now (first container), without a digest. */
  image: string;
  /** The replicas that are wanted now (swarm: tasks with desired state running; kube: the pods). */
  replicas: Replica[];
  /** Replicas that failed and were restarted or replaced (swarm: failed tasks; kube: container restarts). */
  restarts: number;
  /** Versions of the spec seen (kube: ReplicaSets of the Deployment; swarm: distinct images in the task history). */
  revisions: number;
  /** Where the latest change of the spec stands (absent when the back end cannot tell). */
  rollout?: Rollout;
}

/**
 * complete: every replica runs the current spec; progressing: replicas are being replaced;
 * stalled: the orchestrator gave up waiting (swarm: update paused; kube: progress deadline
 * exceeded); paused: someone paused it (kube: spec.paused).
 */
export type RolloutState = 'complete' | 'progressing' | 'stalled' | 'paused';
export const ROLLOUT_STATES: readonly RolloutState[] = ['complete', 'progressing', 'stalled', 'paused'];

export interface Rollout {
  state: RolloutState;
  /** The orchestrator's own words: swarm's UpdateStatus message, kube's Progressing condition. */
  detail: string;
}

export interface ClusterView {
  readonly engine: LabEngine;
  nodes(): Promise<LabNode[]>;
  /** The workload by name, undefined when there is none. `namespace` is for kube (default "default"). */
  workload(name: string, namespace?: string): Promise<Workload | undefined>;
  close(): Promise<void>;
}

/** Image references compare without registry defaults and digests: `docker.io/library/nginx:1@sha256:…` = `nginx:1`. */
export function normalizeImage(ref: string): string {
  let image = ref.trim().split('@')[0] ?? '';
  image = image.replace(/^docker\.io\//, '').replace(/^library\//, '');
  const lastSlash = image.lastIndexOf('/');
  if (!image.slice(lastSlash + 1).includes(':')) image += ':latest';
  return image;
}
