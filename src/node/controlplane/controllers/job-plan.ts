/**
 * What a Job needs next, in pure code (kube's job controller, NonIndexed completion mode):
 * how many pods to create or delete, the back-off after failures, the deadline and back-off
 * limits, completion, suspension, the TTL after finishing, and the status to write.
 */
import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive, isPodReady } from './pod-state.js';
import { byCreation, kubeTime } from './workload-pods.js';

export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  legacyControllerUid: 'controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyJobName: 'job-name',
} as const;

/** Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_POD_FAILURE_BACKOFF = { baseMs: 10_000, maxMs: 10 * 60_000 };
export const DEFAULT_BACKOFF_LIMIT = 6;

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface JobPlan {
  createCount: number;
  deletePods: Pod[];
  status: JobStatus;
  events: JobEvent[];
  /** Sync again after this long (back-off, deadline, TTL), if set. */
  requeueAfterMs?: number;
  /** The TTL after finishing has passed: delete the Job. */
  deleteJob: boolean;
}

export interface JobPlanOptions {
  now: Date;
  backoff?: { baseMs: number; maxMs: number };
}

export function conditionIsTrue(job: Job, type: string): boolean {
  return job.status?.conditions?.some((condition) => condition.type === type && condition.status === 'True') ?? false;
}

export function isJobFinished(job: Job): boolean {
  return conditionIsTrue(job, 'Complete') || conditionIsTrue(job, 'Failed');
}

/** When the Job finished: completionTime, or when its Failed condition turned True. */
export function jobFinishTime(job: Job): Date | undefined {
  if (job.status?.completionTime) return new Date(job.status.completionTime);
  const failed = job.status?.conditions?.find((condition) => condition.type === 'Failed' && condition.status === 'True');
  return failed?.lastTransitionTime ? new Date(failed.lastTransitionTime) : undefined;
}

/** When a pod ended: its last container's finishedAt, else its Ready condition's last change. */
export function podFinishTime(pod: Pod): number {
  let latest = 0;
  for (const status of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const finished = status.state?.terminated?.finishedAt;
    if (finished) latest = Math.max(latest, Date.parse(finished) || 0);
  }
  if (latest > 0) return latest;
  const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
  return Date.parse(ready?.lastTransitionTime ?? pod.metadata?.creationTimestamp ?? '') || 0;
}

/** The delay before the next pod after failures since the last success (10 s, 20 s, 40 s … 10 min). */
export function failureBackoff(pods: Pod[], backoff: { baseMs: number; maxMs: number }): { failures: number; lastFailureMs: number; delayMs: number } {
  const lastSuccessMs = Math.max(0, ...pods.filter((pod) => pod.status?.phase === 'Succeeded').map(podFinishTime));
  const failures = pods.filter((pod) => pod.status?.phase === 'Failed').map(podFinishTime).filter((time) => time >= lastSuccessMs);
  if (failures.length === 0) return { failures: 0, lastFailureMs: 0, delayMs: 0 };
  const delayMs = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures.length - 1, 30));
  return { failures: failures.length, lastFailureMs: Math.max(...failures), delayMs };
}

function condition(type: string, reason: string, message: string, now: Date, status: 'True' | 'False' = 'True'): JobCondition {
  const time = kubeTime(now);
  return { type, status, reason, message, lastProbeTime: time, lastTransitionTime: time };
}

