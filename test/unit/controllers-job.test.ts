import { describe, expect, it } from 'vitest';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { failureBackoff, planJob } from '../../src/node/controlplane/controllers/job-plan.js';
import { newJobPod, setupJobController, withGeneratedSelector } from '../../src/node/controlplane/controllers/job.js';
import { readyNode, runningPod } from './controller-fixtures.js';
import { eventually, startControlPlane, startFakeNodes } from './controller-harness.js';

const NOW = new Date('2026-01-01T01:00:00Z');
const BACKOFF = { baseMs: 10_000, maxMs: 600_000 };

function job(spec: Partial<NonNullable<Job['spec']>> = {}, status?: Job['status']): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'uid-pi', generation: 1 },
    spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } }, ...spec },
    ...(status ? { status } : {}),
  };
}

function jobPod(name: string, phase: 'Running' | 'Succeeded' | 'Failed' | 'Pending', finishedAt = '2026-01-01T00:59:00Z', ready = true): Pod {
  const pod = runningPod(name, 'w1', { ownerUid: 'uid-pi', ownerKind: 'Job', ready, created: '2026-01-01T00:50:00Z' });
  pod.status!.phase = phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    pod.status!.conditions![0]!.status = 'False';
    pod.status!.containerStatuses = [
      { name: 'pi', image: 'perl', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt } } },
    ];
  }
  return pod;
}

describe('job pods and selector', () => {
  it('generates the selector and the four pod labels, unless manualSelector', () => {
    const generated = withGeneratedSelector(job());
    expect(generated?.spec?.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'uid-pi' } });
    expect(generated?.spec?.template.metadata?.labels).toEqual({
      app: 'pi',
      'controller-uid': 'uid-pi',
      'batch.kubernetes.io/controller-uid': 'uid-pi',
      'job-name': 'pi',
      'batch.kubernetes.io/job-name': 'pi',
    });
    expect(withGeneratedSelector(generated!)).toBeUndefined();
    expect(withGeneratedSelector(job({ manualSelector: true }))).toBeUndefined();
  });

  it('creates pods from the template, owned by the Job', () => {
    const pod = newJobPod(job());
    expect(pod.metadata?.generateName).toBe('pi-');
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', uid: 'uid-pi', controller: true, apiVersion: 'batch/v1' });
    expect(pod.spec?.containers[0]?.image).toBe('perl');
  });
});

