/**
 * The DaemonSet controller: one pod per eligible node, following nodes as they come, go and
 * change, replacing pods on a template change (RollingUpdate or OnDelete), and keeping
 * status. Decisions are in daemonset-plan.ts; this module wires informers to them and applies
 * the result. Pods are created with a node-name affinity and bound by the scheduler.
 */
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { objectKey, recordEvent } from '../../shared/api-client.js';
import type { ControllerContext } from './context.js';
import {
  daemonPodNodeName,
  daemonSetStatus,
  groupByNode,
  newDaemonPod,
  planManage,
  planRollingUpdate,
  templateHash,
  type DaemonActions,
} from './daemonset-plan.js';
import { WorkQueue } from './work-queue.js';
import { WriteExpectations } from './write-expectations.js';
import { canonicalJson } from './hash.js';
import { controllerRefOf } from './owner.js';
import { writePods } from './pod-writes.js';

const COMPONENT = 'daemonset-controller';
/** A node whose daemon pod failed gets a new one after this delay, doubling per failure. */
const FAILED_POD_BACKOFF = { baseMs: 1_000, maxMs: 15 * 60_000 };

export function setupDaemonSetController(ctx: ControllerContext): () => Promise<void> {
  const daemonSets = ctx.informer<DaemonSet>('/apis/apps/v1/daemonsets');
  const pods = ctx.informer<Pod>('/api/v1/pods');
  const nodes = ctx.informer<Node>('/api/v1/nodes');
  const queue = new WorkQueue('daemonset', { log: ctx.log });
  const expectations = new WriteExpectations();
  const backoff = new Map<string, { failures: number; untilMs: number }>();

  const enqueueOwner = (pod: Pod): void => {
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'DaemonSet') return;
    const key = `${pod.metadata?.namespace ?? ''}/${ref.name}`;
    if (daemonSets.get(key)?.metadata?.uid === ref.uid) queue.add(key);
  };
  const enqueueAll = (): void => {
    for (const ds of daemonSets.list()) queue.add(objectKey(ds));
  };

  daemonSets
    .onAdd((ds) => queue.add(objectKey(ds)))
    .onUpdate((ds) => queue.add(objectKey(ds)))
    .onDelete((ds) => expectations.clear(objectKey(ds)));
  pods
    .onAdd(enqueueOwner)
    .onUpdate((pod, old) => {
      enqueueOwner(pod);
      if (controllerRefOf(old)?.uid !== controllerRefOf(pod)?.uid) enqueueOwner(old);
    })
    .onDelete(enqueueOwner);
  nodes
    .onAdd(enqueueAll)
    .onUpdate((node, old) => {
      if (nodeFacts(node) !== nodeFacts(old)) enqueueAll();
    })
    .onDelete(enqueueAll);

  const apply = async (ds: DaemonSet, key: string, hash: string, actions: DaemonActions): Promise<void> => {
    const namespace = ds.metadata?.namespace ?? 'default';
    const involved = { kind: 'DaemonSet', apiVersion: 'apps/v1', name: ds.metadata?.name ?? '', namespace, uid: ds.metadata?.uid ?? '' };
    const now = Date.now();
    for (const pod of actions.failed) {
      const nodeName = daemonPodNodeName(pod) ?? '';
      const previous = backoff.get(`${key}/${nodeName}`);
      const failures = (previous?.failures ?? 0) + 1;
      const delay = Math.min(FAILED_POD_BACKOFF.maxMs, FAILED_POD_BACKOFF.baseMs * 2 ** (failures - 1));
      backoff.set(`${key}/${nodeName}`, { failures, untilMs: now + delay });
      queue.addAfter(key, delay);
      void recordEvent(ctx.client, involved, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${namespace}/${pod.metadata?.name} on node ${nodeName}, will try to kill it`, COMPONENT);
    }
    const creates = actions.create.filter((nodeName) => {
      const wait = backoff.get(`${key}/${nodeName}`);
      if (wait === undefined || wait.untilMs <= now) return true;
      queue.addAfter(key, wait.untilMs - now);
      return false;
    });
    const errors = await writePods(ctx, expectations, {
      key,
      involved,
      component: COMPONENT,
      create: creates.map((nodeName) => newDaemonPod(ds, nodeName, hash)),
      delete: actions.delete,
    });
    if (errors.length > 0) throw new Error(errors.join('; '));
  };

  const sync = async (key: string): Promise<void> => {
    const ds = daemonSets.get(key);
    if (!ds || ds.metadata?.deletionTimestamp) return;
    const uid = ds.metadata?.uid;
    const owned = pods.list().filter((pod) => pod.metadata?.namespace === ds.metadata?.namespace && controllerRefOf(pod)?.uid === uid);
    const hash = templateHash(ds.spec?.template, ds.status?.collisionCount);
    const now = new Date();
    const grouped = groupByNode(ds, nodes.list(), owned);
    // Until the cache shows the last writes, acting again could double them; status only.
    if (expectations.satisfied(key, (podKey) => pods.get(podKey))) {
      const manage = planManage(ds, grouped, hash, now);
      const actions = manage.create.length + manage.delete.length > 0 ? manage : planRollingUpdate(ds, grouped.byNode, hash, now);
      await apply(ds, key, hash, actions);
    }
    const status = daemonSetStatus(ds, grouped.byNode, hash, now);
    if (canonicalJson(status) !== canonicalJson(ds.status ?? {})) {
      await ctx.client.patch(`/apis/apps/v1/namespaces/${ds.metadata?.namespace}/daemonsets/${ds.metadata?.name}/status`, { status }, 'merge');
    }
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    if (minReadySeconds > 0 && status.numberReady !== status.numberAvailable) queue.addAfter(key, minReadySeconds * 1000);
  };

  return () => queue.run(sync, ctx.signal, 2);
}

/** What about a node decides where daemon pods go (heartbeats alone change nothing). */
function nodeFacts(node: Node): string {
  return JSON.stringify([node.metadata?.labels, node.spec?.taints, node.spec?.unschedulable]);
}