/** Sets a condition, keeping lastTransitionTime when its status does not change. */
function withCondition(conditions: JobCondition[], next: JobCondition): JobCondition[] {
  const existing = conditions.find((c) => c.type === next.type);
  if (existing && existing.status === next.status && existing.reason === next.reason) return conditions;
  const merged = existing && existing.status === next.status ? { ...next, lastTransitionTime: existing.lastTransitionTime } : next;
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

/** Not ready before ready, newer before older: the active pods to remove first. */
function deletionOrder(a: Pod, b: Pod): number {
  const ready = Number(isPodReady(a)) - Number(isPodReady(b));
  return ready !== 0 ? ready : byCreation(b, a);
}

export function planJob(job: Job, pods: Pod[], opts: JobPlanOptions): JobPlan {
  const now = opts.now;
  const backoff = opts.backoff ?? DEFAULT_POD_FAILURE_BACKOFF;
  const spec = job.spec;
  const previous = job.status ?? {};
  const active = pods.filter(isPodActive);
  const succeeded = Math.max(previous.succeeded ?? 0, pods.filter((pod) => pod.status?.phase === 'Succeeded').length);
  const failed = Math.max(previous.failed ?? 0, pods.filter((pod) => pod.status?.phase === 'Failed').length);
  let conditions = [...(previous.conditions ?? [])];
  const plan: JobPlan = { createCount: 0, deletePods: [], status: {}, events: [], deleteJob: false };
  const finish = (deleted: Pod[], extra: JobStatus = {}): JobPlan => {
    plan.deletePods = deleted;
    const remaining = active.filter((pod) => !deleted.includes(pod));
    plan.status = {
      ...previous,
      active: remaining.length,
      ready: remaining.filter(isPodReady).length,
      succeeded,
      failed,
      conditions,
      ...extra,
    };
    if (plan.status.conditions?.length === 0) delete plan.status.conditions;
    return plan;
  };

  if (isJobFinished(job)) {
    const ttl = spec?.ttlSecondsAfterFinished;
    const finishedAt = jobFinishTime(job);
    if (ttl !== undefined && ttl !== null && finishedAt) {
      const remaining = finishedAt.getTime() + ttl * 1000 - now.getTime();
      if (remaining <= 0) plan.deleteJob = true;
      else plan.requeueAfterMs = remaining;
    }
    return finish(active);
  }

  if (spec?.suspend === true) {
    if (!conditionIsTrue(job, 'Suspended')) plan.events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    conditions = withCondition(conditions, condition('Suspended', 'JobSuspended', 'Job suspended', now));
    const status = finish(active);
    delete status.status.startTime; // the deadline counts again from the resume
    return status;
  }
  let startTime = previous.startTime;
  if (conditionIsTrue(job, 'Suspended')) {
    plan.events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
    conditions = withCondition(conditions, condition('Suspended', 'JobResumed', 'Job resumed', now, 'False'));
    startTime = undefined;
  }
  startTime ??= kubeTime(now);

  const fail = (reason: string, message: string): JobPlan => {
    plan.events.push({ type: 'Warning', reason, message });
    conditions = withCondition(conditions, condition('FailureTarget', reason, message, now));
    conditions = withCondition(conditions, condition('Failed', reason, message, now));
    return finish(active, { startTime });
  };
  const deadline = spec?.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== null) {
    const remaining = Date.parse(startTime) + deadline * 1000 - now.getTime();
    if (remaining <= 0) return fail('DeadlineExceeded', 'Job was active longer than specified deadline');
    plan.requeueAfterMs = remaining;
  }
  if (failed > (spec?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT)) return fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');

  const completions = spec?.completions ?? undefined;
  const parallelism = spec?.parallelism ?? 1;
  const complete = completions !== undefined && completions !== null ? succeeded >= completions : succeeded > 0 && active.length === 0;
  if (complete) {
    plan.events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
    conditions = withCondition(conditions, condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now));
    conditions = withCondition(conditions, condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now));
    plan.requeueAfterMs = spec?.ttlSecondsAfterFinished !== undefined && spec.ttlSecondsAfterFinished !== null ? spec.ttlSecondsAfterFinished * 1000 : undefined;
    if (plan.requeueAfterMs === undefined) delete plan.requeueAfterMs;
    return finish(active, { startTime, completionTime: kubeTime(now) });
  }

  // Work-queue Jobs (no completions) start no new pods once one succeeded.
  const wantActive =
    completions !== undefined && completions !== null ? Math.max(0, Math.min(parallelism, completions - succeeded)) : succeeded > 0 ? active.length : parallelism;
  if (active.length > wantActive) return finish([...active].sort(deletionOrder).slice(0, active.length - wantActive), { startTime });
  if (active.length < wantActive) {
    const { delayMs, lastFailureMs } = failureBackoff(pods, backoff);
    const waitMs = lastFailureMs + delayMs - now.getTime();
    if (delayMs > 0 && waitMs > 0) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, waitMs);
    else plan.createCount = wantActive - active.length;
  }
  return finish([], { startTime });
}
