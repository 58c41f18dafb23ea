import { loadClusterConfig } from '../cluster/config.js';
import { createCluster } from '../cluster/lifecycle.js';
import { withClusterLock } from '../cluster/lock.js';
import { dns1123LabelProblem } from '../cluster/names.js';
import { openRuntime } from '../cluster/runtime.js';
import { DEFAULT_CLUSTER_NAME, specFromFlags, type ClusterSpec, type Engine } from '../cluster/spec.js';
import { UsageError } from '../common/errors.js';
import { runFatalChecks } from './doctor.js';
import type { GlobalOptions } from './main.js';
import { createReporter } from './progress.js';
import { withInterrupt } from './interrupt.js';
import { parseCount, stringOption } from './args.js';

/** Why `name` cannot name a cluster, or undefined. */
function clusterNameProblem(name: string): string | undefined {
  return dns1123LabelProblem(name) ?? (name.length > 40 ? 'must be no more than 40 characters (it prefixes container names)' : undefined);
}

/**
 * Flags and config turned into one spec. --name (or CLUSTERLAB_CLUSTER) overrides the
 * config's name, as in kind; flags that would silently disagree with a config are refused.
 */
async function resolveSpec(options: Record<string, unknown>, global: GlobalOptions): Promise<ClusterSpec> {
  const given = (key: string) => global.sources[key] === 'cli' || global.sources[key] === 'env';
  const config = stringOption(options, 'config');
  let spec: ClusterSpec;
  if (config) {
    for (const [key, flag] of [['nodes', '--nodes'], ['managers', '--managers'], ['engine', '--engine']] as const) {
      if (given(key)) throw new UsageError(`${flag} cannot be combined with --config`, 'describe the nodes in the config file instead');
    }
    spec = await loadClusterConfig(config);
    if (given('name')) spec = { ...spec, name: stringOption(options, 'name')! };
  } else {
    const nodes = parseCount(options.nodes, '--nodes', 1, 20);
    const managers = parseCount(options.managers, '--managers', 1, 7);
    if (managers > nodes) throw new UsageError(`--managers (${managers}) cannot be more than --nodes (${nodes})`);
    spec = specFromFlags(stringOption(options, 'name') ?? DEFAULT_CLUSTER_NAME, options.engine as Engine, nodes, managers);
  }
  const problem = clusterNameProblem(spec.name);
  if (problem) throw new UsageError(`invalid cluster name "${spec.name}": ${problem}`);
  return spec;
}

export async function up(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const spec = await resolveSpec(options, global);
  const reporter = createReporter({ verbose: global.verbose });
  const rt = await openRuntime();
  await runFatalChecks(rt);
  const managers = spec.nodes.filter((n) => n.role === 'manager').length;
  reporter.info(`Creating cluster "${spec.name}": ${spec.nodes.length} node${spec.nodes.length > 1 ? 's' : ''} (${managers} manager${managers > 1 ? 's' : ''}), ${spec.engine}`);

  const result = await withClusterLock(spec.name, () =>
    withInterrupt((signal) => createCluster(rt, spec, { reporter, signal, retain: Boolean(options.retain) })),
  );

  const nameFlag = spec.name === DEFAULT_CLUSTER_NAME ? '' : ` --name ${spec.name}`;
  const firstManager = result.nodes.find((n) => n.role === 'manager')?.name ?? 'leader';
  const lines = [
    '',
    `Cluster "${spec.name}" is ready: ${result.nodes.map((n) => `${n.name} (${n.role}, ${n.ip})`).join(', ')}.`,
    ...result.notes.map((n) => `  ${n}`),
    '',
    'Use it:',
    `  eval "$(clusterlab env${nameFlag})"   # point the docker CLI at the swarm`,
    '  docker node ls',
    `  clusterlab status${nameFlag}          # nodes and their state`,
    `  clusterlab shell ${firstManager}${nameFlag}    # a shell on a node`,
    `  clusterlab down${nameFlag}            # remove it`,
  ];
  process.stderr.write(lines.join('\n') + '\n');
  return 0;
}