describe('planJob', () => {
  it('starts parallelism pods (bounded by remaining completions) and sets startTime', () => {
    const plan = planJob(job({ completions: 5, parallelism: 2 }), [], { now: NOW, backoff: BACKOFF });
    expect(plan.createCount).toBe(2);
    expect(plan.status.startTime).toBe('2026-01-01T01:00:00Z');
    expect(plan.status.active).toBe(0);
    const later = planJob(job({ completions: 5, parallelism: 3 }, { startTime: '2026-01-01T00:00:00Z', succeeded: 4 }), [
      jobPod('a', 'Succeeded'),
    ], { now: NOW, backoff: BACKOFF });
    expect(later.createCount).toBe(1);
    expect(later.status.succeeded).toBe(4); // counts never go back
  });

  it('completes once completions succeeded, with Complete and SuccessCriteriaMet, and removes leftover pods', () => {
    const pods = [jobPod('a', 'Succeeded'), jobPod('b', 'Succeeded'), jobPod('c', 'Running')];
    const plan = planJob(job({ completions: 2, parallelism: 3 }, { startTime: '2026-01-01T00:00:00Z' }), pods, { now: NOW, backoff: BACKOFF });
    expect(plan.status.succeeded).toBe(2);
    expect(plan.status.completionTime).toBe('2026-01-01T01:00:00Z');
    expect(plan.status.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['SuccessCriteriaMet', 'True'],
      ['Complete', 'True'],
    ]);
    expect(plan.deletePods.map((p) => p.metadata?.name)).toEqual(['c']);
    expect(plan.status.active).toBe(0);
    expect(plan.events.map((e) => e.reason)).toEqual(['Completed']);
  });

  it('a work-queue Job (no completions) completes when one succeeded and none is active', () => {
    const running = planJob(job({ parallelism: 2 }), [jobPod('a', 'Succeeded'), jobPod('b', 'Running')], { now: NOW, backoff: BACKOFF });
    expect(running.createCount).toBe(0);
    expect(running.status.conditions).toBeUndefined();
    const done = planJob(job({ parallelism: 2 }), [jobPod('a', 'Succeeded'), jobPod('b', 'Succeeded')], { now: NOW, backoff: BACKOFF });
    expect(done.status.conditions?.some((c) => c.type === 'Complete')).toBe(true);
  });

  it('backs off exponentially after failures', () => {
    const oneFailure = [jobPod('a', 'Failed', '2026-01-01T00:59:55Z')];
    const waiting = planJob(job({ completions: 1 }), oneFailure, { now: NOW, backoff: BACKOFF });
    expect(waiting.createCount).toBe(0);
    expect(waiting.requeueAfterMs).toBe(5_000);
    expect(waiting.status.failed).toBe(1);
    const twoFailures = [jobPod('a', 'Failed', '2026-01-01T00:59:30Z'), jobPod('b', 'Failed', '2026-01-01T00:59:45Z')];
    expect(failureBackoff(twoFailures, BACKOFF)).toEqual({ failures: 2, lastFailureMs: Date.parse('2026-01-01T00:59:45Z'), delayMs: 20_000 });
    expect(planJob(job({ completions: 1 }), twoFailures, { now: NOW, backoff: BACKOFF }).requeueAfterMs).toBe(5_000);
    const longAgo = [jobPod('a', 'Failed', '2026-01-01T00:50:00Z')];
    expect(planJob(job({ completions: 1 }), longAgo, { now: NOW, backoff: BACKOFF }).createCount).toBe(1);
  });

  it('fails with BackoffLimitExceeded past backoffLimit, deleting active pods', () => {
    const pods = [jobPod('a', 'Failed'), jobPod('b', 'Failed'), jobPod('c', 'Running')];
    const plan = planJob(job({ completions: 3, parallelism: 1, backoffLimit: 1 }), pods, { now: NOW, backoff: BACKOFF });
    expect(plan.status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['FailureTarget', 'True', 'BackoffLimitExceeded'],
      ['Failed', 'True', 'BackoffLimitExceeded'],
    ]);
    expect(plan.status.conditions?.[1]?.message).toBe('Job has reached the specified backoff limit');
    expect(plan.deletePods.map((p) => p.metadata?.name)).toEqual(['c']);
    expect(plan.createCount).toBe(0);
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds, and otherwise checks back at the deadline', () => {
    const started = { startTime: '2026-01-01T00:59:00Z' };
    const before = planJob(job({ completions: 1, activeDeadlineSeconds: 90 }, started), [jobPod('a', 'Running')], { now: NOW, backoff: BACKOFF });
    expect(before.requeueAfterMs).toBe(30_000);
    const after = planJob(job({ completions: 1, activeDeadlineSeconds: 60 }, started), [jobPod('a', 'Running')], { now: NOW, backoff: BACKOFF });
    expect(after.status.conditions?.find((c) => c.type === 'Failed')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(after.deletePods).toHaveLength(1);
  });

  it('suspends (deleting pods, clearing startTime) and resumes', () => {
    const suspended = planJob(job({ completions: 1, suspend: true }, { startTime: '2026-01-01T00:00:00Z' }), [jobPod('a', 'Running')], { now: NOW, backoff: BACKOFF });
    expect(suspended.deletePods).toHaveLength(1);
    expect(suspended.status.startTime).toBeUndefined();
    expect(suspended.status.conditions).toMatchObject([{ type: 'Suspended', status: 'True', reason: 'JobSuspended' }]);
    const resumed = planJob(job({ completions: 1, suspend: false }, suspended.status), [], { now: NOW, backoff: BACKOFF });
    expect(resumed.createCount).toBe(1);
    expect(resumed.status.conditions).toMatchObject([{ type: 'Suspended', status: 'False', reason: 'JobResumed' }]);
  });

  it('deletes a finished Job once ttlSecondsAfterFinished has passed', () => {
    const finished = { completionTime: '2026-01-01T00:59:30Z', conditions: [{ type: 'Complete', status: 'True' }] };
    expect(planJob(job({ ttlSecondsAfterFinished: 60 }, finished), [], { now: NOW, backoff: BACKOFF })).toMatchObject({ deleteJob: false, requeueAfterMs: 30_000 });
    expect(planJob(job({ ttlSecondsAfterFinished: 30 }, finished), [], { now: NOW, backoff: BACKOFF }).deleteJob).toBe(true);
    expect(planJob(job({}, finished), [], { now: NOW, backoff: BACKOFF }).deleteJob).toBe(false);
  });

  it('counts ready active pods', () => {
    const plan = planJob(job({ completions: 3, parallelism: 3 }, { startTime: '2026-01-01T00:00:00Z' }), [jobPod('a', 'Running'), jobPod('b', 'Running', undefined, false)], {
      now: NOW,
      backoff: BACKOFF,
    });
    expect(plan.status).toMatchObject({ active: 2, ready: 1, succeeded: 0, failed: 0 });
    expect(plan.createCount).toBe(1);
  });
});

