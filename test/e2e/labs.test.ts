/**
 * The bundled labs, self-tested by their reference solutions on real clusters (swarm first,
 * then kube), through the built CLI: `lab start` makes the cluster, `lab solve` runs each
 * step's solution and checks it, `lab status -o json` ends with done: true. For each lab a
 * wrong state fails the right check with a useful message; the grader's formats are parsed;
 * the guided mode is driven through a pseudo-terminal (`script`). One cluster per engine,
 * shared by the labs in turn (each lab's cleanup and setup make it clean for the next);
 * both are removed in afterAll, with proof that nothing labelled is left.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabProgress } from '../../src/labs/progress.js';
import { gradeReportSchema, type GradeReport } from '../../src/labs/report.js';
import type { ClassroomResult } from '../../src/labs/reporters/github.js';
import { childrenNamed, parseXml } from '../unit/labs-xml.js';
import {
  CLI,
  ROOT,
  cleanEnv,
  clusterlab,
  clusterlabOk,
  figure,
  kubeTestClient,
  removeCluster,
  seconds,
  show,
  swarmClient,
  uniqueName,
  waitFor,
  type SwarmClient,
} from './helpers.js';

const SWARM = uniqueName('labs-sw');
const KUBE = uniqueName('labs-kb');
const made: string[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  const failures: unknown[] = [];
  for (const cluster of made) await removeCluster(cluster).catch((err: unknown) => failures.push(err));
  if (failures.length) throw failures[0];
});

beforeAll(async () => {
  // The labs run the sample applications; building them is skipped when nothing changed.
  await clusterlabOk(['image', 'build', '--apps'], { timeoutMs: 900_000 });
}, 900_000);

async function status(cluster: string): Promise<LabProgress> {
  return JSON.parse((await clusterlabOk(['lab', 'status', '--cluster', cluster, '-o', 'json'])).stdout) as LabProgress;
}

/** `lab start`, then `lab solve` on each current step until none is left; every step must pass. */
async function selfTest(lab: string, cluster: string, engine: 'swarm' | 'kube'): Promise<void> {
  const started = Date.now();
  if (!made.includes(cluster)) made.push(cluster);
  const start = await clusterlab(['lab', 'start', lab, '--cluster', cluster, '--engine', engine], { timeoutMs: 600_000 });
  expect(start.exitCode, show(start)).toBe(0);
  expect(start.stdout).toContain('Step 1/');
  for (let guard = 0; guard < 20; guard++) {
    const progress = await status(cluster);
    expect(progress).toMatchObject({ lab, engine });
    if (progress.currentStep === undefined) break;
    const solve = await clusterlab(['lab', 'solve', '--cluster', cluster], { timeoutMs: 400_000 });
    expect(solve.exitCode, `${lab} on ${engine}, step ${progress.currentStep}\n${show(solve)}`).toBe(0);
    expect(solve.stdout).toContain(`✓ ${progress.currentStep}: passed`);
  }
  const done = await status(cluster);
  expect(done.done, JSON.stringify(done, null, 2)).toBe(true);
  expect(done.steps.every((s) => s.status === 'passed' && s.checkedAt)).toBe(true);
  figure(`lab ${lab} on ${engine}: every reference solution`, seconds(Date.now() - started));
}

async function grade(lab: string, cluster: string, extra: string[] = []): Promise<{ exitCode: number; report: GradeReport; raw: string }> {
  const r = await clusterlab(['grade', lab, '--cluster', cluster, '--format', 'json', ...extra], { timeoutMs: 600_000 });
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`grade failed to run\n${show(r)}`);
  return { exitCode: r.exitCode, report: gradeReportSchema.parse(JSON.parse(r.stdout)), raw: r.stdout };
}

/** The graded check of a step, by kind. */
function checkOf(report: GradeReport, step: string, kind: string) {
  const found = report.steps.find((s) => s.id === step)?.checks.find((c) => c.kind === kind && c.status !== 'skipped');
  if (!found) throw new Error(`no ${kind} check in step ${step}: ${JSON.stringify(report.steps, null, 2)}`);
  return found;
}

