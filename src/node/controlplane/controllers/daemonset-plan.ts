/**
 * What a DaemonSet needs, computed in pure code from the DaemonSet, the nodes and its pods:
 * which nodes should run a daemon pod (kube's NodeShouldRunDaemonPod), which pods to create
 * and delete (manage), which old pods to replace in a rolling update (with maxUnavailable or
 * maxSurge), and the status. The controller (daemonset.ts) only applies the plan.
 */
import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Affinity, Node, Pod, PodSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { matchesTerm, toleratesTaint } from '../scheduler/predicates.js';
import { computePodTemplateHash } from './hash.js';
import { newControllerRef } from './owner.js';
import { isPodAvailable as isPodAvailableAt, isPodReady } from './pod-state.js';
import { byCreation, scaledValue } from './workload-pods.js';

const isPodAvailable = (pod: Pod, minReadySeconds: number, now: Date): boolean => isPodAvailableAt(pod, minReadySeconds, now.getTime());

export const REVISION_HASH_LABEL = 'controller-revision-hash';

/** The tolerations every daemon pod gets (kube's AddOrUpdateDaemonPodTolerations). */
export const DAEMON_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const NETWORK_UNAVAILABLE_TOLERATION: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };

/** The pod's tolerations plus the daemon ones it does not have yet (same key and effect). */
export function withDaemonTolerations(spec: PodSpec | undefined): Toleration[] {
  const tolerations = [...(spec?.tolerations ?? [])];
  const wanted = spec?.hostNetwork ? [...DAEMON_TOLERATIONS, NETWORK_UNAVAILABLE_TOLERATION] : DAEMON_TOLERATIONS;
  for (const toleration of wanted) {
    const existing = tolerations.findIndex((t) => t.key === toleration.key && t.effect === toleration.effect);
    if (existing >= 0) tolerations[existing] = { ...toleration };
    else tolerations.push({ ...toleration });
  }
  return tolerations;
}

/** Required node affinity that selects exactly this node (ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function nodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  return {
    ...affinity,
    nodeAffinity: {
      ...affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
      },
    },
  };
}

/** The node a daemon pod is for: where it is bound, or where its node-name affinity points. */
export function daemonPodNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const field = term.matchFields?.find((f) => f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1);
    if (field) return field.values![0];
  }
  return undefined;
}

function firstUntolerated(taints: Taint[], tolerations: Toleration[], effects: string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((toleration) => toleratesTaint(toleration, taint)));
}

/**
 * shouldRun: a daemon pod belongs on this node. shouldContinueRunning: one already there may
 * stay (it is kept through untolerated NoSchedule taints, not through NoExecute ones).
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec?.template?.spec;
  const nodeName = node.metadata?.name ?? '';
  if (spec?.nodeName && spec.nodeName !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  const labels = node.metadata?.labels ?? {};
  const selectorFits = Object.entries(spec?.nodeSelector ?? {}).every(([key, value]) => labels[key] === value);
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const affinityFits = terms === undefined || terms.some((term) => matchesTerm(term, node));
  if (!selectorFits || !affinityFits) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = withDaemonTolerations(spec);
  const taints = node.spec?.taints ?? [];
  if (firstUntolerated(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    return { shouldRun: false, shouldContinueRunning: firstUntolerated(taints, tolerations, ['NoExecute']) === undefined };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

// ---------------------------------------------------------------------------------------------
// Revision hash

/** The controller-revision-hash of the DaemonSet's current template. */
export function templateHash(template: unknown, collisionCount?: number): string {
  return computePodTemplateHash(template, collisionCount);
}

