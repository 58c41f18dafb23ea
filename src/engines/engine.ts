import type Docker from 'dockerode';
import type { ClusterSpec, NodeSpec } from '../cluster/spec.js';
import type { NodeRecord } from '../docker/provider.js';

/** What an engine is told about the cluster it works on. */
export interface EngineContext {
  docker: Docker;
  spec: ClusterSpec;
  /** The nodes as they are now (running ones are the ones to use). */
  nodes: NodeRecord[];
  signal?: AbortSignal;
  /** Reports a detail of the current step ("joining worker2"). */
  progress?: (detail: string) => void;
}

/** One row of the orchestrator's view of its nodes (status, node ls). */
export interface OrchestratorNodeState {
  /** swarm: Ready | Down | Unknown; kube: Ready | NotReady | Unknown */
  state: string;
  /** swarm: Active | Pause | Drain; kube: Schedulable | SchedulingDisabled */
  availability: string;
  /** swarm: Leader | Reachable | Unreachable | ''; kube: control-plane | '' */
  managerStatus: string;
}

export interface BootstrapResult {
  /** Lines for the "how to use it" summary at the end of `up`. */
  notes: string[];
}

/** The orchestrator side of a cluster: what runs inside the nodes once their engines are up. */
export interface ClusterEngine {
  readonly name: 'swarm' | 'kube';
  /** Forms the cluster on freshly started nodes. */
  bootstrap(ctx: EngineContext): Promise<BootstrapResult>;
  /** Joins a node added to a running cluster. */
  joinNode(ctx: EngineContext, node: NodeRecord, spec: NodeSpec): Promise<void>;
  /** Takes a node out of the cluster cleanly before its container is removed. */
  removeNode(ctx: EngineContext, node: NodeRecord): Promise<void>;
  /** The orchestrator's view of every node, by node name; empty when no manager answers. */
  nodeStates(ctx: EngineContext): Promise<Map<string, OrchestratorNodeState>>;
  /** Waits until the named nodes are healthy members again (after start/connect). */
  waitNodesReady(ctx: EngineContext, names: string[], timeoutMs: number): Promise<void>;
  /** Facts worth showing in `status` (e.g. whether the routing mesh works). */
  describe(ctx: EngineContext): Promise<Record<string, string>>;
}
