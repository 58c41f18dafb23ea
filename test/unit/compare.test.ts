/** `clusterlab compare` without Docker: events, the table, report.md, the SVG chart, and one event measured against fakes. */
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMPARE_LAB, WEB_V1, WEB_V2, kubeDriver, swarmDriver } from '../../src/compare/app.js';
import { escapeXml, niceMax, renderChart } from '../../src/compare/chart.js';
import { COMPARE_EVENTS, parseEvents } from '../../src/compare/events.js';
import { recordLabComparison } from '../../src/compare/lab-comparison.js';
import type { ComparisonReport, EventFigures } from '../../src/compare/figures.js';
import { busiestWorker, isServing, measureEvent, type MeasureContext } from '../../src/compare/measure.js';
import { comparisonRows, comparisonTable, renderMarkdown } from '../../src/compare/report.js';
import { writeReport } from '../../src/compare/run.js';
import { loadLab } from '../../src/labs/load.js';
import type { StepOutcome } from '../../src/labs/evaluate.js';
import type { LabProgress } from '../../src/labs/progress.js';
import { measurementOf, scriptFor } from '../../src/labs/runner.js';
import type { Lab } from '../../src/labs/validate.js';
import type { Workload } from '../../src/labs/view.js';
import { FakeClock, FakeView, node, replica, workload } from './labs-fakes.js';
import { childrenNamed, parseXml } from './labs-xml.js';

function figures(event: EventFigures['event'], seconds: number | null, failed: number, extra: Partial<EventFigures> = {}): EventFigures {
  return {
    event,
    completed: seconds !== null,
    seconds,
    probe: { requests: 200, failed, downtimeSeconds: failed / 10, failuresByReason: failed ? { ECONNREFUSED: failed } : {}, latencyP95Ms: 3 },
    detail: `${event} happened`,
    ...extra,
  };
}

function sampleReport(): ComparisonReport {
  return {
    version: 1,
    createdAt: '2026-11-23T15:00:00.000Z',
    events: ['crash', 'scale'],
    settings: { nodes: 3, replicas: 3, probeRatePerSecond: 10, kube: { nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 20 } },
    engines: [
      { engine: 'swarm', cluster: 'compare-swarm-1', startedAt: 'a', finishedAt: 'b', events: [figures('crash', 12.34, 8), figures('scale', 6.5, 0)] },
      {
        engine: 'kube',
        cluster: 'compare-kube-1',
        startedAt: 'a',
        finishedAt: 'b',
        events: [figures('crash', 3.2, 0), { event: 'scale', completed: false, seconds: null, probe: null, detail: 'not measured', error: 'kubectl scale failed' }],
      },
    ],
  };
}

describe('events', () => {
  it('parses a list into the canonical order, each once; everything by default', () => {
    expect(parseEvents('scale, crash,scale')).toEqual(['crash', 'scale']);
    expect(parseEvents(undefined)).toEqual(['crash', 'node-loss', 'rollout', 'scale']);
  });

  it('refuses an unknown event with a usage error naming the known ones', () => {
    expect(() => parseEvents('crash,explode')).toThrow(/unknown event: explode/);
    try {
      parseEvents('explode');
    } catch (err) {
      expect(err).toMatchObject({ exitCode: 2, hint: 'events are crash, node-loss, rollout, scale' });
    }
  });
});

describe('the side-by-side table and report.md', () => {
  it('has three rows per event, a column per engine, and says what was not measured', () => {
    const rows = comparisonRows(sampleReport());
    expect(rows.map((r) => [r.event, r.measure, r.values.swarm, r.values.kube])).toEqual([
      ['crash', 'time to recover', '12.3 s', '3.2 s'],
      ['crash', 'failed requests', '8 of 200', '0 of 200'],
      ['crash', 'downtime', '0.8 s', '0.0 s'],
      ['scale', 'time to scale', '6.5 s', 'error'],
      ['scale', 'failed requests', '0 of 200', 'error'],
      ['scale', 'downtime', '0.0 s', 'error'],
    ]);
    const table = comparisonTable(sampleReport());
    expect(table.headers).toEqual(['EVENT', 'MEASURE', 'DOCKER SWARM', 'KUBERNETES']);
    expect(table.rows[0]).toEqual(['crash a replica', 'time to recover', '12.3 s', '3.2 s']);
  });

  it('an event that did not recover in time, or an engine that never ran, shows so', () => {
    const report = sampleReport();
    report.engines[0]!.events[0] = figures('crash', null, 40);
    report.engines.pop();
    const rows = comparisonRows(report);
    expect(rows[0]!.values).toEqual({ swarm: 'not within the limit', kube: 'not run' });
    expect(rows[1]!.values).toEqual({ swarm: '40 of 200', kube: 'not run' });
  });

  it('report.md: the table, the chart, what happened per engine (with errors and failure reasons)', () => {
    const md = renderMarkdown(sampleReport(), 'chart.svg');
    expect(md).toContain('| event | measure | Docker Swarm | Kubernetes |');
    expect(md).toContain('| crash a replica | time to recover | 12.3 s | 3.2 s |');
    expect(md).toContain('![Time and failed requests per event](chart.svg)');
    expect(md).toContain('- **crash a replica**: crash happened; failures: ECONNREFUSED ×8');
    expect(md).toContain('- **scale 1→10**: not measured; kubectl scale failed');
    expect(md).toContain('this cluster used 10 s and 20 s');
  });
});

