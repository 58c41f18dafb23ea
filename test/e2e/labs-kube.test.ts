/**
 * The bundled labs on kube, self-tested by their reference solutions on one real cluster the
 * labs share in turn, and graded as any Kubernetes cluster through a kubeconfig context.
 * Beside labs-swarm.test.ts, which runs at the same time.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeReportSchema } from '../../src/labs/report.js';
import { clusterlab, clusterlabOk, kubeTestClient, show, uniqueName } from './helpers.js';
import { expectLabComparison, expectOutageCaught, grade, labCluster, selfTest } from './labs-support.js';

const KUBE = uniqueName('labs-kb');
const { dirs } = labCluster(KUBE);

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
    await expectLabComparison('kube', await selfTest('swarm-vs-k8s', KUBE, 'kube'));
  }, 900_000);
});
