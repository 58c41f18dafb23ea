/**
 * `clusterlab grade LAB`: every check of a lab against a cluster (a local one by name, any
 * Kubernetes cluster by kubeconfig context, any swarm by Docker host), scored, in a format
 * for people or machines. Exit 0 only when every graded step passes.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openRuntime } from '../cluster/runtime.js';
import { UsageError, UserError } from '../common/errors.js';
import { gradeLab } from '../labs/grader.js';
import { pickLanguage } from '../labs/i18n.js';
import { loadLab } from '../labs/load.js';
import { systemClock } from '../labs/poller.js';
import { formatReport, REPORT_FORMATS, type ReportFormat } from '../labs/reporters/index.js';
import { textReport } from '../labs/reporters/text.js';
import { dockerHostTarget, kubeconfigTarget, localTarget, type LabTarget } from '../labs/target.js';
import { stringOption } from './args.js';
import { withInterrupt } from './interrupt.js';
import type { GlobalOptions } from './main.js';

async function openTarget(options: Record<string, unknown>, global: GlobalOptions): Promise<LabTarget> {
  const kubeconfig = stringOption(options, 'kubeconfig');
  const context = stringOption(options, 'context');
  const dockerHost = stringOption(options, 'dockerHost');
  const clusterGiven = global.sources['cluster'] === 'cli';
  const remote = [kubeconfig !== undefined || context !== undefined, dockerHost !== undefined].filter(Boolean).length;
  if (remote > 1 || (remote === 1 && clusterGiven)) {
    throw new UsageError('give one target: --cluster NAME, or --kubeconfig FILE [--context CTX], or --docker-host URL');
  }
  if (kubeconfig !== undefined || context !== undefined) return kubeconfigTarget(kubeconfig, context);
  if (dockerHost !== undefined) {
    const certPath = stringOption(options, 'certPath') ?? (process.env.DOCKER_TLS_VERIFY && process.env.DOCKER_TLS_VERIFY !== '0' ? process.env.DOCKER_CERT_PATH : undefined);
    return dockerHostTarget(dockerHost, certPath);
  }
  return localTarget(await openRuntime(), stringOption(options, 'cluster')!);
}

export async function grade(args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const format = (stringOption(options, 'format') ?? 'text') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UsageError(`unknown format "${format}"`, `use one of ${REPORT_FORMATS.join(', ')}`);
  const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0 || timeout > 3600)) {
    throw new UsageError(`--timeout must be seconds from 0 to 3600, got "${String(options.timeout)}"`);
  }
  const lang = pickLanguage(stringOption(options, 'lang'));
  const lab = await loadLab(args[0]!);
  const target = await openTarget(options, global);
  try {
    if (!lab.engines.includes(target.engine)) {
      throw new UserError(`lab "${lab.name}" runs on ${lab.engines.join(' and ')}, and ${target.description} is ${target.engine}`);
    }
    const report = await withInterrupt((signal) =>
      gradeLab(lab, target, {
        engine: target.engine,
        lang,
        clock: systemClock,
        maxStepTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
        signal,
        onStep: global.verbose ? (step) => process.stderr.write(`${step.status === 'passed' ? '✓' : step.status === 'failed' ? '✗' : '-'} ${step.id}\n`) : undefined,
      }),
    );
    const text = formatReport(report, format);
    const output = stringOption(options, 'output');
    if (output) {
      await mkdir(path.dirname(path.resolve(output)), { recursive: true });
      await writeFile(output, text);
      // The file is for machines; people still see how it went.
      process.stderr.write(textReport(report));
    } else {
      process.stdout.write(text);
    }
    // In a GitHub Actions step, also set the output the Classroom reporter reads (`steps.ID.outputs.result`).
    if (format === 'github' && process.env.GITHUB_OUTPUT) await appendFile(process.env.GITHUB_OUTPUT, `result=${text.trim()}\n`);
    return report.passed ? 0 : 1;
  } finally {
    await target.close();
  }
}
