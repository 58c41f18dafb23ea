/**
 * `clusterlab compare [--events crash,node-loss,rollout,scale] [--nodes N] [--report DIR]`:
 * makes a swarm and a kube cluster in turn, runs the same app through the same events on
 * each, prints the side-by-side table and writes report.md, report.json and chart.svg.
 * The clusters it made are removed, also on failure and Ctrl-C.
 */
import path from 'node:path';
import { openRuntime } from '../cluster/runtime.js';
import { parseEvents } from '../compare/events.js';
import { comparisonTable } from '../compare/report.js';
import { runComparison, writeReport } from '../compare/run.js';
import { parseCount, stringOption } from './args.js';
import { runFatalChecks } from './doctor.js';
import { withInterrupt } from './interrupt.js';
import type { GlobalOptions } from './main.js';
import { formatTable } from './output.js';
import { createReporter } from './progress.js';

export async function compare(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const events = parseEvents(stringOption(options, 'events'));
  const nodes = parseCount(options['nodes'] ?? '3', '--nodes', 2, 10);
  const dir = path.resolve(stringOption(options, 'report') ?? 'compare-report');
  const rt = await openRuntime();
  const reporter = createReporter({ verbose: global.verbose });
  const report = await withInterrupt((signal) => runComparison(rt, { events, nodes, reporter, signal, beforeCreate: () => runFatalChecks(rt) }));
  const files = await writeReport(report, dir);
  const { headers, rows } = comparisonTable(report);
  process.stdout.write(formatTable(headers, rows));
  process.stderr.write(`\nReport: ${files.join(', ')}\n`);
  const failed = report.engines.filter((e) => e.error !== undefined || e.events.some((f) => f.error !== undefined));
  for (const e of failed) process.stderr.write(`${e.engine}: ${e.error ?? e.events.filter((f) => f.error).map((f) => `${f.event}: ${f.error}`).join('; ')}\n`);
  return failed.length > 0 ? 1 : 0;
}
