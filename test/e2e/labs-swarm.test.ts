/**
 * The bundled labs on swarm, self-tested by their reference solutions on one real cluster
 * that the labs share in turn (each lab's cleanup and setup make it clean for the next):
 * `lab start` makes it, `lab solve` runs each step's solution and checks it. For each lab a
 * wrong state fails the right check with a useful message; the grader's formats are parsed;
 * the guided mode is driven through a pseudo-terminal (`script`). Also here, needing no
 * cluster: `lab ls`, `lab show` and a broken lab.yaml. The kube labs are in labs-kube.test.ts,
 * so that the two run side by side.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeReportSchema } from '../../src/labs/report.js';
import type { ClassroomResult } from '../../src/labs/reporters/github.js';
import { childrenNamed, parseXml } from '../unit/labs-xml.js';
import { CLI, clusterlab, clusterlabOk, show, swarmClient, uniqueName, waitFor, type SwarmClient } from './helpers.js';
import { checkOf, expectLabComparison, expectOutageCaught, grade, labCluster, selfTest, status, terminal } from './labs-support.js';

const SWARM = uniqueName('labs-sw');
const { dirs } = labCluster(SWARM);

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
    await expectLabComparison('swarm', await selfTest('swarm-vs-k8s', SWARM, 'swarm'));
  }, 900_000);
});
