/**
 * The Job controller: runs a Job's pods to completion (completions, parallelism), retries
 * failures with exponential back-off up to backoffLimit, enforces activeDeadlineSeconds,
 * keeps status and conditions, and deletes finished Jobs after ttlSecondsAfterFinished (as
 * kube's TTL-after-finished controller). Decisions are in job-plan.ts.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound, objectKey, recordEvent } from '../../shared/api-client.js';
import type { ControllerContext } from './context.js';
import { canonicalJson } from './hash.js';
import { DEFAULT_POD_FAILURE_BACKOFF, JOB_LABELS, planJob } from './job-plan.js';
import { controllerRefOf, newControllerRef } from './owner.js';
import { WorkQueue } from './work-queue.js';
import { WriteExpectations } from './write-expectations.js';
import { writePods } from './pod-writes.js';

const COMPONENT = 'job-controller';

export interface JobControllerOptions {
  /** Back-off between failed pods (Kubernetes: 10 s doubling to 10 min); tests shorten it. */
  podFailureBackoff?: { baseMs: number; maxMs: number };
  now?: () => Date;
}

export function jobPath(job: Job): string {
  return `/apis/batch/v1/namespaces/${job.metadata?.namespace ?? 'default'}/jobs/${job.metadata?.name ?? ''}`;
}

/** The pod a Job creates: its template, owned by the Job, with the Job's labels. */
export function newJobPod(job: Job): Pod {
  const template = job.spec?.template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${job.metadata?.name ?? ''}-`,
      namespace: job.metadata?.namespace ?? 'default',
      labels: { ...template?.metadata?.labels },
      ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [newControllerRef(job, 'batch/v1', 'Job')],
    },
    spec: structuredClone(template?.spec ?? { containers: [] }),
  };
}

/**
 * The Job with the selector and pod labels the API server gives a Job on create (kube's
 * generateSelector), or undefined when it has them already or chose its own (manualSelector).
 */
export function withGeneratedSelector(job: Job): Job | undefined {
  const uid = job.metadata?.uid;
  const name = job.metadata?.name ?? '';
  if (!uid || job.spec?.selector || job.spec?.manualSelector === true || !job.spec) return undefined;
  const updated = structuredClone(job);
  const spec = updated.spec!;
  spec.selector = { matchLabels: { [JOB_LABELS.controllerUid]: uid } };
  const template = spec.template;
  template.metadata = {
    ...template.metadata,
    labels: {
      ...template.metadata?.labels,
      [JOB_LABELS.legacyControllerUid]: uid,
      [JOB_LABELS.controllerUid]: uid,
      [JOB_LABELS.legacyJobName]: name,
      [JOB_LABELS.jobName]: name,
    },
  };
  return updated;
}

export function setupJobController(ctx: ControllerContext, opts: JobControllerOptions = {}): () => Promise<void> {
  const jobs = ctx.informer<Job>('/apis/batch/v1/jobs');
  const pods = ctx.informer<Pod>('/api/v1/pods');
  const queue = new WorkQueue('job', { log: ctx.log });
  const expectations = new WriteExpectations();
  const now = opts.now ?? (() => new Date());

  const enqueueOwner = (pod: Pod): void => {
    const ref = controllerRefOf(pod);
    if (ref?.kind === 'Job') queue.add(`${pod.metadata?.namespace ?? ''}/${ref.name}`);
  };
  jobs
    .onAdd((job) => queue.add(objectKey(job)))
    .onUpdate((job) => queue.add(objectKey(job)))
    .onDelete((job) => expectations.clear(objectKey(job)));
  pods.onAdd(enqueueOwner).onUpdate(enqueueOwner).onDelete(enqueueOwner);

  const sync = async (key: string): Promise<void> => {
    const job = jobs.get(key);
    if (!job || job.metadata?.deletionTimestamp) return;
    const generated = withGeneratedSelector(job);
    if (generated) {
      await ctx.client.update(jobPath(job), generated);
      return; // the update comes back through the informer
    }
    if (!expectations.satisfied(key, (podKey) => pods.get(podKey))) return;

    const namespace = job.metadata?.namespace ?? 'default';
    const uid = job.metadata?.uid;
    const owned = pods.list().filter((pod) => pod.metadata?.namespace === namespace && controllerRefOf(pod)?.uid === uid);
    const plan = planJob(job, owned, { now: now(), backoff: opts.podFailureBackoff ?? DEFAULT_POD_FAILURE_BACKOFF });
    const involved = { kind: 'Job', apiVersion: 'batch/v1', name: job.metadata?.name ?? '', namespace, uid: uid ?? '' };

    if (plan.deleteJob) {
      try {
        // As kube's TTL controller: foreground, so the pods go first.
        await ctx.client.delete(jobPath(job), { propagationPolicy: 'Foreground', preconditions: { uid: uid ?? '' } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }

    const errors = await writePods(ctx, expectations, {
      key,
      involved,
      component: COMPONENT,
      create: Array.from({ length: plan.createCount }, () => newJobPod(job)),
      delete: plan.deletePods,
    });

    if (canonicalJson(plan.status) !== canonicalJson(job.status ?? {})) {
      // PUT with the resourceVersion read: a concurrent change makes this sync fail and retry.
      await ctx.client.update(`${jobPath(job)}/status`, { ...job, status: plan.status });
      for (const event of plan.events) void recordEvent(ctx.client, involved, event.type, event.reason, event.message, COMPONENT);
    }
    if (plan.requeueAfterMs !== undefined) queue.addAfter(key, plan.requeueAfterMs + 50);
    if (errors.length > 0) throw new Error(errors.join('; '));
  };

  return () => queue.run(sync, ctx.signal, 2);
}
