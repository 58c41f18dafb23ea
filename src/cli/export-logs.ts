import path from 'node:path';
import { exportLogs as collect } from '../cluster/export-logs.js';
import { openRuntime } from '../cluster/runtime.js';
import { stringOption } from './args.js';

export async function exportLogs(args: string[], options: Record<string, unknown>): Promise<number> {
  const name = stringOption(options, 'name')!;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.resolve(args[0] ?? `clusterlab-logs-${name}-${stamp}`);
  const rt = await openRuntime();
  const files = await collect(rt, name, dir);
  process.stderr.write(`Exported ${files.length} files of cluster "${name}" to:\n`);
  process.stdout.write(dir + '\n');
  return 0;
}
