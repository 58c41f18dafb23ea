/** Objects for the controller tests (pure: no server). */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';

export function readyNode(name: string, opts: { labels?: Record<string, string>; taints?: Taint[]; ready?: 'True' | 'False' | 'Unknown'; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: opts.ready ?? 'True', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}

export function daemonSet(name: string, opts: { image?: string; nodeSelector?: Record<string, string>; maxUnavailable?: number | string; maxSurge?: number | string; onDelete?: boolean } = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1 },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: opts.onDelete
        ? { type: 'OnDelete' }
        : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: opts.maxUnavailable ?? 1, maxSurge: opts.maxSurge ?? 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: opts.image ?? 'busybox:1' }], ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}) },
      },
    },
  };
}

/** A pod as it looks once running on a node (Ready as given). */
export function runningPod(name: string, nodeName: string, opts: { labels?: Record<string, string>; ready?: boolean; created?: string; ownerUid?: string; ownerKind?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
      labels: opts.labels ?? {},
      ...(opts.ownerUid ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: opts.ownerKind ?? 'DaemonSet', name: 'owner', uid: opts.ownerUid, controller: true }] } : {}),
    },
    spec: { nodeName, containers: [{ name: 'main', image: 'busybox' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}

