/**
 * The CronJob controller (kube's cronjob v2 controller): creates a Job named
 * `<cronjob>-<scheduled minutes since the epoch>` at each scheduled time, honouring
 * suspend, startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid, Replace); keeps
 * status.active, lastScheduleTime and lastSuccessfulTime; deletes finished Jobs beyond the
 * history limits. The clock is injectable so tests need not wait for minutes to pass.
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { ApiError, isNotFound, objectKey, recordEvent } from '../../shared/api-client.js';
import type { ControllerContext } from './context.js';
import { CronParseError, mostRecentScheduleTime, nextScheduleTime, parseCronSchedule, type CronSchedule } from './cron-schedule.js';
import { canonicalJson } from './hash.js';
import { conditionIsTrue, isJobFinished, jobFinishTime } from './job-plan.js';
import { controllerRefOf, newControllerRef } from './owner.js';
import { WorkQueue } from './work-queue.js';
import { kubeTime } from './workload-pods.js';

const COMPONENT = 'cronjob-controller';
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Kubernetes warns when more start times than this were missed. */
const TOO_MANY_MISSED = 100;

export interface CronJobControllerOptions {
  now?: () => Date;
}

export function cronJobPath(cronJob: CronJob): string {
  return `/apis/batch/v1/namespaces/${cronJob.metadata?.namespace ?? 'default'}/cronjobs/${cronJob.metadata?.name ?? ''}`;
}

/** `<cronjob>-<minutes since the epoch>`: the same scheduled time always gives the same name. */
export function jobNameFor(cronJobName: string, scheduledTime: Date): string {
  return `${cronJobName}-${Math.floor(scheduledTime.getTime() / 60_000)}`;
}

/** The Job for one scheduled time (kube's getJobFromTemplate2). */
export function jobFromTemplate(cronJob: CronJob, scheduledTime: Date): Job {
  const template = cronJob.spec?.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob.metadata?.name ?? '', scheduledTime),
      namespace: cronJob.metadata?.namespace ?? 'default',
      ...(template?.metadata?.labels ? { labels: { ...template.metadata.labels } } : {}),
      annotations: { ...template?.metadata?.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: kubeTime(scheduledTime) },
      ownerReferences: [newControllerRef(cronJob, 'batch/v1', 'CronJob')],
    },
    spec: structuredClone(template?.spec ?? { template: { spec: { containers: [] } } }),
  };
}

function jobReference(job: Job): ObjectReference {
  return {
    kind: 'Job',
    apiVersion: 'batch/v1',
    namespace: job.metadata?.namespace ?? 'default',
    name: job.metadata?.name ?? '',
    uid: job.metadata?.uid ?? '',
    resourceVersion: job.metadata?.resourceVersion ?? '',
  };
}

