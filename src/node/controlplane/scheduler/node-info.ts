/**
 * What the scheduler knows about one node while deciding: the node, the pods that hold
 * resources on it (bound and assumed ones, finished ones excluded) and their sums.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isFinished, nodeAllocatable, podNonZeroRequests, podRequests, type Resources } from './resources.js';

export interface HostPortUse {
  hostIP: string;
  protocol: string;
  port: number;
}

export class NodeInfo {
  readonly name: string;
  readonly allocatable: Resources;
  readonly requested: Resources = new Map();
  /** cpu (milli) and memory with non-zero defaults, for scoring. */
  nonZeroRequested = { cpu: 0, memory: 0 };
  podCount = 0;
  readonly usedPorts: HostPortUse[] = [];
  /** How many pods each controller (ownerReference uid) has here, for spreading replicas. */
  readonly podsByOwner = new Map<string, number>();

  constructor(readonly node: Node) {
    this.name = node.metadata?.name ?? '';
    this.allocatable = nodeAllocatable(node);
  }

  addPod(pod: Pod): void {
    this.podCount++;
    for (const [name, amount] of podRequests(pod)) this.requested.set(name, (this.requested.get(name) ?? 0) + amount);
    const nonZero = podNonZeroRequests(pod);
    this.nonZeroRequested = { cpu: this.nonZeroRequested.cpu + nonZero.cpu, memory: this.nonZeroRequested.memory + nonZero.memory };
    this.usedPorts.push(...podHostPorts(pod));
    const owner = controllerUid(pod);
    if (owner !== undefined) this.podsByOwner.set(owner, (this.podsByOwner.get(owner) ?? 0) + 1);
  }
}

/** The uid of the pod's controller ownerReference (its ReplicaSet, Job, …), if any. */
export function controllerUid(pod: Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller === true)?.uid;
}

/** Host ports the pod claims (a hostNetwork pod claims its container ports). */
export function podHostPorts(pod: Pod): HostPortUse[] {
  const hostNetwork = pod.spec?.hostNetwork === true;
  const result: HostPortUse[] = [];
  for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const port of container.ports ?? []) {
      const hostPort = port.hostPort ?? (hostNetwork ? port.containerPort : 0);
      if (!hostPort) continue;
      result.push({ hostIP: port.hostIP || '0.0.0.0', protocol: port.protocol || 'TCP', port: hostPort });
    }
  }
  return result;
}

/**
 * A NodeInfo per node with the given pods accounted: pods bound to a node (spec.nodeName)
 * plus assumed placements (pod key -> node) of binds the informer has not shown yet.
 */
export function buildNodeInfos(nodes: Node[], pods: Pod[], assumed: ReadonlyMap<string, { pod: Pod; nodeName: string }> = new Map()): Map<string, NodeInfo> {
  const infos = new Map<string, NodeInfo>();
  for (const node of nodes) {
    const info = new NodeInfo(node);
    infos.set(info.name, info);
  }
  const counted = new Set<string>();
  for (const pod of pods) {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || isFinished(pod)) continue;
    counted.add(podKey(pod));
    infos.get(nodeName)?.addPod(pod);
  }
  for (const [key, { pod, nodeName }] of assumed) {
    if (!counted.has(key)) infos.get(nodeName)?.addPod(pod);
  }
  return infos;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
