import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/labs/grader.js';
import { languageOfLocale, localize, pickLanguage, textFor } from '../../src/labs/i18n.js';
import { loadLabDir } from '../../src/labs/load.js';
import { renderMarkdown } from '../../src/labs/markdown.js';
import { freshProgress, progressFile, recordStep, writeProgress, writeSession } from '../../src/labs/progress.js';
import { checkStep, labClusterSpec, nextHint, openRun, skipStep, stepText } from '../../src/labs/runner.js';
import type { LabTarget } from '../../src/labs/target.js';
import type { Lab } from '../../src/labs/validate.js';
import { FakeClock, FakeView, node, replica, workload } from './labs-fakes.js';

const LAB_YAML = `
apiVersion: clusterlab.dev/v1alpha1
kind: Lab
title: {en: Test lab, it: Laboratorio di prova}
description: {swarm: {en: On swarm.}, kube: {en: On kube.}}
engines: [swarm, kube]
cluster: {nodes: 3, kube: {nodeMonitorGracePeriodSeconds: 10}}
steps:
  - id: deploy
    title: {en: Deploy, it: Avvia}
    text: {swarm: {en: "Run \`docker service create\`.", es: "Ejecuta \`docker service create\`."}, kube: {en: "Run \`kubectl create\`."}}
    hints: [{en: First hint}, {en: Second hint, it: Secondo suggerimento}]
    solution: {swarm: "true", kube: "true"}
    checks:
      - replicas: {workload: web, running: 2}
    timeoutSeconds: 10
    points: 2
  - id: break-node
    title: Break a node
    text: Stop worker2.
    checks:
      - node: {name: worker2, ready: false}
        transient: true
      - replicas: {workload: web, running: 2}
    timeoutSeconds: 10
    points: 3
  - id: moment
    title: A moment
    text: Look.
    checks:
      - node: {name: worker2, ready: false}
        transient: true
    points: 0
`;

let home: string;
let lab: Lab;
const savedHome = process.env.CLUSTERLAB_HOME;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'labs-runner-'));
  process.env.CLUSTERLAB_HOME = path.join(home, 'state');
  const dir = path.join(home, 'test-lab');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'lab.yaml'), LAB_YAML);
  lab = await loadLabDir(dir);
});

afterAll(() => {
  if (savedHome === undefined) delete process.env.CLUSTERLAB_HOME;
  else process.env.CLUSTERLAB_HOME = savedHome;
  rmSync(home, { recursive: true, force: true });
});

function fakeTarget(view: FakeView): LabTarget {
  return { engine: view.engine, description: 'cluster "t"', cluster: 't', view, env: {}, close: async () => undefined };
}

describe('languages', () => {
  it('picks --lang, then CLUSTERLAB_LANG, then the locale, else English', () => {
    expect(pickLanguage('es', { LANG: 'it_IT.UTF-8' })).toBe('es');
    expect(pickLanguage(undefined, { CLUSTERLAB_LANG: 'it', LANG: 'es_ES.UTF-8' })).toBe('it');
    expect(pickLanguage(undefined, { LC_ALL: 'C', LC_MESSAGES: 'es_ES', LANG: 'it_IT.UTF-8' })).toBe('es');
    expect(pickLanguage(undefined, { LANG: 'C.UTF-8' })).toBe('en');
    expect(languageOfLocale('pt_BR.UTF-8')).toBe('pt-BR');
    expect(languageOfLocale('POSIX')).toBeUndefined();
  });

  it('falls back to the base language, then English; per-engine texts follow the engine', () => {
    expect(localize({ en: 'Hello', pt: 'Olá' }, 'pt-BR')).toBe('Olá');
    expect(localize({ en: 'Hello', it: 'Ciao' }, 'es')).toBe('Hello');
    expect(localize('Plain', 'it')).toBe('Plain');
    const text = lab.steps[0]!.text;
    expect(textFor(text, 'swarm', 'es')).toBe('Ejecuta `docker service create`.');
    expect(textFor(text, 'kube', 'es')).toBe('Run `kubectl create`.');
  });
});