/** The pod the DaemonSet creates for a node. */
export function newDaemonPod(ds: DaemonSet, nodeName: string, hash: string): Pod {
  const template = ds.spec?.template;
  const spec: PodSpec = structuredClone(template?.spec ?? { containers: [] });
  spec.affinity = nodeNameAffinity(spec.affinity, nodeName);
  spec.tolerations = withDaemonTolerations(spec);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata?.name ?? ''}-`,
      namespace: ds.metadata?.namespace ?? 'default',
      labels: { ...template?.metadata?.labels, [REVISION_HASH_LABEL]: hash },
      ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
    },
    spec,
  };
}

// ---------------------------------------------------------------------------------------------
// Plan

export interface NodePods {
  node: Node;
  shouldRun: boolean;
  shouldContinueRunning: boolean;
  /** This DaemonSet's pods for the node, oldest first (including ones being deleted). */
  pods: Pod[];
}

/** Groups the DaemonSet's pods by node; pods for nodes that no longer exist come back apart. */
export function groupByNode(ds: DaemonSet, nodes: Node[], pods: Pod[]): { byNode: NodePods[]; orphans: Pod[] } {
  const byName = new Map<string, NodePods>();
  for (const node of [...nodes].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    byName.set(node.metadata?.name ?? '', { node, ...nodeShouldRunDaemonPod(node, ds), pods: [] });
  }
  const orphans: Pod[] = [];
  for (const pod of pods) {
    const entry = byName.get(daemonPodNodeName(pod) ?? '');
    if (entry) entry.pods.push(pod);
    else orphans.push(pod);
  }
  for (const entry of byName.values()) entry.pods.sort(byCreation);
  return { byNode: [...byName.values()], orphans };
}

export interface DaemonActions {
  /** Nodes to create a daemon pod on. */
  create: string[];
  delete: Pod[];
  /** Failed pods among `delete` (reported as FailedDaemonPod, and the node backs off). */
  failed: Pod[];
}

const isDeleting = (pod: Pod): boolean => Boolean(pod.metadata?.deletionTimestamp);

function allowsSurge(ds: DaemonSet, desired: number): boolean {
  return ds.spec?.updateStrategy?.type !== 'OnDelete' && rollingLimits(ds, desired).maxSurge > 0;
}

/** Creates and deletes that make every node right, apart from the rolling update (kube's manage). */
export function planManage(ds: DaemonSet, grouped: { byNode: NodePods[]; orphans: Pod[] }, hash: string, now: Date): DaemonActions {
  const actions: DaemonActions = { create: [], delete: [], failed: [] };
  const desired = grouped.byNode.filter((entry) => entry.shouldRun).length;
  const surge = allowsSurge(ds, desired);
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
  for (const pod of grouped.orphans) if (!isDeleting(pod)) actions.delete.push(pod);
  for (const entry of grouped.byNode) {
    if (entry.shouldRun && entry.pods.length === 0) {
      actions.create.push(entry.node.metadata?.name ?? '');
    } else if (entry.shouldContinueRunning) {
      const running: Pod[] = [];
      for (const pod of entry.pods) {
        if (isDeleting(pod)) continue;
        if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
          actions.delete.push(pod);
          if (pod.status.phase === 'Failed') actions.failed.push(pod);
          continue;
        }
        running.push(pod);
      }
      if (running.length <= 1) continue;
      if (!surge) {
        actions.delete.push(...running.slice(1)); // keep the oldest
        continue;
      }
      // With surge, an old and a new pod may coexist only while the new one is not yet available.
      let oldestNew: Pod | undefined;
      let oldestOld: Pod | undefined;
      for (const pod of running) {
        const isNew = pod.metadata?.labels?.[REVISION_HASH_LABEL] === hash;
        if (isNew && !oldestNew) oldestNew = pod;
        else if (!isNew && !oldestOld) oldestOld = pod;
        else actions.delete.push(pod);
      }
      if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReadySeconds, now))) actions.delete.push(oldestOld);
    } else {
      for (const pod of entry.pods) if (!isDeleting(pod)) actions.delete.push(pod);
    }
  }
  return actions;
}

/** maxSurge and maxUnavailable against the desired count (both 0 means maxUnavailable 1). */
export function rollingLimits(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  const rolling = ds.spec?.updateStrategy?.rollingUpdate;
  const maxSurge = scaledValue(rolling?.maxSurge, desired, true, 0);
  const maxUnavailable = scaledValue(rolling?.maxUnavailable, desired, true, 1);
  return maxSurge === 0 && maxUnavailable === 0 ? { maxSurge: 0, maxUnavailable: 1 } : { maxSurge, maxUnavailable };
}

/** The one new and one old pod on a node, or undefined when there are more (manage cleans up first). */
function updatedPodsOnNode(pods: Pod[], hash: string): { newPod?: Pod; oldPod?: Pod } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (isDeleting(pod)) continue;
    if (pod.metadata?.labels?.[REVISION_HASH_LABEL] === hash) {
      if (newPod) return undefined;
      newPod = pod;
    } else {
      if (oldPod) return undefined;
      oldPod = pod;
    }
  }
  return { ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}) };
}

/** The next step of a RollingUpdate (kube's rollingUpdate): old pods to delete, nodes to surge onto. */
export function planRollingUpdate(ds: DaemonSet, byNode: NodePods[], hash: string, now: Date): DaemonActions {
  const actions: DaemonActions = { create: [], delete: [], failed: [] };
  if (ds.spec?.updateStrategy?.type === 'OnDelete') return actions;
  const nodes = byNode.filter((entry) => entry.shouldRun);
  const { maxSurge, maxUnavailable } = rollingLimits(ds, nodes.length);
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
  const available = (pod: Pod): boolean => isPodAvailable(pod, minReadySeconds, now);

  if (maxSurge === 0) {
    let unavailable = 0;
    const immediately: Pod[] = [];
    const candidates: Pod[] = [];
    for (const entry of nodes) {
      const found = updatedPodsOnNode(entry.pods, hash);
      if (!found || (!found.newPod && !found.oldPod) || (found.newPod && found.oldPod)) {
        unavailable++;
      } else if (found.newPod) {
        if (!available(found.newPod)) unavailable++;
      } else if (found.oldPod) {
        if (!available(found.oldPod)) immediately.push(found.oldPod); // already down: replace now
        else if (unavailable < maxUnavailable) candidates.push(found.oldPod);
      }
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    actions.delete.push(...immediately, ...candidates.slice(0, room));
    return actions;
  }

  let surging = 0;
  const immediately: string[] = [];
  const candidates: string[] = [];
  for (const entry of nodes) {
    const nodeName = entry.node.metadata?.name ?? '';
    const found = updatedPodsOnNode(entry.pods, hash);
    if (!found) {
      surging++;
      continue;
    }
    if (!found.oldPod) continue; // nothing to replace; manage creates missing pods
    if (!found.newPod) {
      if (!available(found.oldPod)) immediately.push(nodeName);
      else if (surging < maxSurge) candidates.push(nodeName);
    } else if (!available(found.newPod)) {
      surging++;
    } else {
      actions.delete.push(found.oldPod);
    }
  }
  const room = Math.min(Math.max(0, maxSurge - surging), candidates.length);
  actions.create.push(...immediately, ...candidates.slice(0, room));
  return actions;
}

/** status as kube's updateDaemonSetStatus counts it (from the oldest pod on each node). */
export function daemonSetStatus(ds: DaemonSet, byNode: NodePods[], hash: string, now: Date): DaemonSetStatus {
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const entry of byNode) {
    const scheduled = entry.pods.length > 0;
    if (!entry.shouldRun) {
      if (scheduled) misscheduled++;
      continue;
    }
    desired++;
    if (!scheduled) continue;
    current++;
    const pod = entry.pods[0]!;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySeconds, now)) available++;
    }
    if (pod.metadata?.labels?.[REVISION_HASH_LABEL] === hash) updated++;
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current,
    desiredNumberScheduled: desired,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    numberAvailable: available,
    updatedNumberScheduled: updated,
    numberUnavailable: desired - available,
    ...(ds.metadata?.generation !== undefined ? { observedGeneration: ds.metadata.generation } : {}),
  };
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
  if (ds.status?.conditions !== undefined) status.conditions = ds.status.conditions;
  return status;
}
