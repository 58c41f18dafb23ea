/**
 * The node lifecycle controller: notices node agents that stopped renewing their Lease
 * (kube-node-lease/<node>) and turns their conditions Unknown after the grace period, keeps
 * the condition taints (not-ready, unreachable, pressures, unschedulable) in step with each
 * node's state, marks pods on a node that is not Ready as not Ready, and — as the taint
 * eviction manager — deletes pods whose NoExecute taint toleration has run out.
 * Decisions are in node-health.ts.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound, recordEvent } from '../../shared/api-client.js';
import type { ControllerContext } from './context.js';
import { podEviction, readyStatus, reconcileTaints, silentNodeConditions } from './node-health.js';
import { WorkQueue } from './work-queue.js';
import { isPodTerminal, kubeTime, podPath } from './workload-pods.js';

const COMPONENT = 'node-controller';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Kubernetes checks node health every 5 s; with a shorter grace period (tests), more often. */
const MAX_MONITOR_PERIOD_MS = 5_000;

export interface NodeLifecycleOptions {
  now?: () => Date;
}

interface NodeHealth {
  /** When this controller last saw the agent alive (a Lease renewal or a new heartbeat). */
  probeMs: number;
  renewTime?: string;
  heartbeat?: string;
  lastReady?: string;
  /** When each managed NoExecute taint without timeAdded was first seen (key|effect). */
  untimedTaints: Map<string, number>;
}