describe('markdown for the terminal', () => {
  const md = [
    '# Title',
    '',
    'A paragraph with `code`, **bold** and a [link](http://x.y/) that goes on',
    'over two lines.',
    '',
    '- one item',
    '- two',
    '',
    '```',
    'docker service ls   # kept as written',
    '```',
  ].join('\n');

  it('renders plain text without colour, re-wrapped to the width', () => {
    expect(renderMarkdown(md, { width: 40, color: false })).toBe(
      [
        'Title',
        '',
        'A paragraph with code, bold and a link',
        '(http://x.y/) that goes on over two',
        'lines.',
        '',
        '  • one item',
        '  • two',
        '',
        '    docker service ls   # kept as written',
        '',
      ].join('\n'),
    );
  });

  it('colours code and bold on a terminal', () => {
    const out = renderMarkdown('Run `ls` **now**', { width: 80, color: true });
    expect(out).toBe('Run \u001b[36mls\u001b[39m \u001b[1mnow\u001b[22m\n');
  });
});

describe('progress', () => {
  const t0 = new Date('2026-11-23T10:00:00Z');
  const t1 = new Date('2026-11-23T10:01:00Z');

  it('starts with every step pending and the first current, in the chosen language', () => {
    expect(freshProgress(lab, 'swarm', 'it', t0)).toEqual({
      lab: 'test-lab',
      title: 'Laboratorio di prova',
      engine: 'swarm',
      currentStep: 'deploy',
      steps: [
        { id: 'deploy', title: 'Avvia', status: 'pending' },
        { id: 'break-node', title: 'Break a node', status: 'pending' },
        { id: 'moment', title: 'A moment', status: 'pending' },
      ],
      done: false,
      updatedAt: t0.toISOString(),
    });
  });

  it('moves on after a pass or a skip, stays after a failure, and is done only when all passed', () => {
    let p = freshProgress(lab, 'swarm', 'en', t0);
    p = recordStep(p, 'deploy', 'failed', 'replicas: expected 2; saw 1', t1);
    expect(p.currentStep).toBe('deploy');
    expect(p.steps[0]).toEqual({ id: 'deploy', title: 'Deploy', status: 'failed', message: 'replicas: expected 2; saw 1', checkedAt: t1.toISOString() });
    p = recordStep(p, 'deploy', 'passed', undefined, t1);
    expect(p.currentStep).toBe('break-node');
    p = recordStep(p, 'break-node', 'skipped', 'skipped', t1);
    expect(p.currentStep).toBe('moment');
    p = recordStep(p, 'moment', 'passed', undefined, t1);
    expect(p.currentStep).toBeUndefined();
    expect('currentStep' in p).toBe(false);
    expect(p.done).toBe(false);
    p = recordStep(p, 'break-node', 'passed', undefined, t1);
    expect(p.done).toBe(true);
    expect(p.updatedAt).toBe(t1.toISOString());
  });

  it('goes back to an earlier open step when a later one passes out of order, and leaves skipped ones', () => {
    let p = freshProgress(lab, 'swarm', 'en', t0);
    p = recordStep(p, 'moment', 'passed', undefined, t1);
    expect(p.currentStep).toBe('deploy');
    p = recordStep(p, 'deploy', 'skipped', 'skipped', t1);
    expect(p.currentStep).toBe('break-node');
    p = recordStep(p, 'break-node', 'passed', undefined, t1);
    expect(p.currentStep).toBeUndefined();
  });
});

