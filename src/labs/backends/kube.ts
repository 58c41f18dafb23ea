/**
 * The kube back end of the cluster view: the Kubernetes API through @kubernetes/client-node,
 * with a kubeconfig context (a local cluster's admin credentials, or any real cluster's).
 * Workloads are Deployments; their replicas are the pods their selector picks. The pure
 * parts are unit-tested on plain API objects.
 */
import { ApiException, AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { normalizeImage, type ClusterView, type LabNode, type Replica, type Rollout, type Workload } from '../view.js';

const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

export function nodeFromKube(node: Node): LabNode {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const labels = node.metadata?.labels ?? {};
  const schedulable = !node.spec?.unschedulable;
  const addresses = node.status?.addresses ?? [];
  return {
    name: node.metadata?.name ?? '',
    role: CONTROL_PLANE_LABELS.some((l) => l in labels) ? 'manager' : 'worker',
    ready: ready?.status === 'True',
    state: ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown',
    schedulable,
    availability: schedulable ? 'Schedulable' : 'SchedulingDisabled',
    address: (addresses.find((a) => a.type === 'InternalIP') ?? addresses[0])?.address ?? '',
  };
}

/** A label selector as the `labelSelector` query parameter: `app=web,tier in (a,b),!legacy`. */
export function selectorString(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Why a pod is not serving, as `kubectl get pods` shows it (CrashLoopBackOff, ContainerCreating…). */
function podState(pod: Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const waiting = pod.status?.containerStatuses?.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  if (waiting) return waiting;
  const phase = pod.status?.phase ?? 'Pending';
  if (phase === 'Running' && !isReady(pod)) return 'Running (not ready)';
  return phase;
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function workloadFromKube(deployment: Deployment, pods: Pod[], replicaSets: ReplicaSet[]): Workload {
  const uid = deployment.metadata?.uid;
  const owned = replicaSets.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid));
  const replicas: Replica[] = pods
    .filter((p) => p.status?.phase !== 'Succeeded')
    .map((pod) => ({
      name: pod.metadata?.name ?? '',
      node: pod.spec?.nodeName ?? '',
      state: podState(pod),
      running: !pod.metadata?.deletionTimestamp && pod.status?.phase === 'Running' && isReady(pod),
      image: normalizeImage(pod.spec?.containers[0]?.image ?? ''),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    kind: 'deployment',
    name: deployment.metadata?.name ?? '',
    desired: deployment.spec?.replicas ?? 1,
    image: normalizeImage(deployment.spec?.template.spec?.containers[0]?.image ?? ''),
    replicas,
    restarts: pods.reduce((sum, p) => sum + (p.status?.containerStatuses ?? []).reduce((s, c) => s + c.restartCount, 0), 0),
    revisions: Math.max(1, owned.length),
    rollout: kubeRollout(deployment),
  };
}

/**
 * A Deployment's rollout as `kubectl rollout status` judges it: paused by spec; stalled when
 * the Progressing condition says ProgressDeadlineExceeded; complete when the controller has
 * seen the latest spec and every replica is updated and available, with no old one left.
 */
export function kubeRollout(deployment: Deployment): Rollout {
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  const counts = `${updated} of ${desired} updated, ${available} available${total > updated ? `, ${total - updated} old` : ''}`;
  const detail = progressing?.message ? `${counts}; ${progressing.message}` : counts;
  if (deployment.spec?.paused) return { state: 'paused', detail };
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') return { state: 'stalled', detail };
  const seen = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const complete = seen && updated === desired && total === updated && available === updated;
  return { state: complete ? 'complete' : 'progressing', detail };
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export function kubeView(config: KubeConfig): ClusterView {
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  // client-node's models parse timestamps into Date objects; everything read here has the
  // shape of kubernetes-types otherwise, and timestamps are only tested for presence.
  const asPlain = <T>(value: unknown): T => value as T;
  return {
    engine: 'kube',
    async nodes() {
      const list = await core.listNode();
      return list.items.map((n) => nodeFromKube(asPlain<Node>(n))).sort((a, b) => a.name.localeCompare(b.name));
    },
    async workload(name, namespace = 'default') {
      let deployment: Deployment;
      try {
        deployment = asPlain<Deployment>(await apps.readNamespacedDeployment({ name, namespace }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const labelSelector = selectorString(deployment.spec?.selector);
      const [pods, replicaSets] = await Promise.all([
        core.listNamespacedPod({ namespace, labelSelector }),
        apps.listNamespacedReplicaSet({ namespace, labelSelector }),
      ]);
      return workloadFromKube(deployment, asPlain<Pod[]>(pods.items), asPlain<ReplicaSet[]>(replicaSets.items));
    },
    async close() {
      // client-node opens a connection per request; nothing to release.
    },
  };
}
