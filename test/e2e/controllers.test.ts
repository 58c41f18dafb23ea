/**
 * The kube controllers end to end (issue "controllers — self-healing, scaling, rolling
 * updates, node failure"): one 3-node kube cluster (1 control plane, 2 workers) made with the
 * lab's short node-failure timings, driven by the real kubectl. Steps run in order; each
 * leaves the cluster usable for the next. Removed in afterAll, also when a step fails.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DaemonSet, Deployment } from 'kubernetes-types/apps/v1.js';
import type { Container, Node, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { execa } from 'execa';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  clusterlab,
  clusterlabOk,
  figure,
  KUBECTL_NEWEST,
  kubeTestClient,
  onClusterNode,
  removeCluster,
  seconds,
  show,
  TEST_IMAGE,
  uniqueName,
  waitFor,
  type RunResult,
} from './helpers.js';

const NAME = uniqueName('e2e-ctl');
const CONTEXT = `clusterlab-${NAME}`;
const NODES = ['leader', 'worker1', 'worker2'] as const;
const WORKERS = ['worker1', 'worker2'];

/** The lab timings of the cluster config (Kubernetes' defaults are 40 s and 300 s). */
const GRACE_SECONDS = 10;
const TOLERATION_SECONDS = 20;

/** The same busybox image under more tags (tagged inside every node), so templates can change image. */
const IMAGE_V1 = TEST_IMAGE;
const IMAGE_V2 = 'clusterlab-test/busybox:2';
const IMAGE_V3 = 'clusterlab-test/busybox:3';
/** Never present anywhere; with pull policy Never the pod stays in ErrImageNeverPull. */
const IMAGE_ABSENT = 'clusterlab-test/absent:1';

/** Sleeps, but leaves at once on SIGTERM (as PID 1 a shell ignores it otherwise and every delete waits out the grace period). */
const SLEEPER = 'trap "exit 0" TERM; sleep 3600 & wait';
/** As SLEEPER, becoming ready (the readiness file) only after 2 s, so a rollout that does not wait for readiness shows. */
const SLOW_STARTER = 'trap "exit 0" TERM; sleep 2; echo ok > /tmp/ready; sleep 3600 & wait';
// Kubernetes' default failureThreshold: one probe slowed past its 1 s timeout on a busy machine
// must not take a Ready pod out (it did once, with 1).
const READINESS: Probe = { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 3 };

let created = false;
let cacheDir = '';
let dir = '';

// ---- kubectl and clusterlab ----

const { kubectl, kubectlOk, getJson } = kubeTestClient(CONTEXT, () => cacheDir);

function onNode(node: string, command: string[], timeoutMs = 60_000): Promise<RunResult> {
  return onClusterNode(NAME, node, command, timeoutMs);
}

/** `kubectl rollout status`, which waits for the Deployment as kubectl understands "done". */
function rolloutStatus(deployment: string, timeout = '120s'): Promise<RunResult> {
  return kubectl(['rollout', 'status', `deployment/${deployment}`, `--timeout=${timeout}`], { timeoutMs: 180_000 });
}

async function rolledOut(deployment: string): Promise<void> {
  const r = await rolloutStatus(deployment);
  expect(r.exitCode, show(r)).toBe(0);
  expect(r.stdout).toMatch(/successfully rolled out/);
}

// ---- manifests ----

interface DeploymentOptions {
  name: string;
  replicas: number;
  image?: string;
  imagePullPolicy?: Container['imagePullPolicy'];
  /** Ready only through the readiness probe, 2 s after start. */
  slowReady?: boolean;
  progressDeadlineSeconds?: number;
}

function deployment(o: DeploymentOptions): Deployment {
  const labels = { app: o.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name, labels },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      ...(o.progressDeadlineSeconds === undefined ? {} : { progressDeadlineSeconds: o.progressDeadlineSeconds }),
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'app',
              image: o.image ?? IMAGE_V1,
              imagePullPolicy: o.imagePullPolicy ?? 'IfNotPresent',
              command: ['sh', '-c', o.slowReady ? SLOW_STARTER : SLEEPER],
              ...(o.slowReady ? { readinessProbe: READINESS } : {}),
            },
          ],
        },
      },
    },
  };
}

function daemonSet(name: string, tolerateControlPlane: boolean): DaemonSet {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 2,
          ...(tolerateControlPlane ? { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
          containers: [{ name: 'agent', image: IMAGE_V1, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', SLEEPER] }],
        },
      },
    },
  };
}

function disruptionBudget(name: string, app: string, minAvailable: number): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { minAvailable, selector: { matchLabels: { app } } } };
}

