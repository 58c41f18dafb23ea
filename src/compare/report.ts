/**
 * The comparison as people read it: a side-by-side table (rows of event × measure, a column
 * per engine) for the terminal and report.md. Pure: the figures in, text out.
 */
import { LAB_ENGINES, type LabEngine } from '../labs/engines.js';
import { EVENT_TITLES, type CompareEvent } from './events.js';
import { resultFor, type ComparisonReport, type EventFigures } from './figures.js';

export const ENGINE_TITLES: Record<LabEngine, string> = { swarm: 'Docker Swarm', kube: 'Kubernetes' };

export interface ComparisonRow {
  event: CompareEvent;
  /** "time to recover", "failed requests", "downtime". */
  measure: string;
  /** Formatted figure by engine: "12.4 s", "3 of 412", "n/a". */
  values: Record<LabEngine, string>;
}

function seconds(value: number): string {
  return `${value.toFixed(1)} s`;
}

function timeCell(f: EventFigures | undefined): string {
  if (!f) return 'not run';
  if (f.error !== undefined) return 'error';
  return f.completed && f.seconds !== null ? seconds(f.seconds) : `not within ${f.seconds === null ? 'the limit' : seconds(f.seconds)}`;
}

function failedCell(f: EventFigures | undefined): string {
  if (!f?.probe) return f?.error !== undefined ? 'error' : 'not run';
  return `${f.probe.failed} of ${f.probe.requests}`;
}

function downtimeCell(f: EventFigures | undefined): string {
  if (!f?.probe) return f?.error !== undefined ? 'error' : 'not run';
  return seconds(f.probe.downtimeSeconds);
}

/** Three rows per event: its timed figure, failed requests, and the longest outage. */
export function comparisonRows(report: ComparisonReport): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const per = (cell: (f: EventFigures | undefined) => string, event: CompareEvent) =>
    Object.fromEntries(LAB_ENGINES.map((engine) => [engine, cell(resultFor(report, engine, event))])) as Record<LabEngine, string>;
  for (const event of report.events) {
    rows.push({ event, measure: EVENT_TITLES[event].time, values: per(timeCell, event) });
    rows.push({ event, measure: 'failed requests', values: per(failedCell, event) });
    rows.push({ event, measure: event === 'rollout' ? 'rollout downtime' : 'downtime', values: per(downtimeCell, event) });
  }
  return rows;
}

/** Header and rows for a plain table (the CLI's formatTable prints it). */
export function comparisonTable(report: ComparisonReport): { headers: string[]; rows: string[][] } {
  return {
    headers: ['EVENT', 'MEASURE', ...LAB_ENGINES.map((e) => ENGINE_TITLES[e].toUpperCase())],
    rows: comparisonRows(report).map((r) => [EVENT_TITLES[r.event].title, r.measure, ...LAB_ENGINES.map((e) => r.values[e])]),
  };
}

/** Markdown table cells may not hold a pipe or a line break. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(report: ComparisonReport, chartFile: string): string {
  const { settings } = report;
  const lines = [
    '# Docker Swarm and Kubernetes, side by side',
    '',
    `Measured by ${report.lab ? `the \`${report.lab}\` lab, run on each engine,` : '`clusterlab compare`'} on ${report.createdAt}: a ${settings.nodes}-node cluster of each engine, ` +
      `${settings.replicas} replicas of \`clusterlab/web\`, and the probe sending ${settings.probeRatePerSecond} requests a second ` +
      'through the cluster, counting every failed request and the longest run of failures (the downtime a user sees).',
    '',
    `| event | measure | ${LAB_ENGINES.map((e) => ENGINE_TITLES[e]).join(' | ')} |`,
    `|---|---|${LAB_ENGINES.map(() => '---:').join('|')}|`,
    ...comparisonRows(report).map((r) => `| ${cell(EVENT_TITLES[r.event].title)} | ${cell(r.measure)} | ${LAB_ENGINES.map((e) => cell(r.values[e])).join(' | ')} |`),
    '',
    `![Time and failed requests per event](${chartFile})`,
    '',
    '## What happened',
    '',
  ];
  for (const engine of report.engines) {
    lines.push(`### ${ENGINE_TITLES[engine.engine]} (cluster ${engine.cluster})`, '');
    if (engine.error !== undefined) lines.push(`- stopped: ${engine.error}`);
    for (const f of engine.events) {
      const reasons = Object.entries(f.probe?.failuresByReason ?? {}).map(([reason, n]) => `${reason} ×${n}`).join(', ');
      const text = [f.detail, f.error, reasons ? `failures: ${reasons}` : undefined].filter(Boolean).join('; ');
      lines.push(`- **${EVENT_TITLES[f.event].title}**: ${text}`);
    }
    lines.push('');
  }
  lines.push(
    '## How to read it',
    '',
    ...(report.lab
      ? [
          "- *time*: from the probe's reset just before the event until the step's checks passed (and then held), read through the Docker API (swarm) and the Kubernetes API (kube), to within the checks' polling interval.",
          "- *failed requests* and *downtime*: what the probe counted from its reset until the step's checks passed.",
        ]
      : [
          '- *time to recover*: from the event until every replica runs and is ready again, read through the Docker API (swarm) and the Kubernetes API (kube).',
          '- *failed requests* and *downtime*: what the probe counted from just before the event until the cluster was back, plus a few seconds.',
        ]),
    `- Kubernetes notices a lost node only after its grace period and moves pods after their toleration: this cluster used ${settings.kube.nodeMonitorGracePeriodSeconds} s and ${settings.kube.defaultTolerationSeconds} s (Kubernetes' defaults are 40 s and 300 s).`,
    '- Swarm here runs without IPVS (no routing mesh): dnsrr endpoints and host-mode ports. Kubernetes Services are iptables rules on every node.',
    '',
  );
  return lines.join('\n');
}
