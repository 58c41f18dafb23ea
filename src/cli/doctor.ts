import { fatalProblems, runDoctor, type CheckResult } from '../cluster/doctor.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { UserError } from '../common/errors.js';
import { parseOutputFormat, printData } from './output.js';
import { stringOption } from './args.js';

const MARK: Record<CheckResult['status'], string> = { ok: '✓', warn: '!', fail: '✗' };

export function formatCheck(r: CheckResult): string {
  return `${MARK[r.status]} ${r.check}: ${r.detail}${r.hint ? `\n    ${r.hint}` : ''}`;
}

export async function doctor(_args: string[], options: Record<string, unknown>): Promise<number> {
  const format = parseOutputFormat(stringOption(options, 'output'));
  const results = await runDoctor();
  if (format === 'json' || format === 'yaml') printData(results, format);
  else process.stdout.write(results.map(formatCheck).join('\n') + '\n');
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** What `up` checks before it creates anything (engine reachability is checked on connect). */
export async function runFatalChecks(rt: ClusterRuntime): Promise<void> {
  const problems = await fatalProblems(rt.docker);
  if (problems.length > 0) {
    throw new UserError(problems.map((p) => `${p.check}: ${p.detail}`).join('; '), { hint: problems.map((p) => p.hint).filter(Boolean).join('\n') });
  }
}