/**
 * rolling-update's wrong state: the app goes away under the probe; the grader's probe check
 * fails and says how many requests failed, why, and for how long.
 */
async function expectOutageCaught(cluster: string, stopTheApp: () => Promise<unknown>): Promise<void> {
  await stopTheApp();
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const wrong = await grade('rolling-update', cluster, ['--timeout', '5']);
  expect(wrong.exitCode, wrong.raw).toBe(1);
  const probe = checkOf(wrong.report, 'update-v2', 'probe');
  expect(probe.status).toBe('failed');
  expect(probe.expected).toMatch(/measured at least 20 requests, at most 0 failed requests, x-app-version v2 seen$/);
  expect(probe.observed).toMatch(/; [1-9]\d* failed \(.+; longest outage \d+\.\d s, still going on\)/);
  expect(checkOf(wrong.report, 'update-v2', 'replicas').observed).toMatch(/^0 desired; /);
}

/** A program run in a pseudo-terminal (util-linux `script`), fed keys when text appears. */
function terminal(command: string[]) {
  const line = ['stty', 'cols', '100', 'rows', '40', ';', ...command.map((a) => `'${a}'`)].join(' ');
  const child = execa('script', ['-qfec', line, '/dev/null'], { env: cleanEnv({ TERM: 'xterm-256color' }), extendEnv: false, reject: false, cwd: ROOT, timeout: 400_000 });
  let screen = '';
  let seen = 0;
  child.stdout?.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const plain = () => screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  return {
    /** Waits until `text` appears after what was already waited for. */
    async expect(text: string, timeoutMs = 240_000): Promise<void> {
      await waitFor(
        () => {
          const at = plain().indexOf(text, seen);
          if (at < 0) throw new Error(`not yet: ${JSON.stringify(text)}; the screen ends with:\n${plain().slice(-1500)}`);
          seen = at + text.length;
        },
        { timeoutMs, intervalMs: 200, what: JSON.stringify(text) },
      );
    },
    type(keys: string): void {
      child.stdin?.write(keys);
    },
    async exit() {
      const result = await child;
      return { exitCode: result.exitCode ?? -1, screen: plain() };
    },
  };
}