describe('Job controller against the API server', () => {
  const jobsPath = '/apis/batch/v1/namespaces/default/jobs';
  const jobBody = (name: string, spec: Partial<NonNullable<Job['spec']>>) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } }, ...spec },
  });

  it('runs pods to completion with the Job labels and selector, then deletes the Job after its TTL', async () => {
    const plane = await startControlPlane([(ctx) => setupJobController(ctx, { podFailureBackoff: { baseMs: 100, maxMs: 1000 } })]);
    // Pods succeed once they have been Running for a moment.
    const seenRunning = new Set<string>();
    const nodes = startFakeNodes(plane.client, {
      defaultNode: 'w1',
      phaseFor: (pod) => {
        const uid = pod.metadata?.uid ?? '';
        if (seenRunning.has(uid)) return 'Succeeded';
        if (pod.status?.phase === 'Running') seenRunning.add(uid);
        return 'Running';
      },
    });
    try {
      const { client } = plane;
      await client.create('/api/v1/nodes', readyNode('w1'));
      await client.create(jobsPath, jobBody('calc', { completions: 3, parallelism: 2, ttlSecondsAfterFinished: 1 }));
      const done = await eventually('the Job complete', async () => {
        const job = await client.get<Job>(`${jobsPath}/calc`);
        return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? job : undefined;
      }, 10_000);
      expect(done.status).toMatchObject({ succeeded: 3, active: 0, failed: 0 });
      expect(done.status?.startTime).toBeDefined();
      expect(done.status?.completionTime).toBeDefined();
      const uid = done.metadata?.uid ?? '';
      expect(done.spec?.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
      const pods = (await client.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: `batch.kubernetes.io/job-name=calc` })).items;
      expect(pods).toHaveLength(3);
      expect(pods[0]?.metadata?.labels).toMatchObject({ 'job-name': 'calc', 'controller-uid': uid, 'batch.kubernetes.io/controller-uid': uid });
      const events = (await client.list<{ reason?: string; involvedObject?: { name?: string } }>('/api/v1/namespaces/default/events')).items;
      expect(events.filter((e) => e.involvedObject?.name === 'calc').map((e) => e.reason)).toEqual(expect.arrayContaining(['SuccessfulCreate', 'Completed']));
      await eventually('the Job deleted after its TTL', async () => ((await client.getOrUndefined(`${jobsPath}/calc`)) === undefined ? true : undefined), 5_000);
    } finally {
      await nodes.stop();
      await plane.stop();
    }
  }, 20_000);

  it('retries failed pods with back-off and fails the Job past backoffLimit', async () => {
    const plane = await startControlPlane([(ctx) => setupJobController(ctx, { podFailureBackoff: { baseMs: 1500, maxMs: 5000 } })]);
    const nodes = startFakeNodes(plane.client, { defaultNode: 'w1', phaseFor: () => 'Failed' });
    try {
      const { client } = plane;
      await client.create('/api/v1/nodes', readyNode('w1'));
      await client.create(jobsPath, jobBody('flaky', { completions: 1, backoffLimit: 1 }));
      const jobPods = async () => (await client.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'job-name=flaky' })).items;
      await eventually('the first pod failed', async () => ((await jobPods()).some((p) => p.status?.phase === 'Failed') ? true : undefined));
      const firstFailedSeen = Date.now();
      await eventually('a second pod', async () => ((await jobPods()).length === 2 ? true : undefined), 5_000);
      // finishedAt has whole seconds, so the 1.5 s back-off may look up to 1 s shorter; never shorter than that.
      expect(Date.now() - firstFailedSeen).toBeGreaterThanOrEqual(400);
      const failed = await eventually('the Job failed', async () => {
        const job = await client.get<Job>(`${jobsPath}/flaky`);
        return job.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? job : undefined;
      }, 10_000);
      expect(failed.status).toMatchObject({ failed: 2, active: 0 });
      expect(failed.status?.conditions?.find((c) => c.type === 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
      expect(await jobPods()).toHaveLength(2);
    } finally {
      await nodes.stop();
      await plane.stop();
    }
  }, 20_000);
});
