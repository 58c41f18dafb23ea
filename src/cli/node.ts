import { describeCluster } from '../cluster/describe.js';
import { withClusterLock } from '../cluster/lock.js';
import { addNode, nodeAction, removeNode, type NodeAction } from '../cluster/nodes.js';
import { openRuntime } from '../cluster/runtime.js';
import type { NodeRole } from '../cluster/spec.js';
import { withInterrupt } from './interrupt.js';
import type { GlobalOptions } from './main.js';
import { parseOutputFormat, printData } from './output.js';
import { createReporter } from './progress.js';
import { nodeTable } from './status.js';
import { stringOption } from './args.js';

export async function nodeList(_args: string[], options: Record<string, unknown>): Promise<number> {
  const format = parseOutputFormat(stringOption(options, 'output'));
  const rt = await openRuntime();
  const described = await describeCluster(rt, stringOption(options, 'name')!);
  if (format === 'json' || format === 'yaml') printData(described.nodes, format);
  else process.stdout.write(nodeTable(described.nodes, format));
  return 0;
}

export function nodeActionCommand(action: string) {
  return async (args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> => {
    const cluster = stringOption(options, 'name')!;
    const rt = await openRuntime();
    const reporter = createReporter({ verbose: global.verbose });
    await withClusterLock(cluster, () => withInterrupt((signal) => nodeAction(rt, cluster, args[0]!, action as NodeAction, reporter, signal)));
    return 0;
  };
}

export async function nodeAdd(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const cluster = stringOption(options, 'name')!;
  const rt = await openRuntime();
  const reporter = createReporter({ verbose: global.verbose });
  const node = await withClusterLock(cluster, () =>
    withInterrupt((signal) => addNode(rt, cluster, { role: options.role as NodeRole, name: stringOption(options, 'nodeName'), reporter, signal })),
  );
  reporter.info(`Node ${node.name} (${node.role}, ${node.ip}) joined cluster "${cluster}".`);
  return 0;
}

export async function nodeRemove(args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const cluster = stringOption(options, 'name')!;
  const rt = await openRuntime();
  const reporter = createReporter({ verbose: global.verbose });
  await withClusterLock(cluster, () => withInterrupt((signal) => removeNode(rt, cluster, args[0]!, reporter, signal)));
  return 0;
}