export function setupNodeLifecycleController(ctx: ControllerContext, opts: NodeLifecycleOptions = {}): () => Promise<void> {
  const nodes = ctx.informer<Node>('/api/v1/nodes');
  const leases = ctx.informer<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`);
  const pods = ctx.informer<Pod>('/api/v1/pods');
  const queue = new WorkQueue('node-lifecycle', { log: ctx.log });
  const health = new Map<string, NodeHealth>();
  const now = opts.now ?? (() => new Date());
  const graceMs = ctx.settings.nodeMonitorGracePeriodSeconds * 1000;

  const healthOf = (name: string): NodeHealth => {
    let entry = health.get(name);
    if (!entry) {
      // A node first seen gets a full grace period, as after a controller restart.
      entry = { probeMs: now().getTime(), untimedTaints: new Map() };
      health.set(name, entry);
    }
    return entry;
  };
  const observeNode = (node: Node): void => {
    const entry = healthOf(node.metadata?.name ?? '');
    const heartbeat = node.status?.conditions?.find((condition) => condition.type === 'Ready')?.lastHeartbeatTime;
    if (heartbeat && heartbeat !== entry.heartbeat) {
      if (entry.heartbeat !== undefined) entry.probeMs = now().getTime();
      entry.heartbeat = heartbeat;
    }
  };
  const observeLease = (lease: Lease): void => {
    const entry = healthOf(lease.metadata?.name ?? '');
    const renewTime = lease.spec?.renewTime;
    if (renewTime && renewTime !== entry.renewTime) {
      if (entry.renewTime !== undefined) entry.probeMs = now().getTime();
      entry.renewTime = renewTime;
      queue.add(lease.metadata?.name ?? '');
    }
  };

  nodes
    .onAdd((node) => {
      observeNode(node);
      const name = node.metadata?.name ?? '';
      nodeEvent(node, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
      queue.add(name);
    })
    .onUpdate((node) => {
      observeNode(node);
      queue.add(node.metadata?.name ?? '');
    })
    .onDelete((node) => health.delete(node.metadata?.name ?? ''));
  leases.onAdd(observeLease).onUpdate(observeLease);
  const enqueuePodNode = (pod: Pod): void => {
    if (pod.spec?.nodeName) queue.add(pod.spec.nodeName);
  };
  pods.onAdd(enqueuePodNode).onUpdate(enqueuePodNode);

  const podsOn = (nodeName: string): Pod[] => pods.list().filter((pod) => pod.spec?.nodeName === nodeName && !isPodTerminal(pod));
  const nodeEvent = (node: Node, type: 'Normal' | 'Warning', reason: string, message: string): void => {
    const name = node.metadata?.name ?? '';
    void recordEvent(ctx.client, { kind: 'Node', name, uid: node.metadata?.uid ?? name }, type, reason, message, COMPONENT);
  };
  const podEvent = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void => {
    const involved = { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', uid: pod.metadata?.uid ?? '' };
    void recordEvent(ctx.client, involved, type, reason, message, COMPONENT);
  };

  /** Ready=False on each pod of a node that is not Ready (kube's MarkPodsNotReady). */
  const markPodsNotReady = async (nodeName: string): Promise<void> => {
    for (const pod of podsOn(nodeName)) {
      const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
      if (ready?.status === 'False' || pod.metadata?.deletionTimestamp) continue;
      const condition = { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: kubeTime(now()) };
      try {
        await ctx.client.patch(`${podPath(pod)}/status`, { status: { conditions: [condition] } }, 'strategic');
        podEvent(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  };

  /** The taint eviction manager's pass over one node; returns when to look again (ms), if ever. */
  const evictPods = async (node: Node, entry: NodeHealth): Promise<number | undefined> => {
    const taints = node.spec?.taints ?? [];
    const seen = new Set<string>();
    for (const taint of taints) {
      if (taint.effect !== 'NoExecute' || taint.timeAdded) continue;
      const id = `${taint.key}|${taint.value ?? ''}`;
      seen.add(id);
      if (!entry.untimedTaints.has(id)) entry.untimedTaints.set(id, now().getTime());
    }
    for (const id of entry.untimedTaints.keys()) if (!seen.has(id)) entry.untimedTaints.delete(id);
    const untimedSince = Math.min(now().getTime(), ...entry.untimedTaints.values());
    let nextCheck: number | undefined;
    for (const pod of podsOn(node.metadata?.name ?? '')) {
      if (pod.metadata?.deletionTimestamp) continue;
      const decision = podEviction(pod, taints, untimedSince);
      if (decision.kind === 'never') continue;
      const waitMs = decision.kind === 'at' ? decision.at.getTime() - now().getTime() : 0;
      if (waitMs > 0) {
        nextCheck = Math.min(nextCheck ?? Infinity, waitMs);
        continue;
      }
      const name = `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
      try {
        const disruption = {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByTaintManager',
          message: 'Taint manager: deleting due to NoExecute taint',
          lastProbeTime: null,
          lastTransitionTime: kubeTime(now()),
        };
        await ctx.client.patch(`${podPath(pod)}/status`, { status: { conditions: [disruption] } }, 'strategic').catch(() => undefined);
        await ctx.client.delete(podPath(pod), { preconditions: { uid: pod.metadata?.uid ?? '' } });
        podEvent(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${name}`);
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    return nextCheck;
  };

  const sync = async (nodeName: string): Promise<void> => {
    const node = nodes.get(nodeName);
    if (!node) return;
    const entry = healthOf(nodeName);
    const current = now();

    if (current.getTime() - entry.probeMs > graceMs) {
      const conditions = silentNodeConditions(node, current);
      if (conditions) {
        await ctx.client.update(`/api/v1/nodes/${nodeName}/status`, { ...node, status: { ...node.status, conditions } });
        return; // the change comes back through the informer and is handled then
      }
    }

    const ready = readyStatus(node);
    if (entry.lastReady !== undefined && entry.lastReady !== ready) {
      if (ready !== 'True' && entry.lastReady === 'True') nodeEvent(node, 'Normal', 'NodeNotReady', `Node ${nodeName} status is now: NodeNotReady`);
    }
    entry.lastReady = ready;
    if (ready !== 'True') await markPodsNotReady(nodeName);

    const taints = reconcileTaints(node, current);
    if (taints) {
      try {
        // PUT with the resourceVersion read, so a concurrent `kubectl taint` is not lost.
        // No taints left: no field, as Go's omitempty writes it (kubectl shows `taints: []` otherwise).
        const { taints: _old, ...spec } = node.spec ?? {};
        await ctx.client.update(`/api/v1/nodes/${nodeName}`, { ...node, spec: taints.length > 0 ? { ...spec, taints } : spec });
      } catch (err) {
        if (isConflict(err)) {
          queue.addAfter(nodeName, 100);
          return;
        }
        throw err;
      }
      return; // evictions follow once the informer shows the new taints
    }
    const nextCheck = await evictPods(node, entry);
    if (nextCheck !== undefined) queue.addAfter(nodeName, nextCheck + 20);
  };

  return async () => {
    const periodMs = Math.max(100, Math.min(MAX_MONITOR_PERIOD_MS, graceMs / 4));
    const monitor = setInterval(() => {
      for (const node of nodes.list()) queue.add(node.metadata?.name ?? '');
    }, periodMs);
    try {
      await queue.run(sync, ctx.signal, 2);
    } finally {
      clearInterval(monitor);
    }
  };
}