export function setupCronJobController(ctx: ControllerContext, opts: CronJobControllerOptions = {}): () => Promise<void> {
  const cronJobs = ctx.informer<CronJob>('/apis/batch/v1/cronjobs');
  const jobs = ctx.informer<Job>('/apis/batch/v1/jobs');
  const queue = new WorkQueue('cronjob', { log: ctx.log });
  const now = opts.now ?? (() => new Date());

  const enqueueOwner = (job: Job): void => {
    const ref = controllerRefOf(job);
    if (ref?.kind === 'CronJob') queue.add(`${job.metadata?.namespace ?? ''}/${ref.name}`);
  };
  cronJobs.onAdd((cj) => queue.add(objectKey(cj))).onUpdate((cj) => queue.add(objectKey(cj)));
  jobs.onAdd(enqueueOwner).onUpdate(enqueueOwner).onDelete(enqueueOwner);

  const sync = async (key: string): Promise<void> => {
    const cronJob = cronJobs.get(key);
    if (!cronJob || cronJob.metadata?.deletionTimestamp) return;
    const namespace = cronJob.metadata?.namespace ?? 'default';
    const involved = { kind: 'CronJob', apiVersion: 'batch/v1', name: cronJob.metadata?.name ?? '', namespace, uid: cronJob.metadata?.uid ?? '' };
    const event = (type: 'Normal' | 'Warning', reason: string, message: string): void => void recordEvent(ctx.client, involved, type, reason, message, COMPONENT);
    const owned = jobs.list().filter((job) => job.metadata?.namespace === namespace && controllerRefOf(job)?.uid === cronJob.metadata?.uid);
    const status = structuredClone(cronJob.status ?? {});

    // Reconcile status.active with the Jobs that exist and are still running.
    const running = owned.filter((job) => !isJobFinished(job));
    const previouslyActive = new Set((status.active ?? []).map((ref) => ref.uid));
    for (const job of owned) {
      if (!isJobFinished(job) || !previouslyActive.has(job.metadata?.uid)) continue;
      event('Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata?.name ?? ''}, status: ${conditionIsTrue(job, 'Complete') ? 'Complete' : 'Failed'}`);
    }
    for (const job of owned) {
      const finishedAt = conditionIsTrue(job, 'Complete') ? jobFinishTime(job) : undefined;
      if (finishedAt && (!status.lastSuccessfulTime || Date.parse(status.lastSuccessfulTime) < finishedAt.getTime())) status.lastSuccessfulTime = kubeTime(finishedAt);
    }
    // References already listed stay as written (their resourceVersion is the one at creation).
    status.active = running.map((job) => status.active?.find((ref) => ref.uid === job.metadata?.uid) ?? jobReference(job));

    await deleteBeyondHistoryLimits(cronJob, owned, event);

    const current = now();
    let schedule: CronSchedule;
    try {
      schedule = parseCronSchedule(cronJob.spec?.schedule ?? '', cronJob.spec?.timeZone ?? undefined);
    } catch (err) {
      if (!(err instanceof CronParseError)) throw err;
      event('Warning', cronJob.spec?.timeZone && /time zone/.test(err.message) ? 'UnknownTimeZone' : 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cronJob.spec?.schedule)} : ${err.message}`);
      await writeStatus(cronJob, status);
      return;
    }

    if (cronJob.spec?.suspend !== true) {
      const created = await startDueJob(cronJob, schedule, current, status, running, event);
      if (created) status.lastScheduleTime = kubeTime(created.scheduledTime);
      if (created?.job) status.active = [...(status.active ?? []).filter((ref) => ref.uid !== created.job!.metadata?.uid), jobReference(created.job)];
    }
    await writeStatus(cronJob, status);

    const next = nextScheduleTime(schedule, current);
    if (next) queue.addAfter(key, next.getTime() - current.getTime() + 100);
  };

  /** Creates the Job of the most recent due time, if any; returns the time it handled. */
  const startDueJob = async (
    cronJob: CronJob,
    schedule: CronSchedule,
    current: Date,
    status: NonNullable<CronJob['status']>,
    running: Job[],
    event: (type: 'Normal' | 'Warning', reason: string, message: string) => void,
  ): Promise<{ scheduledTime: Date; job?: Job } | undefined> => {
    const earliest = new Date(status.lastScheduleTime ?? cronJob.metadata?.creationTimestamp ?? current.toISOString());
    const deadline = cronJob.spec?.startingDeadlineSeconds;
    const due = mostRecentScheduleTime(schedule, earliest, current, TOO_MANY_MISSED + 1);
    if (!due) return undefined;
    if (due.missed > TOO_MANY_MISSED) {
      event('Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    if (deadline !== undefined && deadline !== null && due.time.getTime() + deadline * 1000 < current.getTime()) {
      event('Warning', 'MissSchedule', `Missed scheduled time to start a job: ${due.time.toUTCString().replace(/GMT$/, '+0000')}`);
      return undefined;
    }
    const name = jobNameFor(cronJob.metadata?.name ?? '', due.time);
    if (running.some((job) => job.metadata?.name === name)) return { scheduledTime: due.time };
    const policy = cronJob.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && running.length > 0) {
      event('Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return undefined;
    }
    if (policy === 'Replace') {
      for (const job of running) {
        try {
          await ctx.client.delete(`/apis/batch/v1/namespaces/${job.metadata?.namespace}/jobs/${job.metadata?.name}`, { propagationPolicy: 'Background' });
          event('Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name ?? ''}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      status.active = [];
    }
    try {
      const job = await ctx.client.create<Job>(`/apis/batch/v1/namespaces/${cronJob.metadata?.namespace}/jobs`, jobFromTemplate(cronJob, due.time));
      event('Normal', 'SuccessfulCreate', `Created job ${job.metadata?.name ?? ''}`);
      return { scheduledTime: due.time, job };
    } catch (err) {
      // Already created (by us, before a restart or a lost status write): that time is done.
      if (err instanceof ApiError && err.reason === 'AlreadyExists') return { scheduledTime: due.time };
      event('Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
      throw err;
    }
  };

  const deleteBeyondHistoryLimits = async (cronJob: CronJob, owned: Job[], event: (type: 'Normal' | 'Warning', reason: string, message: string) => void): Promise<void> => {
    // Newest first, by start time then name (kube's byJobStartTime, reversed).
    const started = (job: Job): string => job.status?.startTime ?? job.metadata?.creationTimestamp ?? '';
    const newestFirst = (a: Job, b: Job): number => started(b).localeCompare(started(a)) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
    const limits: Array<[string, number]> = [
      ['Complete', cronJob.spec?.successfulJobsHistoryLimit ?? 3],
      ['Failed', cronJob.spec?.failedJobsHistoryLimit ?? 1],
    ];
    for (const [type, limit] of limits) {
      const finished = owned.filter((job) => conditionIsTrue(job, type) && !job.metadata?.deletionTimestamp).sort(newestFirst);
      for (const job of finished.slice(limit)) {
        try {
          await ctx.client.delete(`/apis/batch/v1/namespaces/${job.metadata?.namespace}/jobs/${job.metadata?.name}`, { propagationPolicy: 'Background' });
          event('Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name ?? ''}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  };

  const writeStatus = async (cronJob: CronJob, status: NonNullable<CronJob['status']>): Promise<void> => {
    if (status.active?.length === 0) delete status.active;
    if (canonicalJson(status) === canonicalJson(cronJob.status ?? {})) return;
    await ctx.client.update(`${cronJobPath(cronJob)}/status`, { ...cronJob, status });
  };

  return () => queue.run(sync, ctx.signal, 2);
}
