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
    for (const [key, flag] of [['nodes', '--nodes'], ['managers', '--managers'], ['controlPlanes', '--control-planes'], ['engine', '--engine']] as const) {
      if (given(key)) throw new UsageError(`${flag} cannot be combined with --config`, 'describe the nodes in the config file instead');
    }
    spec = await loadClusterConfig(config);
    if (given('name')) spec = { ...spec, name: stringOption(options, 'name')! };
  } else {
    const nodes = parseCount(options.nodes, '--nodes', 1, 20);
    const engine = options.engine as Engine;
    const managers = managerCount(options, global, engine);
    const flag = engine === 'kube' ? '--control-planes' : '--managers';
    if (managers > nodes) throw new UsageError(`${flag} (${managers}) cannot be more than --nodes (${nodes})`);
    spec = specFromFlags(stringOption(options, 'name') ?? DEFAULT_CLUSTER_NAME, engine, nodes, managers);
  }
  const problem = clusterNameProblem(spec.name);
  if (problem) throw new UsageError(`invalid cluster name "${spec.name}": ${problem}`);
  return spec;
}

/** --managers (swarm) or --control-planes (kube: 1 or 3, the etcd member counts that make sense here). */
function managerCount(options: Record<string, unknown>, global: GlobalOptions, engine: Engine): number {
  const given = (key: string) => global.sources[key] === 'cli' || global.sources[key] === 'env';
  if (engine === 'swarm') {
    if (given('controlPlanes')) throw new UsageError('--control-planes is for --engine kube', 'use --managers with swarm');
    return parseCount(options.managers, '--managers', 1, 7);
  }
  if (given('managers')) throw new UsageError('--managers is for --engine swarm', 'use --control-planes 1|3 with kube');
  if (options.controlPlanes === undefined) return 1;
  const count = parseCount(options.controlPlanes, '--control-planes', 1, 3);
  if (count === 2) throw new UsageError('--control-planes must be 1 or 3', 'etcd needs a majority of its members: 2 control planes survive no failure that 1 does not');
  return count;
}

export async function up(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const spec = await resolveSpec(options, global);
  const reporter = createReporter({ verbose: global.verbose });
  const rt = await openRuntime();
  await runFatalChecks(rt);
  const managers = spec.nodes.filter((n) => n.role === 'manager').length;
  const managerWord = spec.engine === 'kube' ? 'control plane' : 'manager';
  reporter.info(`Creating cluster "${spec.name}": ${spec.nodes.length} node${spec.nodes.length > 1 ? 's' : ''} (${managers} ${managerWord}${managers > 1 ? 's' : ''}), ${spec.engine}`);

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
    ...(spec.engine === 'kube'
      ? ['  kubectl get nodes -o wide              # kubectl already points at it', `  clusterlab kubeconfig${nameFlag}        # the kubeconfig, for other tools`]
      : [`  eval "$(clusterlab env${nameFlag})"   # point the docker CLI at the swarm`, '  docker node ls']),
    `  clusterlab status${nameFlag}          # nodes and their state`,
    `  clusterlab shell ${firstManager}${nameFlag}    # a shell on a node`,
    `  clusterlab down${nameFlag}            # remove it`,
  ];
  process.stderr.write(lines.join('\n') + '\n');
  return 0;
}