/** Writes a manifest as a YAML file (as a user would keep it) and returns its path. */
async function manifestFile(file: string, object: object): Promise<string> {
  const where = path.join(dir, file);
  await writeFile(where, YAML.stringify(object));
  return where;
}

// ---- pods ----

const isActive = (pod: Pod) => !pod.metadata?.deletionTimestamp;
const isReady = (pod: Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const podName = (pod: Pod) => pod.metadata?.name ?? '';
const imageOf = (pod: Pod) => pod.spec?.containers[0]?.image;
const summary = (pods: Pod[]) =>
  pods.map((p) => `${podName(p)} ${p.spec?.nodeName ?? '-'} ${p.status?.phase} ready=${isReady(p)}${isActive(p) ? '' : ' terminating'} ${imageOf(p)}`).join('\n');

async function podsOf(app: string): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(['pods', '-l', `app=${app}`])).items;
}

/**
 * Waits until `app` has exactly `count` pods, none terminating, all Ready (and `check`
 * passes on them); returns them.
 */
async function settledPods(app: string, count: number, timeoutMs: number, check: (pods: Pod[]) => void = () => {}): Promise<Pod[]> {
  return waitFor(
    async () => {
      const pods = await podsOf(app);
      const text = summary(pods);
      expect(pods.length, text).toBe(count);
      expect(pods.every((p) => isActive(p) && isReady(p)), text).toBe(true);
      check(pods);
      return pods;
    },
    { timeoutMs, intervalMs: 500, what: `${count} Ready pods of app=${app}` },
  );
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The rows of a kubectl table, split on runs of spaces (the header first). */
function rows(table: string): string[][] {
  return table
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s{2,}|\t+/));
}

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-kubecache-'));
  dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-controllers-'));
  const config = path.join(dir, 'cluster.yaml');
  await writeFile(
    config,
    [
      'apiVersion: clusterlab.dev/v1alpha1',
      'kind: Cluster',
      'engine: kube',
      'kube:',
      `  nodeMonitorGracePeriodSeconds: ${GRACE_SECONDS}`,
      `  defaultTolerationSeconds: ${TOLERATION_SECONDS}`,
      'nodes:',
      '  - {name: leader, role: manager}',
      '  - {name: worker1, role: worker}',
      '  - {name: worker2, role: worker}',
      '',
    ].join('\n'),
  );
  const started = Date.now();
  created = true;
  await clusterlabOk(['up', '--config', config, '--name', NAME], { timeoutMs: 300_000 });
  figure('up --engine kube (lab timings), 3 nodes', seconds(Date.now() - started));
  await clusterlabOk(['image', 'load', IMAGE_V1, '--name', NAME], { timeoutMs: 180_000 });
  for (const node of NODES) {
    for (const tag of [IMAGE_V2, IMAGE_V3]) {
      const tagged = await onNode(node, ['docker', 'tag', IMAGE_V1, tag]);
      if (tagged.exitCode !== 0) throw new Error(`tagging ${tag} on ${node} failed\n${show(tagged)}`);
    }
  }
});

