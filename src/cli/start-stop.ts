import { startCluster, stopCluster } from '../cluster/lifecycle.js';
import { withClusterLock } from '../cluster/lock.js';
import { requireCluster } from '../cluster/nodes.js';
import { openRuntime } from '../cluster/runtime.js';
import { withInterrupt } from './interrupt.js';
import type { GlobalOptions } from './main.js';
import { createReporter } from './progress.js';
import { stringOption } from './args.js';

export async function stop(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const name = stringOption(options, 'name')!;
  const rt = await openRuntime();
  await requireCluster(rt, name);
  const reporter = createReporter({ verbose: global.verbose });
  await withClusterLock(name, () => stopCluster(rt, name, reporter));
  reporter.info(`Cluster "${name}" is stopped; its data is kept. Start it again with: clusterlab start${name === 'lab' ? '' : ` --name ${name}`}`);
  return 0;
}

export async function start(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const name = stringOption(options, 'name')!;
  const rt = await openRuntime();
  await requireCluster(rt, name);
  const reporter = createReporter({ verbose: global.verbose });
  const nodes = await withClusterLock(name, () => withInterrupt((signal) => startCluster(rt, name, reporter, signal)));
  reporter.info(`Cluster "${name}" is running: ${nodes.map((n) => `${n.name} (${n.ip})`).join(', ')}`);
  return 0;
}