describe('the chart', () => {
  it('is well-formed SVG with a bar per measured figure and n/a for the rest', () => {
    const svg = renderChart(sampleReport());
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attributes['xmlns']).toBe('http://www.w3.org/2000/svg');
    const bars = childrenNamed(root, 'rect').filter((r) => childrenNamed(r, 'title').length === 1);
    const titles = bars.map((b) => childrenNamed(b, 'title')[0]!.text);
    // Time panel: 3 bars (kube's scale failed); failed-requests panel: 3 (kube's scale has no probe figures).
    expect(titles).toEqual([
      'Docker Swarm, crash a replica: 12.3 s',
      'Kubernetes, crash a replica: 3.2 s',
      'Docker Swarm, scale 1→10: 6.5 s',
      'Docker Swarm, crash a replica: 8',
      'Kubernetes, crash a replica: 0',
      'Docker Swarm, scale 1→10: 0',
    ]);
    const texts = childrenNamed(root, 'text').map((t) => t.text);
    expect(texts.filter((t) => t === 'Kubernetes: n/a')).toHaveLength(2);
    // Bars scale to the panel's axis: 12.3 s of a 20 s axis is longer than 3.2 s.
    const width = (title: string) => Number(bars.find((b) => childrenNamed(b, 'title')[0]!.text === title)!.attributes['width']);
    expect(width('Docker Swarm, crash a replica: 12.3 s')).toBeCloseTo((12.34 / 20) * 270, 0);
    expect(width('Kubernetes, crash a replica: 0')).toBe(1);
  });

  it('rounds axes to 1, 2, 5 × 10^n and escapes text', () => {
    expect([0, 0.3, 1, 3, 12.3, 51, 100].map(niceMax)).toEqual([1, 0.5, 1, 5, 20, 100, 100]);
    expect(escapeXml(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
  });

  it('writeReport puts the three files in the folder, report.json holding every figure', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'compare-unit-'));
    try {
      const files = await writeReport(sampleReport(), path.join(dir, 'out'));
      expect(files.map((f) => path.basename(f))).toEqual(['report.json', 'report.md', 'chart.svg']);
      expect(JSON.parse(await readFile(files[0]!, 'utf8'))).toEqual(sampleReport());
      expect(parseXml(await readFile(files[2]!, 'utf8')).name).toBe('svg');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the app', () => {
  it('is the swarm-vs-k8s lab’s: its images and a setup for each engine', async () => {
    const lab = await loadLab(COMPARE_LAB);
    expect(lab.images).toEqual(expect.arrayContaining([WEB_V1, WEB_V2, 'clusterlab/probe:1']));
    expect(scriptFor(lab.setup, 'swarm')).toContain('--publish mode=host,target=8080,published=' + swarmDriver.statsPort);
    expect(scriptFor(lab.setup, 'kube')).toContain('kubectl apply -f k8s/probe.yaml');
  });

  it('actions are the commands a person would type, quoted for bash', () => {
    expect(kubeDriver.crash(replica("web-1'x", 'worker1'))).toContain(`'worker1' -- sh -c 'docker kill $(docker ps -q --filter label=io.kubernetes.pod.name=web-1'\\''x `);
    expect(kubeDriver.scale(10)).toBe('kubectl scale deployment/web --replicas=10 >/dev/null');
    expect(swarmDriver.rollout(WEB_V2)).toBe("docker service update --detach --image 'clusterlab/web:v2' web >/dev/null");
  });
});

describe('measuring', () => {
  it('isServing and busiestWorker', () => {
    const w = workload('web', [replica('web.1', 'worker1'), replica('web.2', 'worker2'), replica('web.3', 'worker2')], { desired: 3 });
    expect(isServing(w, 3)).toBe(true);
    expect(isServing({ ...w, desired: 4 }, 3)).toBe(false);
    expect(isServing(workload('web', [...w.replicas, replica('web.4', 'worker1', { running: false, state: 'Terminating' })], { desired: 3 }), 3)).toBe(false);
    const nodes = [node('leader'), node('worker1'), node('worker2')];
    expect(busiestWorker(w, nodes, 'leader')).toBe('worker2');
    expect(busiestWorker(w, nodes, 'worker2')).toBe('worker1');
    expect(busiestWorker(workload('web', []), nodes, 'leader')).toBe('');
  });

  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('a crash: resets the probe, kills a replica, times until every replica serves again, reads the probe', async () => {
    const resets: number[] = [];
    server = http.createServer((req, res) => {
      if (req.url === '/reset') {
        resets.push(Date.now());
        return void res.writeHead(200).end('{"reset":true}');
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          windowStartedAt: 'x',
          totals: { requests: 120, ok: 117, fail: 3 },
          latencyMs: { p50: 1, p95: 2, max: 5 },
          failures: { byReason: { ECONNREFUSED: 3 } },
          downtime: { longestMs: 412, failedRequests: 3, ongoing: false },
          tallies: {},
        }),
      );
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const clock = new FakeClock();
    const view = new FakeView('swarm', [node('leader', { address: '127.0.0.1' }), node('worker1'), node('worker2')]);
    const healthy = (restarts: number): Workload =>
      workload('web', [replica('web.1', 'leader'), replica('web.2', 'worker1'), replica('web.3', 'worker2')], { desired: 3, restarts });
    view.workloads.set('web', healthy(0));
    const scripts: string[] = [];
    let killedAt = 0;
    const ctx: MeasureContext = {
      view: {
        engine: 'swarm',
        nodes: () => view.nodes(),
        // The replacement serves 7.5 s after the kill; until then web.2 is down.
        workload: async (name) => {
          if (killedAt === 0) return view.workload(name);
          if (clock.now() - killedAt < 7_500) return workload('web', [replica('web.1', 'leader'), replica('web.3', 'worker2')], { desired: 3, restarts: 1 });
          return healthy(1);
        },
        close: async () => undefined,
      },
      driver: { ...swarmDriver, statsPort: port },
      clock,
      run: async (script) => {
        scripts.push(script);
        killedAt = clock.now();
      },
      power: async () => undefined,
    };
    const f = await measureEvent(ctx, 'crash');
    expect(resets).toHaveLength(1);
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toMatch(/^clusterlab exec 'leader' -- sh -c 'docker kill /);
    expect(f).toMatchObject({
      event: 'crash',
      completed: true,
      seconds: 7.5,
      probe: { requests: 120, failed: 3, downtimeSeconds: 0.4, failuresByReason: { ECONNREFUSED: 3 }, latencyP95Ms: 2 },
    });
    expect(f.detail).toBe('killed the container of web.1 on leader; back after 7.5 s: 1 replica(s) restarted or replaced; 3 of 3 running (leader ×1, worker1 ×1, worker2 ×1)');
  });

  it('an event that cannot run is a figure with its error, not a crash of the whole comparison', async () => {
    const view = new FakeView('swarm', [node('leader', { address: '127.0.0.1' })]);
    view.workloads.set('web', workload('web', [], { desired: 3 }));
    const clock = new FakeClock();
    const f = await measureEvent({ view, driver: swarmDriver, clock, run: async () => undefined, power: async () => undefined }, 'rollout');
    expect(f).toMatchObject({ event: 'rollout', completed: false, seconds: null, probe: null });
    expect(f.error).toMatch(/did not settle at 3 ready replicas within 240 s/);
  });
});

describe('the swarm-vs-k8s lab done on both engines', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** A done run of the lab on one engine, with each measured step's figures. */
  function doneRun(lab: Lab, engine: 'swarm' | 'kube', seconds: Record<string, number>): LabProgress {
    return {
      lab: lab.name,
      title: 'Swarm vs Kubernetes',
      engine,
      done: true,
      updatedAt: '2026-11-23T18:00:00.000Z',
      steps: lab.steps.map((step) => ({
        id: step.id,
        title: step.id,
        status: 'passed' as const,
        checkedAt: '2026-11-23T18:00:00.000Z',
        ...(step.measures
          ? {
              measurement: {
                event: step.measures,
                seconds: seconds[step.measures]!,
                requests: 300,
                failed: step.measures === 'node-loss' ? 12 : 0,
                downtimeSeconds: step.measures === 'node-loss' ? 1.5 : 0,
                failuresByReason: (step.measures === 'node-loss' ? { ETIMEDOUT: 12 } : {}) as Record<string, number>,
                latencyP95Ms: 4,
                measuredAt: `2026-11-23T18:0${COMPARE_EVENTS.indexOf(step.measures)}:00.000Z`,
              },
            }
          : {}),
      })),
    };
  }

  it('keeps each run, and the second engine’s run writes the side-by-side report', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-labcmp-'));
    dirs.push(home);
    const env = { CLUSTERLAB_HOME: home };
    const lab = await loadLab(COMPARE_LAB);
    expect(lab.steps.filter((s) => s.measures).map((s) => s.measures)).toEqual([...COMPARE_EVENTS]);

    const first = await recordLabComparison(lab, doneRun(lab, 'kube', { crash: 6.1, 'node-loss': 34, rollout: 18, scale: 17 }), 'k8s', env);
    expect(first).toEqual({ dir: path.join(home, 'comparisons', 'swarm-vs-k8s'), missing: ['swarm'] });
    const second = await recordLabComparison(lab, doneRun(lab, 'swarm', { crash: 20, 'node-loss': 28, rollout: 30, scale: 31 }), 'sw', env);
    expect(second?.missing).toEqual([]);
    expect(second?.files?.map((f) => path.basename(f))).toEqual(['report.json', 'report.md', 'chart.svg']);

    const report = JSON.parse(await readFile(path.join(first!.dir, 'report.json'), 'utf8')) as ComparisonReport;
    expect(report).toMatchObject({ lab: 'swarm-vs-k8s', events: [...COMPARE_EVENTS], settings: { nodes: 3, kube: { nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 20 } } });
    expect(report.engines.map((e) => [e.engine, e.cluster])).toEqual([['swarm', 'sw'], ['kube', 'k8s']]);
    const { rows } = comparisonTable(report);
    expect(rows.find((r) => r[0] === 'lose a node' && r[1] === 'time to recover')).toEqual(['lose a node', 'time to recover', '28.0 s', '34.0 s']);
    expect(rows.find((r) => r[0] === 'lose a node' && r[1] === 'failed requests')).toEqual(['lose a node', 'failed requests', '12 of 300', '12 of 300']);
    const md = await readFile(path.join(first!.dir, 'report.md'), 'utf8');
    expect(md).toContain('Measured by the `swarm-vs-k8s` lab, run on each engine,');
    expect(md).toContain("from the probe's reset just before the event until the step's checks passed");
  });

  it('keeps nothing for a run that is not done, or a lab that measures nothing', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-labcmp-'));
    dirs.push(home);
    const lab = await loadLab(COMPARE_LAB);
    const run = doneRun(lab, 'swarm', { crash: 1, 'node-loss': 2, rollout: 3, scale: 4 });
    expect(await recordLabComparison(lab, { ...run, done: false }, 'sw', { CLUSTERLAB_HOME: home })).toBeUndefined();
    const scaling = await loadLab('scaling');
    const unmeasured = { ...run, lab: 'scaling', steps: run.steps.map(({ measurement: _m, ...s }) => s) };
    expect(await recordLabComparison(scaling, unmeasured, 'sw', { CLUSTERLAB_HOME: home })).toBeUndefined();
  });
});