describe('runner', () => {
  it('makes a missing cluster in the lab’s shape, with its kube timings on kube only', () => {
    expect(labClusterSpec(lab, 'c', 'kube')).toMatchObject({ name: 'c', engine: 'kube', kube: { nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 300 } });
    expect(labClusterSpec(lab, 'c', 'swarm').kube).toBeUndefined();
    expect(labClusterSpec(lab, 'c', 'swarm').nodes.map((n) => n.name)).toEqual(['leader', 'worker1', 'worker2']);
  });

  it('checks, hints and skips through the progress file', async () => {
    const cluster = 'runner-a';
    await writeProgress(cluster, freshProgress(lab, 'swarm', 'en', new Date()));
    await writeSession(cluster, { labDir: lab.dir, lang: 'en', hintsShown: {}, startedAt: new Date().toISOString() });
    const run = await openRun(cluster);
    expect(stepText(run, lab.steps[0]!)).toBe('Run `docker service create`.');

    expect((await nextHint(run))?.text).toBe('First hint');
    expect((await nextHint(run))?.text).toBe('Second hint');
    expect(await nextHint(run)).toMatchObject({ text: 'Second hint', number: 2, total: 2 });
    expect((await openRun(cluster, 'it')).session.hintsShown).toEqual({ deploy: 2 });

    const view = new FakeView();
    view.workloads.set('web', workload('web', [replica('web.1', 'leader')], { desired: 2 }));
    const clock = new FakeClock();
    const failed = await checkStep(run, fakeTarget(view), { clock });
    expect(failed.outcome.passed).toBe(false);
    const saved = JSON.parse(readFileSync(progressFile(cluster), 'utf8')) as { currentStep: string; steps: { status: string; message?: string }[] };
    expect(saved.currentStep).toBe('deploy');
    expect(saved.steps[0]).toMatchObject({ status: 'failed', message: 'replicas: expected service web: 2 replicas running; saw 2 desired; 1 running (web.1 on leader)' });

    view.workloads.set('web', workload('web', [replica('web.1', 'leader'), replica('web.2', 'worker1')]));
    expect((await checkStep(run, fakeTarget(view), { clock })).outcome.passed).toBe(true);
    expect(run.progress.currentStep).toBe('break-node');

    // The runner checks transient checks too: worker2 is Ready, so the step fails.
    expect((await checkStep(run, fakeTarget(view), { clock, timeoutMs: 1_000 })).outcome.passed).toBe(false);
    view.nodeList = [node('leader'), node('worker1'), node('worker2', { ready: false, state: 'down' })];
    expect((await checkStep(run, fakeTarget(view), { clock })).outcome.passed).toBe(true);

    await skipStep(run);
    const final = await openRun(cluster);
    expect(final.progress.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'skipped']);
    expect(final.progress.done).toBe(false);
    expect(final.progress.currentStep).toBeUndefined();
  });

  it('says how to start when no lab runs on a cluster', async () => {
    await expect(openRun('nothing-here')).rejects.toThrow('no lab is running on cluster "nothing-here"');
  });
});

describe('grader', () => {
  it('scores steps with points, skips transient checks, and is bounded by the step timeouts', async () => {
    const view = new FakeView();
    view.workloads.set('web', workload('web', [replica('web.1', 'leader'), replica('web.2', 'worker1')]));
    const clock = new FakeClock();
    const report = await gradeLab(lab, fakeTarget(view), { engine: 'swarm', lang: 'en', clock });
    expect(report).toMatchObject({ lab: 'test-lab', engine: 'swarm', score: 5, maxScore: 5, passed: true, target: 'cluster "t"' });
    expect(report.steps.map((s) => [s.id, s.status, s.score])).toEqual([
      ['deploy', 'passed', 2],
      ['break-node', 'passed', 3],
      ['moment', 'skipped', 0],
    ]);
    // Checks stay in the lab's order, the transient one marked skipped in its place.
    expect(report.steps[1]!.checks.map((c) => [c.kind, c.status])).toEqual([
      ['node', 'skipped'],
      ['replicas', 'passed'],
    ]);
    expect(report.steps[1]!.checks[0]!.reason).toMatch(/^transient/);
  });

  it('a failing step waits at most its timeout (or --timeout), and the lab fails', async () => {
    const view = new FakeView();
    view.workloads.set('web', workload('web', [replica('web.1', 'leader')]));
    const clock = new FakeClock();
    const start = clock.now();
    const report = await gradeLab(lab, fakeTarget(view), { engine: 'swarm', lang: 'en', clock, maxStepTimeoutMs: 4_000 });
    expect(report.passed).toBe(false);
    expect(report.score).toBe(0);
    expect(report.steps[0]).toMatchObject({ status: 'failed', durationMs: 4_000 });
    expect(report.steps[0]!.checks[0]).toMatchObject({ status: 'failed', observed: '1 desired; 1 running (web.1 on leader)' });
    expect(clock.now() - start).toBe(8_000);
  });
});
