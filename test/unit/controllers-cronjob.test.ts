import { describe, expect, it } from 'vitest';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { CronParseError, mostRecentScheduleTime, nextScheduleTime, parseCronSchedule } from '../../src/node/controlplane/controllers/cron-schedule.js';
import { setupCronJobController } from '../../src/node/controlplane/controllers/cronjob.js';
import { eventually, startControlPlane } from './controller-harness.js';

const at = (iso: string): Date => new Date(iso);
const next = (schedule: string, after: string, zone?: string): string | undefined =>
  nextScheduleTime(parseCronSchedule(schedule, zone), at(after))?.toISOString();

describe('cron schedule parsing and next time', () => {
  it.each([
    ['*/5 * * * *', '2026-03-10T10:07:30Z', '2026-03-10T10:10:00.000Z'],
    ['*/5 * * * *', '2026-03-10T10:10:00Z', '2026-03-10T10:15:00.000Z'],
    ['0 * * * *', '2026-03-10T10:00:00Z', '2026-03-10T11:00:00.000Z'],
    ['30 2 * * *', '2026-03-10T03:00:00Z', '2026-03-11T02:30:00.000Z'],
    ['0 0 1 * *', '2026-01-31T12:00:00Z', '2026-02-01T00:00:00.000Z'],
    ['0 0 29 2 *', '2026-01-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 9 * * MON-FRI', '2026-03-13T10:00:00Z', '2026-03-16T09:00:00.000Z'], // Friday 10:00 -> Monday
    ['0 0 13 * 5', '2026-03-01T00:00:00Z', '2026-03-06T00:00:00.000Z'], // both days restricted: 13th OR Friday
    ['0 0 13 * *', '2026-03-01T00:00:00Z', '2026-03-13T00:00:00.000Z'],
    ['0 0 * * */2', '2026-03-10T00:00:00Z', '2026-03-12T00:00:00.000Z'], // Tue -> Thu (0,2,4,6), and */2 restricts
    ['15 10 * jan,jul *', '2026-02-01T00:00:00Z', '2026-07-01T10:15:00.000Z'],
    ['5-10/5 * * * *', '2026-03-10T10:06:00Z', '2026-03-10T10:10:00.000Z'],
    ['5/20 * * * *', '2026-03-10T10:26:00Z', '2026-03-10T10:45:00.000Z'],
    ['@hourly', '2026-03-10T10:59:59Z', '2026-03-10T11:00:00.000Z'],
    ['@daily', '2026-03-10T10:00:00Z', '2026-03-11T00:00:00.000Z'],
    ['@weekly', '2026-03-10T10:00:00Z', '2026-03-15T00:00:00.000Z'],
    ['@monthly', '2026-03-10T10:00:00Z', '2026-04-01T00:00:00.000Z'],
    ['@yearly', '2026-03-10T10:00:00Z', '2027-01-01T00:00:00.000Z'],
  ])('%s after %s is %s', (schedule, after, expected) => {
    expect(next(schedule, after)).toBe(expected);
  });

  it('never fires for a date that does not exist', () => {
    expect(next('0 0 30 2 *', '2026-01-01T00:00:00Z')).toBeUndefined();
  });

  it('uses the time zone, including clock changes', () => {
    // 09:00 in Berlin is 08:00 UTC in winter, 07:00 UTC in summer.
    expect(next('0 9 * * *', '2026-01-10T12:00:00Z', 'Europe/Berlin')).toBe('2026-01-11T08:00:00.000Z');
    expect(next('0 9 * * *', '2026-07-10T12:00:00Z', 'Europe/Berlin')).toBe('2026-07-11T07:00:00.000Z');
    // New York springs forward on 2026-03-08: 02:30 does not exist and runs at 03:30 EDT (07:30 UTC).
    expect(next('30 2 * * *', '2026-03-08T05:00:00Z', 'America/New_York')).toBe('2026-03-08T07:30:00.000Z');
    // ... and falls back on 2026-11-01: 01:30 happens twice, the job runs once, at the first.
    expect(next('30 1 * * *', '2026-11-01T04:00:00Z', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(next('30 1 * * *', '2026-11-01T05:30:00Z', 'America/New_York')).toBe('2026-11-02T06:30:00.000Z');
  });

  it.each([
    ['* * * *', /exactly 5 fields/],
    ['60 * * * *', /out of range/],
    ['* 24 * * *', /out of range/],
    ['* * 0 * *', /out of range/],
    ['* * * 13 *', /out of range/],
    ['* * * * 7', /out of range/],
    ['5-1 * * * *', /beyond end/],
    ['*/0 * * * *', /step/],
    ['@every 5m', /descriptor/],
    ['TZ=UTC * * * * *', /timeZone field/],
    ['x * * * *', /failed to parse/],
  ])('rejects %s', (schedule, message) => {
    expect(() => parseCronSchedule(schedule)).toThrow(CronParseError);
    expect(() => parseCronSchedule(schedule)).toThrow(message);
  });

  it('rejects an unknown time zone', () => {
    expect(() => parseCronSchedule('* * * * *', 'Mars/Olympus')).toThrow(/unknown time zone/);
  });
});

describe('most recent schedule time', () => {
  const everyFive = parseCronSchedule('*/5 * * * *');

  it('is undefined before the first time after the start', () => {
    expect(mostRecentScheduleTime(everyFive, at('2026-03-10T10:00:00Z'), at('2026-03-10T10:04:59Z'))).toBeUndefined();
  });

  it('finds the latest time and counts the missed ones', () => {
    const found = mostRecentScheduleTime(everyFive, at('2026-03-10T10:00:00Z'), at('2026-03-10T10:17:00Z'));
    expect(found?.time.toISOString()).toBe('2026-03-10T10:15:00.000Z');
    expect(found?.missed).toBe(3);
  });

  it('includes a time equal to now', () => {
    expect(mostRecentScheduleTime(everyFive, at('2026-03-10T10:00:00Z'), at('2026-03-10T10:05:00Z'))?.time.toISOString()).toBe('2026-03-10T10:05:00.000Z');
  });

  it('stays cheap and exact over a long gap (counting stops at the limit)', () => {
    const found = mostRecentScheduleTime(parseCronSchedule('7 3 * * *'), at('2025-01-01T00:00:00Z'), at('2026-03-10T10:00:00Z'));
    expect(found?.time.toISOString()).toBe('2026-03-10T03:07:00.000Z');
    expect(found?.missed).toBe(101);
    const yearly = mostRecentScheduleTime(parseCronSchedule('@yearly'), at('2020-06-01T00:00:00Z'), at('2026-03-10T10:00:00Z'));
    expect(yearly?.time.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(yearly?.missed).toBe(6);
  });
});

describe('CronJob controller against the API server (with a test clock)', () => {
  it('creates a Job per scheduled minute, honours Forbid, tracks active and success, and prunes history', async () => {
    let clock = new Date();
    const plane = await startControlPlane([(ctx) => setupCronJobController(ctx, { now: () => clock })]);
    const { client } = plane;
    const cronPath = '/apis/batch/v1/namespaces/default/cronjobs';
    const jobsPath = '/apis/batch/v1/namespaces/default/jobs';
    const listJobs = async () => (await client.list<Job>(jobsPath)).items.map((job) => job.metadata?.name ?? '').sort();
    // Moves the clock and pokes the CronJob so it syncs now rather than at the real next minute.
    let pokes = 0;
    const advanceTo = async (time: Date) => {
      clock = time;
      await client.patch(`${cronPath}/tick`, { metadata: { annotations: { poke: String(++pokes) } } }, 'merge');
    };
    const complete = async (name: string) => {
      const job = await client.get<Job>(`${jobsPath}/${name}`);
      const now = clock.toISOString().replace(/\.\d+Z$/, 'Z');
      await client.update(`${jobsPath}/${name}/status`, {
        ...job,
        status: { succeeded: 1, startTime: now, completionTime: now, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }] },
      });
    };
    try {
      const created = await client.create<CronJob>(cronPath, {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'tick' },
        spec: {
          schedule: '*/1 * * * *',
          concurrencyPolicy: 'Forbid',
          successfulJobsHistoryLimit: 1,
          jobTemplate: { metadata: { labels: { app: 'tick' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'busybox' }] } } } },
        },
      });
      const createdAt = Date.parse(created.metadata?.creationTimestamp ?? '');
      const firstMinute = Math.floor(createdAt / 60_000) + 1;
      await advanceTo(new Date(firstMinute * 60_000 + 5_000));
      await eventually('the first Job', async () => ((await listJobs()).join() === `tick-${firstMinute}` ? true : undefined));
      const job = await client.get<Job>(`${jobsPath}/tick-${firstMinute}`);
      expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
      expect(job.metadata?.labels).toMatchObject({ app: 'tick' });
      expect(job.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(firstMinute * 60_000).toISOString().replace('.000Z', 'Z'));
      const status = await eventually('status with the active Job', async () => {
        const cj = await client.get<CronJob>(`${cronPath}/tick`);
        return cj.status?.active?.length === 1 ? cj.status : undefined;
      });
      expect(status.active?.[0]).toMatchObject({ kind: 'Job', name: `tick-${firstMinute}`, namespace: 'default' });
      expect(status.lastScheduleTime).toBe(new Date(firstMinute * 60_000).toISOString().replace('.000Z', 'Z'));

      // Forbid: the next minute comes while the first Job still runs; nothing starts.
      await advanceTo(new Date((firstMinute + 1) * 60_000 + 5_000));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await listJobs()).toEqual([`tick-${firstMinute}`]);

      // The Job completes: lastSuccessfulTime is set, and (as in Kubernetes) the start Forbid held back runs now.
      await complete(`tick-${firstMinute}`);
      const after = await eventually('the held-back Job started', async () => {
        const cj = await client.get<CronJob>(`${cronPath}/tick`);
        return cj.status?.lastSuccessfulTime && cj.status.active?.[0]?.name === `tick-${firstMinute + 1}` ? cj.status : undefined;
      });
      expect(after.lastScheduleTime).toBe(new Date((firstMinute + 1) * 60_000).toISOString().replace('.000Z', 'Z'));
      expect(await listJobs()).toEqual([`tick-${firstMinute}`, `tick-${firstMinute + 1}`]);

      // History: with a limit of 1 successful Job, the older one goes once the newer completes.
      await complete(`tick-${firstMinute + 1}`);
      await advanceTo(new Date((firstMinute + 1) * 60_000 + 30_000));
      await eventually('the older Job pruned', async () => ((await listJobs()).join() === `tick-${firstMinute + 1}` ? true : undefined));
      await eventually('nothing active', async () => ((await client.get<CronJob>(`${cronPath}/tick`)).status?.active === undefined ? true : undefined));

      // Suspended: no new Jobs.
      await client.patch(`${cronPath}/tick`, { spec: { suspend: true } }, 'merge');
      await advanceTo(new Date((firstMinute + 5) * 60_000 + 5_000));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await listJobs()).toEqual([`tick-${firstMinute + 1}`]);
    } finally {
      await plane.stop();
    }
  }, 20_000);

  it('Replace deletes the running Job; startingDeadlineSeconds skips a start that is too late', async () => {
    let clock = new Date();
    const plane = await startControlPlane([(ctx) => setupCronJobController(ctx, { now: () => clock })]);
    const { client } = plane;
    const cronPath = '/apis/batch/v1/namespaces/default/cronjobs';
    const jobsPath = '/apis/batch/v1/namespaces/default/jobs';
    const listJobs = async () => (await client.list<Job>(jobsPath)).items.filter((j) => !j.metadata?.deletionTimestamp).map((job) => job.metadata?.name ?? '').sort();
    let pokes = 0;
    const advanceTo = async (time: Date) => {
      clock = time;
      await client.patch(`${cronPath}/swap`, { metadata: { annotations: { poke: String(++pokes) } } }, 'merge');
    };
    try {
      const created = await client.create<CronJob>(cronPath, {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'swap' },
        spec: {
          schedule: '* * * * *',
          concurrencyPolicy: 'Replace',
          startingDeadlineSeconds: 10,
          jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } } },
        },
      });
      const firstMinute = Math.floor(Date.parse(created.metadata?.creationTimestamp ?? '') / 60_000) + 1;
      await advanceTo(new Date(firstMinute * 60_000 + 2_000));
      await eventually('the first Job', async () => ((await listJobs()).join() === `swap-${firstMinute}` ? true : undefined));
      await advanceTo(new Date((firstMinute + 1) * 60_000 + 2_000));
      await eventually('the Job replaced', async () => ((await listJobs()).join() === `swap-${firstMinute + 1}` ? true : undefined));
      // 30 s late for a 10 s starting deadline: missed, no Job.
      await advanceTo(new Date((firstMinute + 2) * 60_000 + 30_000));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await listJobs()).toEqual([`swap-${firstMinute + 1}`]);
      const events = (await client.list<{ reason?: string }>('/api/v1/namespaces/default/events')).items.map((e) => e.reason);
      expect(events).toEqual(expect.arrayContaining(['SuccessfulCreate', 'SuccessfulDelete', 'MissSchedule']));
    } finally {
      await plane.stop();
    }
  }, 20_000);
});
