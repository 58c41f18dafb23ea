/**
 * Creating a controller's pods from its template and deleting them, each with the Event a
 * learner sees in `kubectl describe` (kube's RealPodControl): SuccessfulCreate "Created pod:
 * web-5d8f7c9b4-x2k9p", FailedCreate "Error creating: …", SuccessfulDelete, FailedDelete.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiError, type ApiClient, isNotFound, recordEvent } from '../../shared/api-client.js';

/** The object whose pods these are, as events name it. */
export interface PodOwner {
  apiVersion: string;
  kind: string;
  metadata?: ObjectMeta;
}

/** A pod as the owner's template describes it (not yet created: the server picks the name). */
export function podFromTemplate(template: PodTemplateSpec | undefined, owner: PodOwner, controllerRef: OwnerReference): Pod {
  const metadata: ObjectMeta = {
    generateName: `${owner.metadata?.name ?? ''}-`,
    namespace: owner.metadata?.namespace,
    ownerReferences: [controllerRef],
  };
  const templateMeta = template?.metadata;
  if (templateMeta?.labels) metadata.labels = { ...templateMeta.labels };
  if (templateMeta?.annotations) metadata.annotations = { ...templateMeta.annotations };
  if (templateMeta?.finalizers) metadata.finalizers = [...templateMeta.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template?.spec ?? { containers: [] }) };
}

/** Creation was refused because the namespace is going away: no event, nothing to retry. */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && (err.status.details?.causes ?? []).some((cause) => cause.reason === 'NamespaceTerminating');
}

function involved(owner: PodOwner) {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata?.name ?? '',
    namespace: owner.metadata?.namespace,
    uid: owner.metadata?.uid,
  };
}

export class PodControl {
  constructor(
    private readonly client: ApiClient,
    /** Events' source.component, e.g. 'replicaset-controller'. */
    private readonly component: string,
  ) {}

  async createPod(template: PodTemplateSpec | undefined, owner: PodOwner, controllerRef: OwnerReference): Promise<Pod> {
    const namespace = owner.metadata?.namespace ?? 'default';
    const pod = podFromTemplate(template, owner, controllerRef);
    if (Object.keys(pod.metadata?.labels ?? {}).length === 0) throw new Error('unable to create pods, no labels');
    try {
      const created = await this.client.create<Pod>(`/api/v1/namespaces/${namespace}/pods`, pod);
      await recordEvent(this.client, involved(owner), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`, this.component);
      return created;
    } catch (err) {
      if (!isNamespaceTerminating(err)) {
        await recordEvent(this.client, involved(owner), 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`, this.component);
      }
      throw err;
    }
  }

  /** A normal (graceful) delete: the node agent ends the pod and confirms. Throws ApiError 404 when already gone. */
  async deletePod(pod: Pod, owner: PodOwner): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    try {
      await this.client.delete(`/api/v1/namespaces/${namespace}/pods/${name}`);
      await recordEvent(this.client, involved(owner), 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`, this.component);
    } catch (err) {
      if (!isNotFound(err)) {
        await recordEvent(this.client, involved(owner), 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`, this.component);
      }
      throw err;
    }
  }
}

/**
 * Runs `fn` `count` times in batches of 1, 2, 4, … at once, stopping after the first batch
 * with a failure (kube's slowStartBatch): 500 pods that all hit the same quota error cost a
 * handful of requests, not 500. Returns how many calls succeeded and the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: Error }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length > 0) return { successes, error: failed[0]!.reason as Error };
    remaining -= batch;
  }
  return { successes };
}