afterAll(async () => {
  try {
    if (created) await removeCluster(NAME);
  } finally {
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

describe(`kube controllers on ${NAME}`, () => {
  it('restarts a killed container in place: same pod, restartCount 1, Ready again', async () => {
    await kubectlOk(['apply', '-f', await manifestFile('selfheal.yaml', deployment({ name: 'selfheal', replicas: 1 }))]);
    await rolledOut('selfheal');
    const [pod] = await settledPods('selfheal', 1, 60_000);
    const node = pod!.spec!.nodeName!;
    const listed = await onNode(node, [
      'docker', 'ps', '-q',
      '--filter', `label=io.kubernetes.pod.name=${podName(pod!)}`,
      '--filter', 'label=io.kubernetes.docker.type=container',
      '--filter', 'label=io.kubernetes.container.name=app',
    ]);
    expect(listed.exitCode, show(listed)).toBe(0);
    const ids = listed.stdout.trim().split('\n').filter(Boolean);
    expect(ids, listed.stdout).toHaveLength(1);

    // Watch the pod before the kill, so the moment it is Ready again is seen as it happens.
    const watcher = execa(
      KUBECTL_NEWEST,
      ['--context', CONTEXT, '--cache-dir', cacheDir, 'get', 'pod', podName(pod!), '-w', '-o', 'jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}{"\\n"}'],
      { env: cleanEnv(), extendEnv: false, reject: false, timeout: 90_000 },
    );
    let readyAgainAt = 0;
    let seen = '';
    watcher.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (!readyAgainAt && /^1 true$/m.test(seen)) readyAgainAt = Date.now();
    });
    try {
      await waitFor(() => expect(seen).toMatch(/^0 true$/m), { timeoutMs: 15_000, intervalMs: 100, what: 'the watch to start' });
      const killedBefore = Date.now();
      // The container's own finish time (same kernel clock as the host) is when the kill landed.
      const killed = await onNode(node, ['sh', '-c', `docker kill ${ids[0]} >/dev/null && docker inspect -f '{{.State.FinishedAt}}' ${ids[0]}`]);
      expect(killed.exitCode, show(killed)).toBe(0);
      const finishedAt = Date.parse(killed.stdout.trim());
      const killedAt = Number.isFinite(finishedAt) && finishedAt >= killedBefore - 1_000 ? finishedAt : killedBefore;
      await waitFor(() => expect(readyAgainAt, seen).toBeGreaterThan(0), { timeoutMs: 60_000, intervalMs: 100, what: 'restartCount 1 and ready in the watch' });
      figure('docker kill of a pod container -> Ready again', seconds(readyAgainAt - killedAt));
    } finally {
      watcher.kill();
      await watcher;
    }
    const after = (await getJson<Pod>(['pod', podName(pod!)]));
    expect(after.metadata?.uid).toBe(pod!.metadata?.uid);
    expect(after.spec?.nodeName).toBe(node);
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(1);
    expect(after.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(137);
    expect(isReady(after)).toBe(true);
    expect((await podsOf('selfheal')).map(podName)).toEqual([podName(pod!)]);
    await kubectlOk(['delete', 'deployment', 'selfheal']);
  });

  it('replaces a deleted pod of a Deployment: a new name, replicas back to 3', async () => {
    await kubectlOk(['apply', '-f', await manifestFile('replaced.yaml', deployment({ name: 'replaced', replicas: 3 }))]);
    await rolledOut('replaced');
    const before = (await settledPods('replaced', 3, 60_000)).map(podName);
    const victim = before[0]!;
    await kubectlOk(['delete', 'pod', victim], { timeoutMs: 60_000 });
    const after = await settledPods('replaced', 3, 60_000, (pods) => expect(pods.map(podName)).not.toContain(victim));
    const fresh = after.map(podName).filter((n) => !before.includes(n));
    expect(fresh, summary(after)).toHaveLength(1);
    expect(fresh[0]).toMatch(/^replaced-[a-z0-9]+-[a-z0-9]{5}$/);
    const deploy = await getJson<Deployment>(['deployment', 'replaced']);
    expect(deploy.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3 });
    await kubectlOk(['delete', 'deployment', 'replaced']);
  });

  it('scales a created Deployment to 10 and back to 2; get rs and get deploy -o wide show it', async () => {
    await kubectlOk(['create', 'deployment', 'scaled', `--image=${IMAGE_V1}`, '--', 'sh', '-c', SLEEPER]);
    await rolledOut('scaled');
    const started = Date.now();
    await kubectlOk(['scale', 'deployment/scaled', '--replicas=10']);
    await settledPods('scaled', 10, 120_000);
    figure('scale deployment 1 -> 10, all Ready', seconds(Date.now() - started));

    const rs = rows(await kubectlOk(['get', 'rs', '-l', 'app=scaled']));
    expect(rs[0]).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
    expect(rs).toHaveLength(2);
    expect(rs[1]![0]).toMatch(/^scaled-[a-z0-9]+$/);
    expect(rs[1]!.slice(1, 4)).toEqual(['10', '10', '10']);

    const wide = rows(await kubectlOk(['get', 'deploy', 'scaled', '-o', 'wide']));
    expect(wide[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    const [name, ready, upToDate, available, , containers, images, selector] = wide[1]!;
    expect([name, ready, upToDate, available, containers, images, selector]).toEqual(['scaled', '10/10', '10', '10', 'busybox', IMAGE_V1, 'app=scaled']);

    await kubectlOk(['scale', 'deployment/scaled', '--replicas=2']);
    await settledPods('scaled', 2, 90_000);
    expect(rows(await kubectlOk(['get', 'rs', '-l', 'app=scaled']))[1]!.slice(1, 4)).toEqual(['2', '2', '2']);
    expect(rows(await kubectlOk(['get', 'deploy', 'scaled']))[1]!.slice(0, 4)).toEqual(['scaled', '2/2', '2', '2']);
    await kubectlOk(['delete', 'deployment', 'scaled']);
  });

  it('rolls out a changed image with maxUnavailable 0, maxSurge 1: never fewer Ready pods than replicas', async () => {
    const replicas = 3;
    await kubectlOk(['apply', '-f', await manifestFile('rolling.yaml', deployment({ name: 'rolling', replicas, slowReady: true }))]);
    await rolledOut('rolling');
    await settledPods('rolling', replicas, 60_000);

    const started = Date.now();
    await kubectlOk(['apply', '-f', await manifestFile('rolling.yaml', deployment({ name: 'rolling', replicas, slowReady: true, image: IMAGE_V2 }))]);
    const status = rolloutStatus('rolling');
    let statusDone = false;
    void status.finally(() => (statusDone = true));

    interface Sample {
      atMs: number;
      readyActive: number;
      available: number;
      pods: number;
      images: Set<string>;
    }
    const samples: Sample[] = [];
    // No pod network yet: each pod's readiness is what says it could serve.
    while (!statusDone && Date.now() - started < 150_000 && samples.length < 2_000) {
      const list = await getJson<{ items: (Pod | Deployment)[] }>(['deployments,pods', '-l', 'app=rolling']);
      const pods = list.items.filter((i): i is Pod => i.kind === 'Pod');
      const deploy = list.items.find((i): i is Deployment => i.kind === 'Deployment');
      samples.push({
        atMs: Date.now() - started,
        readyActive: pods.filter((p) => isActive(p) && isReady(p)).length,
        available: deploy?.status?.availableReplicas ?? 0,
        pods: pods.length,
        images: new Set(pods.filter(isActive).map((p) => imageOf(p) ?? '')),
      });
    }
    const result = await status;
    figure('rolling update of 3 pods (2 s readiness each)', seconds(Date.now() - started));
    expect(result.exitCode, show(result)).toBe(0);
    const report = samples.map((s) => `${s.atMs} ms: ${s.readyActive} ready, ${s.available} available, ${s.pods} pods, ${[...s.images].join('+')}`).join('\n');
    // The samples cover the rollout itself: old and new pods side by side, and the surge pod.
    expect(samples.some((s) => s.images.has(IMAGE_V1) && s.images.has(IMAGE_V2)), report).toBe(true);
    expect(samples.some((s) => s.pods > replicas), report).toBe(true);
    expect(Math.min(...samples.map((s) => s.readyActive)), report).toBeGreaterThanOrEqual(replicas);
    expect(Math.min(...samples.map((s) => s.available)), report).toBeGreaterThanOrEqual(replicas);
    const after = await settledPods('rolling', replicas, 60_000);
    expect(after.map(imageOf)).toEqual([IMAGE_V2, IMAGE_V2, IMAGE_V2]);
  });

  it('shows rollout history, and one revision in detail', async () => {
    const history = await kubectlOk(['rollout', 'history', 'deployment/rolling']);
    expect(history.split('\n')[0]!.trim()).toBe('deployment.apps/rolling');
    expect(rows(history).slice(1)).toEqual([
      ['REVISION', 'CHANGE-CAUSE'],
      ['1', '<none>'],
      ['2', '<none>'],
    ]);
    const second = await kubectlOk(['rollout', 'history', 'deployment/rolling', '--revision=2']);
    expect(second).toMatch(/deployment\.apps\/rolling with revision #2/);
    expect(second).toMatch(/Pod Template:/);
    expect(second).toMatch(/pod-template-hash=[a-z0-9]+/);
    expect(second).toMatch(new RegExp(`Image:\\s+${IMAGE_V2}`));
    expect(await kubectlOk(['rollout', 'history', 'deployment/rolling', '--revision=1'])).toMatch(new RegExp(`Image:\\s+${IMAGE_V1}`));
  });

  it('records change causes (create --record, set image --record) as a real cluster does', async () => {
    const file = await manifestFile('deployment.yaml', deployment({ name: 'recorded', replicas: 1 }));
    const causeOf = async () => kubectlOk(['get', 'deployment', 'recorded', '-o', 'jsonpath={.metadata.annotations.kubernetes\\.io/change-cause}']);
    await kubectlOk(['create', '-f', file, '--record']);
    await rolledOut('recorded');
    const createCause = await causeOf();
    // kubectl writes its own command line: the binary's name, the arguments, then every flag as --name=value.
    expect(createCause).toMatch(new RegExp(`^kubectl\\S* create( --\\S+)* --filename=${escapeRegExp(file)} --record=true$`));
    await kubectlOk(['set', 'image', 'deployment/recorded', `app=${IMAGE_V2}`, '--record']);
    await rolledOut('recorded');
    const setCause = await causeOf();
    expect(setCause).toMatch(new RegExp(`^kubectl\\S* set image deployment/recorded app=${escapeRegExp(IMAGE_V2)}( --\\S+)* --record=true$`));

    // The controller copies the cause onto each revision's ReplicaSet; history reads it from there.
    const history = await kubectlOk(['rollout', 'history', 'deployment/recorded']);
    expect(history.split('\n')[0]!.trim()).toBe('deployment.apps/recorded');
    expect(rows(history).slice(1)).toEqual([
      ['REVISION', 'CHANGE-CAUSE'],
      ['1', createCause],
      ['2', setCause],
    ]);
    const sets = (await getJson<{ items: { metadata: { annotations?: Record<string, string> } }[] }>(['rs', '-l', 'app=recorded'])).items;
    const causes = Object.fromEntries(sets.map((s) => [s.metadata.annotations?.['deployment.kubernetes.io/revision'], s.metadata.annotations?.['kubernetes.io/change-cause']]));
    expect(causes).toEqual({ '1': createCause, '2': setCause });
    await kubectlOk(['delete', 'deployment', 'recorded']);
  });

  it('stops a rollout with a bad image at its progress deadline; undo and undo --to-revision restore it', async () => {
    await kubectlOk([
      'apply', '-f',
      await manifestFile('rolling.yaml', deployment({ name: 'rolling', replicas: 3, slowReady: true, image: IMAGE_ABSENT, imagePullPolicy: 'Never', progressDeadlineSeconds: 10 })),
    ]);
    const started = Date.now();
    const stuck = await rolloutStatus('rolling', '90s');
    figure('bad image -> rollout status gives up (progressDeadlineSeconds 10)', seconds(Date.now() - started));
    expect(stuck.exitCode, show(stuck)).not.toBe(0);
    expect(stuck.stderr).toMatch(/deployment "rolling" exceeded its progress deadline/);
    const deploy = await getJson<Deployment>(['deployment', 'rolling']);
    expect(deploy.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    // maxUnavailable 0: the old pods all stayed Ready beside the one that cannot start.
    const during = await podsOf('rolling');
    expect(during.filter((p) => imageOf(p) === IMAGE_V2 && isReady(p)), summary(during)).toHaveLength(3);
    const broken = during.find((p) => imageOf(p) === IMAGE_ABSENT);
    expect(broken?.status?.containerStatuses?.[0]?.state?.waiting?.reason, summary(during)).toBe('ErrImageNeverPull');

    expect(await kubectlOk(['rollout', 'undo', 'deployment/rolling'])).toMatch(/deployment\.apps\/rolling rolled back/);
    await rolledOut('rolling');
    expect((await settledPods('rolling', 3, 60_000)).map(imageOf)).toEqual([IMAGE_V2, IMAGE_V2, IMAGE_V2]);

    const missing = await kubectl(['rollout', 'undo', 'deployment/rolling', '--to-revision=99']);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toMatch(/unable to find specified revision 99 in history/);

    await kubectlOk(['rollout', 'undo', 'deployment/rolling', '--to-revision=1']);
    await rolledOut('rolling');
    expect((await settledPods('rolling', 3, 60_000)).map(imageOf)).toEqual([IMAGE_V1, IMAGE_V1, IMAGE_V1]);
    // Undo reuses the old ReplicaSets and raises their revisions: 2 became 4, 1 became 5.
    expect(rows(await kubectlOk(['rollout', 'history', 'deployment/rolling'])).slice(2).map((r) => r[0])).toEqual(['3', '4', '5']);
    expect(await kubectlOk(['rollout', 'history', 'deployment/rolling', '--revision=4'])).toMatch(new RegExp(`Image:\\s+${IMAGE_V2}`));
  });

  it('restarts, pauses, resumes and sets images; describe and wait agree', async () => {
    const beforeRestart = (await podsOf('rolling')).map(podName);
    expect(await kubectlOk(['rollout', 'restart', 'deployment/rolling'])).toMatch(/deployment\.apps\/rolling restarted/);
    await rolledOut('rolling');
    const restarted = await settledPods('rolling', 3, 60_000);
    expect(restarted.map(podName).filter((n) => beforeRestart.includes(n))).toEqual([]);
    expect(restarted.every((p) => p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'])).toBe(true);

    await kubectlOk(['rollout', 'pause', 'deployment/rolling']);
    await kubectlOk(['set', 'image', 'deployment/rolling', `app=${IMAGE_V3}`]);
    const pausedNames = restarted.map(podName).sort();
    // Paused: the new template waits; nothing may change for a while.
    await new Promise((r) => setTimeout(r, 5_000));
    const paused = await podsOf('rolling');
    expect(paused.map(podName).sort(), summary(paused)).toEqual(pausedNames);
    expect(paused.map(imageOf)).toEqual([IMAGE_V1, IMAGE_V1, IMAGE_V1]);
    const pausedDeploy = await getJson<Deployment>(['deployment', 'rolling']);
    expect(pausedDeploy.spec?.paused).toBe(true);
    expect(pausedDeploy.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });

    await kubectlOk(['rollout', 'resume', 'deployment/rolling']);
    await rolledOut('rolling');
    expect((await settledPods('rolling', 3, 60_000)).map(imageOf)).toEqual([IMAGE_V3, IMAGE_V3, IMAGE_V3]);

    const described = await kubectlOk(['describe', 'deployment', 'rolling']);
    expect(described).toMatch(/StrategyType:\s+RollingUpdate/);
    expect(described).toMatch(/RollingUpdateStrategy:\s+0 max unavailable, 1 max surge/);
    expect(described).toMatch(/Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable/);
    expect(described).toMatch(new RegExp(`Image:\\s+${IMAGE_V3}`));
    expect(described).toMatch(/NewReplicaSet:\s+rolling-[a-z0-9]+ \(3\/3 replicas created\)/);
    expect(described).toMatch(/Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled (up|down) replica set rolling-[a-z0-9]+ .*to \d/);

    const waited = await kubectl(['wait', '--for=condition=Available', 'deployment/rolling', '--timeout=60s'], { timeoutMs: 90_000 });
    expect(waited.exitCode, show(waited)).toBe(0);
    expect(waited.stdout.trim()).toBe('deployment.apps/rolling condition met');
  });

  it('runs a DaemonSet pod on each worker (the control plane is tainted) and on all three when tolerated', async () => {
    await kubectlOk(['apply', '-f', await manifestFile('agentd.yaml', daemonSet('agentd', false))]);
    const onWorkers = await settledPods('agentd', 2, 60_000);
    expect(onWorkers.map((p) => p.spec?.nodeName).sort()).toEqual(WORKERS);
    await waitFor(
      async () => {
        const ds = rows(await kubectlOk(['get', 'ds', 'agentd']));
        expect(ds[0]).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
        expect(ds[1]!.slice(0, 7)).toEqual(['agentd', '2', '2', '2', '2', '2', '<none>']);
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'get ds agentd showing 2 of 2' },
    );

    await kubectlOk(['apply', '-f', await manifestFile('everywhere.yaml', daemonSet('everywhere', true))]);
    const everywhere = await settledPods('everywhere', 3, 60_000);
    expect(everywhere.map((p) => p.spec?.nodeName).sort()).toEqual([...NODES]);
    await waitFor(async () => expect(rows(await kubectlOk(['get', 'ds', 'everywhere']))[1]!.slice(1, 6)).toEqual(['3', '3', '3', '3', '3']), {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'get ds everywhere showing 3 of 3',
    });
    await kubectlOk(['delete', 'ds', 'everywhere']);
  });

  it('runs a Job to completion: get jobs shows Complete 1/1', async () => {
    await kubectlOk(['create', 'job', 'once', `--image=${IMAGE_V1}`, '--', 'sh', '-c', 'echo done']);
    const waited = await kubectl(['wait', '--for=condition=complete', 'job/once', '--timeout=90s'], { timeoutMs: 120_000 });
    expect(waited.exitCode, show(waited)).toBe(0);
    const jobs = rows(await kubectlOk(['get', 'jobs']));
    expect(jobs[0]).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    expect(jobs.find((r) => r[0] === 'once')?.slice(0, 3)).toEqual(['once', 'Complete', '1/1']);
    const pods = (await getJson<{ items: Pod[] }>(['pods', '-l', 'job-name=once'])).items;
    expect(pods.map((p) => p.status?.phase)).toEqual(['Succeeded']);
  });

  it('deletes through owner references: orphan keeps the pods, foreground waits for them', async () => {
    await kubectlOk(['apply', '-f', await manifestFile('cascade.yaml', deployment({ name: 'cascade', replicas: 2 }))]);
    await settledPods('cascade', 2, 90_000);
    // --cascade=orphan: the Deployment and its ReplicaSet go, the pods stay, without owner.
    await kubectlOk(['delete', 'deployment', 'cascade', '--cascade=orphan']);
    await kubectlOk(['delete', 'rs', '-l', 'app=cascade', '--cascade=orphan']);
    const orphans = await settledPods('cascade', 2, 30_000);
    expect(orphans.map((p) => p.metadata?.ownerReferences ?? [])).toEqual([[], []]);
    // The same Deployment again: its new ReplicaSet has the same template hash and adopts the
    // orphans instead of starting new pods.
    await kubectlOk(['apply', '-f', await manifestFile('cascade.yaml', deployment({ name: 'cascade', replicas: 2 }))]);
    const adopted = await waitFor(
      async () => {
        const pods = await podsOf('cascade');
        expect(pods.map((p) => p.metadata?.ownerReferences?.[0]?.kind), summary(pods)).toEqual(['ReplicaSet', 'ReplicaSet']);
        return pods;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the orphans adopted' },
    );
    expect(adopted.map(podName).sort()).toEqual(orphans.map(podName).sort());
    // Foreground: the Deployment goes only once its ReplicaSet and pods are gone.
    const deleted = await kubectl(['delete', 'deployment', 'cascade', '--cascade=foreground', '--timeout=90s'], { timeoutMs: 120_000 });
    expect(deleted.exitCode, show(deleted)).toBe(0);
    expect(await podsOf('cascade')).toEqual([]);
    expect(await kubectlOk(['get', 'rs', '-l', 'app=cascade', '-o', 'name'])).toBe('');
  });

  it('deletes a namespace with everything in it; it stays Terminating until its pods are gone', async () => {
    await kubectlOk(['create', 'namespace', 'doomed']);
    await kubectlOk(['-n', 'doomed', 'create', 'deployment', 'inside', `--image=${IMAGE_V1}`, '--replicas=2', '--', 'sleep', '3600']);
    await waitFor(
      async () => expect(await kubectlOk(['-n', 'doomed', 'get', 'pods', '--field-selector=status.phase=Running', '-o', 'name'])).toMatch(/pod\/inside-.*\n.*pod\/inside-/),
      { timeoutMs: 90_000, intervalMs: 500, what: '2 pods Running in namespace doomed' },
    );
    // `sleep` as PID 1 ignores SIGTERM: the pods take their 30 s grace period, and meanwhile
    // the namespace says Terminating.
    await kubectlOk(['delete', 'namespace', 'doomed', '--wait=false']);
    expect(await kubectlOk(['get', 'namespace', 'doomed', '-o', 'jsonpath={.status.phase}'])).toBe('Terminating');
    const refused = await kubectl(['-n', 'doomed', 'create', 'configmap', 'late', '--from-literal=a=b']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/because it is being terminated/);
    await waitFor(
      async () => {
        const r = await kubectl(['get', 'namespace', 'doomed']);
        expect(r.stderr).toMatch(/NotFound/);
      },
      { timeoutMs: 120_000, intervalMs: 1_000, what: 'namespace doomed to be gone' },
    );
  });

  it('drains a worker through a PodDisruptionBudget (evictions wait while it is exhausted), then uncordons', async () => {
    try {
      // All replicas on worker1 first, so draining it must go through the budget.
      await kubectlOk(['cordon', 'worker2']);
      await kubectlOk(['apply', '-f', await manifestFile('guarded.yaml', deployment({ name: 'guarded', replicas: 3, slowReady: true }))]);
      await kubectlOk(['apply', '-f', await manifestFile('guarded-pdb.yaml', disruptionBudget('guarded', 'guarded', 2))]);
      await rolledOut('guarded');
      const placed = await settledPods('guarded', 3, 60_000);
      expect(placed.map((p) => p.spec?.nodeName)).toEqual(['worker1', 'worker1', 'worker1']);
      await kubectlOk(['uncordon', 'worker2']);
      await waitFor(async () => expect(rows(await kubectlOk(['get', 'pdb', 'guarded']))[1]!.slice(0, 4)).toEqual(['guarded', '2', 'N/A', '1']), {
        timeoutMs: 30_000,
        intervalMs: 500,
        what: 'the budget allowing 1 disruption',
      });

      const started = Date.now();
      const drain = await kubectl(['drain', 'worker1', '--ignore-daemonsets', '--timeout=180s'], { timeoutMs: 240_000 });
      figure('drain worker1 (3 budgeted pods, minAvailable 2)', seconds(Date.now() - started));
      expect(drain.exitCode, show(drain)).toBe(0);
      // kubectl drain retries an eviction the API refused with 429 while the budget was exhausted.
      expect(drain.stderr + drain.stdout).toMatch(/Cannot evict pod as it would violate the pod's disruption budget/);
      expect(drain.stdout).toMatch(/node\/worker1 drained/);
      const moved = await settledPods('guarded', 3, 60_000);
      expect(moved.map((p) => p.spec?.nodeName)).toEqual(['worker2', 'worker2', 'worker2']);
      expect(await kubectlOk(['get', 'node', 'worker1'])).toMatch(/worker1\s+Ready,SchedulingDisabled/);
      // The DaemonSet pod stays (--ignore-daemonsets).
      expect((await podsOf('agentd')).map((p) => p.spec?.nodeName).sort()).toEqual(WORKERS);

      await kubectlOk(['uncordon', 'worker1']);
      const nodes = rows(await kubectlOk(['get', 'node', 'worker1']));
      expect(nodes[1]!.slice(0, 2)).toEqual(['worker1', 'Ready']);
    } finally {
      // Whatever happened, the next steps get both workers schedulable and no budget in the way.
      await kubectl(['uncordon', 'worker1']);
      await kubectl(['uncordon', 'worker2']);
      await kubectl(['delete', 'pdb', 'guarded', '--ignore-not-found']);
      await kubectl(['delete', 'deployment', 'guarded', '--ignore-not-found']);
    }
  });

  it('moves the pods of a stopped worker elsewhere within the lab timings; the node comes back Ready', async () => {
    // Every replica on worker2 first (worker1 cordoned meanwhile), so all of them must move.
    const app = 'evacuated';
    await kubectlOk(['cordon', 'worker1']);
    try {
      await kubectlOk(['apply', '-f', await manifestFile('evacuated.yaml', deployment({ name: app, replicas: 3, slowReady: true }))]);
      await rolledOut(app);
      expect((await settledPods(app, 3, 60_000)).map((p) => p.spec?.nodeName)).toEqual(['worker2', 'worker2', 'worker2']);
    } finally {
      await kubectlOk(['uncordon', 'worker1']);
    }

    let restarted = false;
    try {
      const started = Date.now();
      await clusterlabOk(['node', 'stop', 'worker2', '--name', NAME], { timeoutMs: 120_000 });
      const stopTook = Date.now() - started;
      figure('clusterlab node stop worker2', seconds(stopTook));

      await waitFor(
        async () => {
          const node = await getJson<Node>(['node', 'worker2']);
          expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('Unknown');
          expect(node.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual(
            expect.arrayContaining(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']),
          );
          expect(await kubectlOk(['get', 'node', 'worker2'])).toMatch(/worker2\s+NotReady/);
        },
        { timeoutMs: (GRACE_SECONDS + 20) * 1000, intervalMs: 500, what: 'worker2 NotReady with the unreachable taints' },
      );
      figure(`node stop -> NotReady (grace ${GRACE_SECONDS} s)`, seconds(Date.now() - started));

      await waitFor(
        async () => {
          const pods = (await podsOf(app)).filter(isActive);
          const text = summary(pods);
          expect(pods.length, text).toBe(3);
          expect(pods.every((p) => isReady(p) && p.spec?.nodeName === 'worker1'), text).toBe(true);
        },
        { timeoutMs: 75_000, intervalMs: 500, what: `the ${app} replicas Running and Ready off worker2` },
      );
      const moved = Date.now() - started;
      figure(`node stop -> replicas Ready elsewhere (grace ${GRACE_SECONDS} s + toleration ${TOLERATION_SECONDS} s)`, seconds(moved));
      // The silence began at the node's last heartbeat (its Lease), which may precede the stop by a few seconds.
      const lastRenew = Date.parse(await kubectlOk(['get', 'lease', 'worker2', '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}']));
      figure('last heartbeat of worker2 -> replicas Ready elsewhere', seconds(started + moved - lastRenew));
      expect(moved - stopTook, `replicas Ready elsewhere ${seconds(moved - stopTook)} after the node was down`).toBeLessThanOrEqual(60_000);

      await clusterlabOk(['node', 'start', 'worker2', '--name', NAME], { timeoutMs: 180_000 });
      restarted = true;
      await waitFor(
        async () => {
          expect(rows(await kubectlOk(['get', 'node', 'worker2']))[1]!.slice(0, 2)).toEqual(['worker2', 'Ready']);
          const node = await getJson<Node>(['node', 'worker2']);
          expect(node.spec?.taints ?? []).toEqual([]);
        },
        { timeoutMs: 90_000, intervalMs: 1_000, what: 'worker2 Ready again without taints' },
      );
      // The pods left behind are finished off once the node's agent is back.
      await settledPods(app, 3, 90_000, (pods) => expect(pods.map((p) => p.spec?.nodeName)).toEqual(['worker1', 'worker1', 'worker1']));
    } finally {
      // A failed step must not leave the node off for the rest of the file.
      if (!restarted) await clusterlab(['node', 'start', 'worker2', '--name', NAME], { timeoutMs: 180_000 });
    }
  });

  it('refuses kubectl autoscale with a clear error (no HorizontalPodAutoscaler API)', async () => {
    const r = await kubectl(['autoscale', 'deployment', 'rolling', '--max=3']);
    expect(r.exitCode, show(r)).not.toBe(0);
    expect(r.stderr, show(r)).toMatch(/horizontalpodautoscalers|HorizontalPodAutoscaler/);
    expect(await kubectl(['get', 'hpa'])).toMatchObject({ exitCode: 1 });
  });
});
