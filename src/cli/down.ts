import { deleteCluster } from '../cluster/lifecycle.js';
import { withClusterLock } from '../cluster/lock.js';
import { openRuntime } from '../cluster/runtime.js';
import { createReporter } from './progress.js';
import type { GlobalOptions } from './main.js';
import { stringOption } from './args.js';

/** Removes one cluster or all; a cluster that does not exist is not an error (idempotent, like kind delete). */
export async function down(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const rt = await openRuntime();
  const reporter = createReporter({ verbose: global.verbose });
  const names = options.all ? (await rt.provider.listClusters()).map((c) => c.name) : [stringOption(options, 'name')!];
  if (options.all && names.length === 0) reporter.info('No clusters to remove.');
  for (const name of names) {
    const exists = await rt.provider.getCluster(name);
    await withClusterLock(name, () => reporter.step(`Removing cluster "${name}"`, (d) => {
      if (!exists) d('nothing left of it');
      return deleteCluster(rt, name);
    }));
  }
  return 0;
}