describe('labs without a cluster', () => {
  it('lab ls -o json lists the bundled labs with their names, engines and steps', async () => {
    const labs = JSON.parse((await clusterlabOk(['lab', 'ls', '-o', 'json'])).stdout) as { name: string; engines: string[]; steps: number; error?: string }[];
    const byName = Object.fromEntries(labs.map((l) => [l.name, l]));
    for (const name of ['first-cluster', 'crash-recovery', 'scaling', 'node-failure', 'rolling-update', 'swarm-vs-k8s']) {
      expect(byName[name], name).toMatchObject({ engines: ['swarm', 'kube'] });
      expect(byName[name]?.error).toBeUndefined();
      expect(byName[name]?.steps).toBeGreaterThan(2);
    }
    const italian = JSON.parse((await clusterlabOk(['lab', 'ls', '-o', 'json', '--lang', 'it'])).stdout) as { name: string; title: string }[];
    expect(italian.find((l) => l.name === 'crash-recovery')?.title).toBe('Ripresa dopo un crash');
  });

  it('lab show prints the steps in the chosen language; a lab.yaml with mistakes is refused with the field path', async () => {
    const shown = await clusterlabOk(['lab', 'show', 'scaling', '--engine', 'kube'], { env: { LANG: 'es_ES.UTF-8' } });
    expect(shown.stdout).toContain('Escalar hacia arriba y hacia abajo');
    expect(shown.stdout).toContain('kubectl scale deployment/web --replicas=6');

    const dir = await mkdtemp(path.join(os.tmpdir(), 'labs-e2e-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'broken'));
    await writeFile(
      path.join(dir, 'broken', 'lab.yaml'),
      'apiVersion: clusterlab.dev/v1alpha1\nkind: Lab\ntitle: Broken\ndescription: x\nengines: [swarm]\nsteps:\n  - id: one\n    title: One\n    text: x\n    checks:\n      - replicas: {workload: web, runing: 3}\n',
    );
    const refused = await clusterlab(['lab', 'show', path.join(dir, 'broken')]);
    expect(refused.exitCode, show(refused)).toBe(1);
    expect(refused.stderr).toContain('steps[0].checks[0].replicas.runing: unknown field "runing" — did you mean "running"?');
    expect(refused.stderr).toMatch(/lab\.yaml:11:\d+: /);
  });
});

describe.sequential(`labs on swarm cluster ${SWARM}`, () => {
  let swarm: SwarmClient;

  it('first-cluster: lab start creates the cluster; every reference solution passes', async () => {
    await selfTest('first-cluster', SWARM, 'swarm');
    swarm = await swarmClient(SWARM);
  });

  it('grade: every format is valid, and all pass', async () => {
    const json = await grade('first-cluster', SWARM);
    expect(json.exitCode, json.raw).toBe(0);
    expect(json.report).toMatchObject({ lab: 'first-cluster', engine: 'swarm', passed: true });
    expect(json.report.score).toBe(json.report.maxScore);

    const junit = await clusterlabOk(['grade', 'first-cluster', '--cluster', SWARM, '--format', 'junit']);
    const suite = childrenNamed(parseXml(junit.stdout), 'testsuite')[0]!;
    expect(suite.attributes).toMatchObject({ name: 'first-cluster', failures: '0', tests: String(json.report.steps.length) });
    expect(childrenNamed(suite, 'testcase')).toHaveLength(json.report.steps.length);

    const tap = (await clusterlabOk(['grade', 'first-cluster', '--cluster', SWARM, '--format', 'tap'])).stdout.split('\n');
    expect(tap[0]).toBe('TAP version 14');
    expect(tap[1]).toBe(`1..${json.report.steps.length}`);
    expect(tap.filter((l) => /^ok \d+ - /.test(l))).toHaveLength(json.report.steps.length);

    // github, written to a file and to $GITHUB_OUTPUT as the Classroom workflow reads it.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labs-e2e-'));
    dirs.push(dir);
    const file = path.join(dir, 'result.b64');
    const outputs = path.join(dir, 'github-output');
    await writeFile(outputs, '');
    const gh = await clusterlab(['grade', 'first-cluster', '--cluster', SWARM, '--format', 'github', '--output', file], { env: { GITHUB_OUTPUT: outputs } });
    expect(gh.exitCode, show(gh)).toBe(0);
    expect(gh.stderr).toContain('Score: ');
    const encoded = (await readFile(file, 'utf8')).trim();
    const decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as ClassroomResult;
    expect(decoded).toMatchObject({ version: 1, status: 'pass', max_score: json.report.maxScore });
    expect(decoded.tests.map((t) => t.status)).toEqual(json.report.steps.map(() => 'pass'));
    expect(await readFile(outputs, 'utf8')).toBe(`result=${encoded}\n`);
  });

  it('grade through a Docker host: the same lab on the same swarm, as any swarm', async () => {
    const { DOCKER_HOST: host, DOCKER_CERT_PATH: certs } = swarm.env;
    const r = await clusterlab(['grade', 'first-cluster', '--docker-host', host!, '--cert-path', certs!, '--format', 'json']);
    expect(r.exitCode, show(r)).toBe(0);
    const report = gradeReportSchema.parse(JSON.parse(r.stdout));
    expect(report).toMatchObject({ target: `docker host ${host}`, engine: 'swarm', passed: true });
    const refused = await clusterlab(['grade', 'first-cluster', '--docker-host', host!, '--cluster', SWARM]);
    expect(refused.exitCode, show(refused)).toBe(2);
  });

  it('first-cluster: a wrong state fails the right check and says what it saw', async () => {
    await swarm.ok(['service', 'scale', '--detach', 'web=1']);
    const { exitCode, report } = await grade('first-cluster', SWARM, ['--timeout', '5']);
    expect(exitCode).toBe(1);
    expect(report.steps.find((s) => s.id === 'meet-the-nodes')?.status).toBe('passed');
    const replicas = checkOf(report, 'first-deployment', 'replicas');
    expect(replicas.status).toBe('failed');
    expect(replicas.expected).toBe('service web: 3 replicas running, 3 desired');
    expect(replicas.observed).toMatch(/^1 desired; 1 running \(web\.1 on /);
    expect(checkOf(report, 'where-they-run', 'spread').observed).toMatch(/^running on 1 node: /);
  });

  it('the guided mode through a pseudo-terminal: a hint, run the solution, quit; progress is kept', async () => {
    const session = terminal([CLI, 'lab', 'start', 'crash-recovery', '--cluster', SWARM]);
    await session.expect('Step 1/3: Look at the healthy app');
    await session.expect('What next?');
    session.type('2\r'); // a hint: this step has none
    await session.expect('No hints for this step.');
    await session.expect('What next?');
    session.type('4\r'); // run the solution for me
    await session.expect('✓ healthy: passed');
    await session.expect('Step 2/3: Crash one replica');
    await session.expect('What next?');
    session.type('2\r');
    await session.expect('(1/1)');
    await session.expect('What next?');
    session.type('7\r'); // quit
    await session.expect('clusterlab lab resume --cluster');
    const result = await session.exit();
    expect(result.exitCode, result.screen.slice(-2000)).toBe(0);
    const progress = await status(SWARM);
    expect(progress).toMatchObject({ lab: 'crash-recovery', currentStep: 'crash-one', done: false });
    expect(progress.steps.map((s) => s.status)).toEqual(['passed', 'pending', 'pending']);
  });

  it('crash-recovery: a state with no crash fails the restarts check; every reference solution passes', async () => {
    const wrong = await grade('crash-recovery', SWARM, ['--timeout', '5']);
    expect(wrong.exitCode).toBe(1);
    const restarts = checkOf(wrong.report, 'crash-one', 'restarts');
    expect(restarts).toMatchObject({ status: 'failed', observed: "0 failed tasks in the service's history" });
    expect(checkOf(wrong.report, 'crash-one', 'replicas').status).toBe('passed');
    await selfTest('crash-recovery', SWARM, 'swarm');
  });

  it('scaling: every reference solution passes; too few replicas fail the last step', async () => {
    await selfTest('scaling', SWARM, 'swarm');
    const passing = await grade('scaling', SWARM);
    expect(passing.exitCode, passing.raw).toBe(0);
    // The scaling steps before the last describe moments: the grader does not grade them.
    expect(passing.report.steps.slice(0, 3).map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped']);
    await swarm.ok(['service', 'scale', '--detach', 'web=1']);
    const wrong = await grade('scaling', SWARM, ['--timeout', '5']);
    expect(wrong.exitCode).toBe(1);
    expect(checkOf(wrong.report, 'back-to-four', 'replicas').observed).toMatch(/^1 desired; 1 running/);
    expect(checkOf(wrong.report, 'back-to-four', 'placement').observed).toMatch(/^nothing on worker/);
  });

  it('node-failure: every reference solution passes; replicas kept off a worker fail the last step', async () => {
    await selfTest('node-failure', SWARM, 'swarm');
    await swarm.ok(['service', 'update', '--detach', '--constraint-add', 'node.hostname!=worker2', 'web']);
    await waitFor(
      async () => {
        const nodes = await swarm.ok(['service', 'ps', 'web', '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}']);
        const lines = nodes.split('\n').filter((l) => l.trim());
        if (lines.length !== 4 || lines.some((l) => l.startsWith('worker2') || !l.includes('Running'))) throw new Error(nodes);
      },
      { timeoutMs: 120_000, intervalMs: 2_000, what: 'web off worker2' },
    );
    const wrong = await grade('node-failure', SWARM, ['--timeout', '5']);
    expect(wrong.exitCode).toBe(1);
    const placement = checkOf(wrong.report, 'rebalance', 'placement');
    expect(placement).toMatchObject({ status: 'failed', expected: 'running replicas of service web: at least one on each of worker1, worker2' });
    expect(placement.observed).toMatch(/^nothing on worker2 \(/);
    expect(wrong.report.steps.find((s) => s.id === 'node-back')?.status).toBe('passed');
  });

  it('rolling-update: every reference solution passes (v2 with no failed request, v3 stalls, roll back); an outage fails the probe check', async () => {
    await selfTest('rolling-update', SWARM, 'swarm');
    const graded = await grade('rolling-update', SWARM);
    expect(graded.exitCode, graded.raw).toBe(0);
    const client = await swarmClient(SWARM); // also when this test runs on its own (-t)
    await expectOutageCaught(SWARM, () => client.ok(['service', 'scale', '--detach', 'web=0']));
  }, 900_000);

  it('swarm-vs-k8s: every reference solution passes (crash, node loss, rollout, scale, measured by the probe)', async () => {
    await selfTest('swarm-vs-k8s', SWARM, 'swarm');
  }, 900_000);
});

describe.sequential(`labs on kube cluster ${KUBE}`, () => {
  // node-failure first: `lab start` makes the cluster with its short node-failure timings.
  it('node-failure: lab start creates the cluster with the lab’s timings; every reference solution passes', async () => {
    await selfTest('node-failure', KUBE, 'kube');
  });

  it('first-cluster: every reference solution passes', async () => {
    await selfTest('first-cluster', KUBE, 'kube');
  });

  it('crash-recovery: every reference solution passes', async () => {
    await selfTest('crash-recovery', KUBE, 'kube');
  });

  it('scaling: every reference solution passes, and the grader agrees', async () => {
    await selfTest('scaling', KUBE, 'kube');
    const graded = await grade('scaling', KUBE);
    expect(graded.exitCode, graded.raw).toBe(0);
    expect(graded.report).toMatchObject({ engine: 'kube', passed: true });
  });

  it('grade through a kubeconfig context: the same lab on the same cluster, as any Kubernetes cluster', async () => {
    const kubeconfig = (await clusterlabOk(['kubeconfig', '--name', KUBE])).stdout;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labs-e2e-'));
    dirs.push(dir);
    const file = path.join(dir, 'kubeconfig');
    await writeFile(file, kubeconfig, { mode: 0o600 });
    const r = await clusterlab(['grade', 'scaling', '--kubeconfig', file, '--context', `clusterlab-${KUBE}`, '--format', 'json']);
    expect(r.exitCode, show(r)).toBe(0);
    const report = gradeReportSchema.parse(JSON.parse(r.stdout));
    expect(report.target).toBe(`context clusterlab-${KUBE} (${file})`);
    expect(report.passed).toBe(true);
  });

  it('rolling-update: every reference solution passes (v2 with no failed request, v3 stalls at the deadline, undo); an outage fails the probe check', async () => {
    await selfTest('rolling-update', KUBE, 'kube');
    const graded = await grade('rolling-update', KUBE);
    expect(graded.exitCode, graded.raw).toBe(0);
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'labs-e2e-kubectl-'));
    dirs.push(cacheDir);
    const { kubectlOk } = kubeTestClient(`clusterlab-${KUBE}`, () => cacheDir);
    await expectOutageCaught(KUBE, () => kubectlOk(['scale', 'deployment/web', '--replicas=0']));
  }, 900_000);

  it('swarm-vs-k8s: every reference solution passes (crash, node loss, rollout, scale, measured by the probe)', async () => {
    await selfTest('swarm-vs-k8s', KUBE, 'kube');
  }, 900_000);
});
