/**
 * One sync's pod writes for the DaemonSet and Job controllers: create and delete in
 * parallel, remember each write until the informer shows it (so a sync on a stale cache
 * does not repeat it), and record the events `kubectl describe` shows.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound, objectKey, recordEvent } from '../../shared/api-client.js';
import type { InvolvedObject } from '../../shared/event-recorder.js';
import type { ControllerContext } from './context.js';
import { podPath } from './workload-pods.js';
import type { WriteExpectations } from './write-expectations.js';

export interface PodWrites {
  /** The controller's queue key, under which the expectations are kept. */
  key: string;
  involved: InvolvedObject;
  component: string;
  create: Pod[];
  delete: Pod[];
}

/** Performs the writes; resolves with the messages of those that failed (never throws). */
export async function writePods(ctx: ControllerContext, expectations: WriteExpectations, writes: PodWrites): Promise<string[]> {
  const { key, involved, component } = writes;
  const errors: string[] = [];
  const namespace = involved.namespace ?? 'default';
  await Promise.all([
    ...writes.create.map(async (body) => {
      try {
        const created = await ctx.client.create<Pod>(`/api/v1/namespaces/${namespace}/pods`, body);
        expectations.expectCreate(key, objectKey(created));
        void recordEvent(ctx.client, involved, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`, component);
      } catch (err) {
        errors.push((err as Error).message);
        void recordEvent(ctx.client, involved, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`, component);
      }
    }),
    ...writes.delete.map(async (pod) => {
      expectations.expectDelete(key, objectKey(pod));
      try {
        await ctx.client.delete(podPath(pod), { preconditions: { uid: pod.metadata?.uid ?? '' } });
        void recordEvent(ctx.client, involved, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name ?? ''}`, component);
      } catch (err) {
        expectations.forget(key, objectKey(pod));
        if (!isNotFound(err)) errors.push((err as Error).message);
      }
    }),
  ]);
  return errors;
}