describe('a measured step', () => {
  const outcome = (okSince: number | undefined): StepOutcome => ({
    passed: true,
    aborted: false,
    attempts: 4,
    elapsedMs: 9_000,
    ...(okSince !== undefined ? { okSince } : {}),
    results: [
      { index: 0, kind: 'replicas', expected: '', observed: '', ok: true, status: 'passed', transient: false },
      {
        index: 1,
        kind: 'probe',
        expected: '',
        observed: '',
        ok: true,
        status: 'passed',
        transient: false,
        figures: { windowStartedAt: '2026-11-23T18:00:00.000Z', requests: 120, failed: 3, downtimeSeconds: 0.4, failuresByReason: { ECONNREFUSED: 3 }, latencyP95Ms: 5 },
      },
    ],
  });

  it('takes the time from the probe’s reset to the round the checks held from, and the probe’s figures', async () => {
    const lab = await loadLab(COMPARE_LAB);
    const crash = lab.steps.find((s) => s.id === 'crash')!;
    const now = new Date('2026-11-23T18:00:20.000Z');
    expect(measurementOf(crash, outcome(Date.parse('2026-11-23T18:00:12.340Z')), now)).toEqual({
      event: 'crash',
      seconds: 12.3,
      requests: 120,
      failed: 3,
      downtimeSeconds: 0.4,
      failuresByReason: { ECONNREFUSED: 3 },
      latencyP95Ms: 5,
      measuredAt: now.toISOString(),
    });
    // A step that measures nothing, or a pass without its time: no measurement.
    const scaling = await loadLab('scaling');
    expect(measurementOf(scaling.steps[0]!, outcome(Date.parse('2026-11-23T18:00:12.340Z')), now)).toBeUndefined();
    expect(measurementOf(crash, outcome(undefined), now)).toBeUndefined();
  });
});
