import { Command, CommanderError, Option } from 'commander';
import { CommandError, UserError, messageOf } from '../common/errors.js';
import { DEFAULT_CLUSTER_NAME } from '../cluster/spec.js';

/**
 * The one table of commands. Each command's options are declared here (so `--help` is
 * complete and instant); its handler module is imported only when it runs (changesets'
 * cli.ts). Handlers turn options into library calls (src/cluster, src/engines) and print.
 */

export interface GlobalOptions {
  verbose: boolean;
  /** Where each option's value came from ('cli', 'env', 'default'…), by option key. */
  sources: Record<string, string | undefined>;
}

export type Handler = (args: string[], options: Record<string, unknown>, global: GlobalOptions) => Promise<number | void>;
export type Loader = () => Promise<Handler>;

const nameOption = () => new Option('--name <name>', 'cluster name').default(DEFAULT_CLUSTER_NAME).env('CLUSTERLAB_CLUSTER');
const outputOption = () => new Option('-o, --output <format>', 'output format: json, yaml or wide');

/** The command table; `run` wraps each handler loader into a commander action (tests record calls). */
export function buildProgram(run: (load: Loader) => (...args: unknown[]) => Promise<void>): Command {
  const program = new Command('clusterlab')
    .description('Local multi-node clusters on Docker-in-Docker nodes, with Docker Swarm inside, for learning and teaching orchestration.')
    .option('-v, --verbose', 'show step details and stack traces of internal errors')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    // Set before the subcommands are added: commander copies these settings into each.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('up')
    .description('create a cluster and start it (default: "lab", 3 nodes, 1 manager, swarm)')
    .addOption(nameOption())
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--managers <m>', 'how many of them are managers (swarm)', '1')
    .option('--control-planes <n>', 'how many of them are control planes (kube): 1 or 3')
    .addOption(new Option('--engine <engine>', 'orchestrator to install').choices(['swarm', 'kube']).default('swarm'))
    .option('--config <file>', 'cluster config file (YAML, kind: Cluster); see the README')
    .option('--retain', 'keep what was made when creation fails, for debugging')
    .action(run(() => import('./up.js').then((m) => m.up)));

  program
    .command('kubeconfig')
    .description("print a kube cluster's kubeconfig (kind get kubeconfig); `up` already merged it into ~/.kube/config")
    .addOption(nameOption())
    .action(run(() => import('./kubeconfig.js').then((m) => m.kubeconfig)));

  program
    .command('down')
    .description('remove a cluster: every labelled container, network and volume (idempotent)')
    .addOption(nameOption())
    .option('--all', 'remove every clusterlab cluster')
    .action(run(() => import('./down.js').then((m) => m.down)));

  program
    .command('list')
    .alias('ls')
    .description('list clusters')
    .addOption(outputOption())
    .action(run(() => import('./list.js').then((m) => m.list)));

  program
    .command('status')
    .description("show a cluster and its nodes, with the orchestrator's view of them")
    .addOption(nameOption())
    .addOption(outputOption())
    .action(run(() => import('./status.js').then((m) => m.status)));

  program
    .command('stop')
    .description('stop every node of a cluster (data is kept)')
    .addOption(nameOption())
    .action(run(() => import('./start-stop.js').then((m) => m.stop)));

  program
    .command('start')
    .description('start a stopped cluster and wait until it is healthy')
    .addOption(nameOption())
    .action(run(() => import('./start-stop.js').then((m) => m.start)));

  const node = program.command('node').description('manage the nodes of a cluster');
  node
    .command('ls')
    .alias('list')
    .description('list nodes')
    .addOption(nameOption())
    .addOption(outputOption())
    .action(run(() => import('./node.js').then((m) => m.nodeList)));
  const actions: [string, string][] = [
    ['stop', 'stop a node (power off; data kept)'],
    ['start', 'start a stopped node and wait until it rejoins'],
    ['restart', 'restart a node (reboot)'],
    ['kill', 'kill a node at once (pull the power cable)'],
    ['pause', 'freeze a node'],
    ['unpause', 'unfreeze a paused node'],
    ['disconnect', 'cut a node off the cluster network (a partition), leaving it running'],
    ['connect', 'connect a disconnected node again'],
  ];
  for (const [action, description] of actions) {
    node
      .command(`${action} <node>`)
      .description(description)
      .addOption(nameOption())
      .action(run(() => import('./node.js').then((m) => m.nodeActionCommand(action))));
  }
  node
    .command('add')
    .description('add a node to a running cluster')
    .addOption(nameOption())
    .addOption(new Option('--role <role>', 'role of the new node').choices(['worker', 'manager']).default('worker'))
    .option('--node-name <node>', 'name of the new node (default: next free workerN / managerN)')
    .action(run(() => import('./node.js').then((m) => m.nodeAdd)));
  node
    .command('rm <node>')
    .alias('remove')
    .description('drain a node, take it out of the cluster and remove it')
    .addOption(nameOption())
    .action(run(() => import('./node.js').then((m) => m.nodeRemove)));

  program
    .command('shell <node>')
    .description('open an interactive shell on a node')
    .addOption(nameOption())
    .action(run(() => import('./shell.js').then((m) => m.shell)));

  program
    .command('exec <node> <command...>')
    .description('run a command on a node; its exit code is passed through (clusterlab exec worker1 -- docker ps)')
    .addOption(nameOption())
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'allocate a terminal')
    .action(run(() => import('./exec.js').then((m) => m.exec)));

  program
    .command('logs <node>')
    .description("print a node's daemon logs (dockerd by default)")
    .addOption(nameOption())
    .option('--daemon <daemon>', 'which daemon: dockerd or supervisor; on kube nodes also etcd, apiserver, scheduler, controller-manager, dns, agent', 'dockerd')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <lines>', 'only the last N lines')
    .action(run(() => import('./logs.js').then((m) => m.logs)));

  const exportCmd = program.command('export').description('export cluster information');
  exportCmd
    .command('logs [dir]')
    .description("collect every node's daemon logs and the cluster's description, for a bug report")
    .addOption(nameOption())
    .action(run(() => import('./export-logs.js').then((m) => m.exportLogs)));

  program
    .command('env')
    .description('print shell exports that point the docker CLI at the swarm: eval "$(clusterlab env)"')
    .addOption(nameOption())
    .option('-u, --unset', 'print exports that undo it')
    .addOption(new Option('--shell <shell>', 'shell syntax').choices(['bash', 'zsh', 'sh', 'fish', 'powershell']).default('bash'))
    .action(run(() => import('./env.js').then((m) => m.env)));

  program
    .command('dashboard')
    .description('serve a live page of the cluster (nodes, tasks or pods, a timeline, actions) on 127.0.0.1')
    .addOption(nameOption())
    .option('--port <port>', 'port on 127.0.0.1 (default: any free one)')
    .option('--no-open', 'do not open a browser')
    .action(run(() => import('./dashboard.js').then((m) => m.dashboard)));

  program
    .command('doctor')
    .description('check that this machine can run clusters, and say how to fix what is wrong')
    .addOption(outputOption())
    .action(run(() => import('./doctor.js').then((m) => m.doctor)));

  const image = program.command('image').description('build and move node images');
  image
    .command('build')
    .description('build the node image (tagged by a hash of its recipe); with --apps, the sample application images of the labs')
    .option('--force', 'rebuild even when the image exists')
    .option('--apps', 'build the sample application images (images/apps: chat, web v1-v3, probe) instead')
    .action(run(() => import('./image.js').then((m) => m.imageBuild)));
  image
    .command('save <file> [images...]')
    .description('save the node image (and any other images) to a tar file, for machines without a registry')
    .action(run(() => import('./image.js').then((m) => m.imageSave)));
  image
    .command('load <fileOrImages...>')
    .description('load a tar file made by `image save` into the host engine; or, given image names, copy host images into the nodes of a cluster (like kind load docker-image)')
    .addOption(nameOption())
    .option('--nodes <nodes>', 'comma-separated nodes to load into (default: all)')
    .action(run(() => import('./image.js').then((m) => m.imageLoad)));

  const clusterOption = () => new Option('--cluster <name>', 'cluster the lab runs on').default(DEFAULT_CLUSTER_NAME).env('CLUSTERLAB_CLUSTER');
  const langOption = () => new Option('--lang <language>', 'language of the lab texts: en, it, es… (default: from the locale)');
  const stepOption = () => new Option('--step <id>', 'a step other than the current one');
  const lab = program.command('lab').description('guided labs, checked against the live cluster');
  lab
    .command('ls')
    .alias('list')
    .description('list the labs')
    .addOption(outputOption())
    .addOption(langOption())
    .action(run(() => import('./lab.js').then((m) => m.labList)));
  lab
    .command('show <lab>')
    .description("show a lab's description and steps")
    .addOption(new Option('--engine <engine>', 'the texts for this engine').choices(['swarm', 'kube']))
    .addOption(outputOption())
    .addOption(langOption())
    .action(run(() => import('./lab.js').then((m) => m.labShow)));
  lab
    .command('start <lab>')
    .description('start a lab: create or reuse the cluster, set the lab up, then guide (on a terminal)')
    .addOption(clusterOption())
    .addOption(new Option('--engine <engine>', 'engine (default: the cluster\'s, else the lab\'s first)').choices(['swarm', 'kube']))
    .addOption(langOption())
    .option('--no-interactive', 'print the first step and return, even on a terminal')
    .action(run(() => import('./lab.js').then((m) => m.labStart)));
  lab
    .command('resume')
    .description('continue the running lab in the guided mode')
    .addOption(clusterOption())
    .addOption(langOption())
    .option('--no-interactive', 'print the current step and return')
    .action(run(() => import('./lab.js').then((m) => m.labResume)));
  lab
    .command('check')
    .description('check the current step (polls until it passes or times out); exit 0 when it passes')
    .addOption(clusterOption())
    .addOption(stepOption())
    .option('--timeout <seconds>', "how long to poll (default: the step's timeout)")
    .addOption(langOption())
    .action(run(() => import('./lab.js').then((m) => m.labCheck)));
  lab
    .command('hint')
    .description('show the next hint of the current step')
    .addOption(clusterOption())
    .addOption(stepOption())
    .addOption(langOption())
    .action(run(() => import('./lab.js').then((m) => m.labHint)));
  lab
    .command('solve')
    .description("run the current step's reference solution, then check it")
    .addOption(clusterOption())
    .addOption(stepOption())
    .option('--timeout <seconds>', "how long to poll (default: the step's timeout)")
    .addOption(langOption())
    .action(run(() => import('./lab.js').then((m) => m.labSolve)));
  lab
    .command('skip')
    .description('skip the current step')
    .addOption(clusterOption())
    .addOption(stepOption())
    .addOption(langOption())
    .action(run(() => import('./lab.js').then((m) => m.labSkip)));
  lab
    .command('reset')
    .description("clean up and set the lab up again; progress starts over")
    .addOption(clusterOption())
    .addOption(langOption())
    .action(run(() => import('./lab.js').then((m) => m.labReset)));
  lab
    .command('status')
    .description("the running lab's progress (-o json: the lab, the current step, each step's result, done)")
    .addOption(clusterOption())
    .addOption(outputOption())
    .action(run(() => import('./lab.js').then((m) => m.labStatus)));

  program
    .command('grade <lab>')
    .description("run every check of a lab against a cluster and score it; exit 0 only when all pass")
    .addOption(clusterOption())
    .option('--kubeconfig <file>', 'grade any Kubernetes cluster: this kubeconfig (default $KUBECONFIG or ~/.kube/config with --context)')
    .option('--context <context>', 'the kubeconfig context to grade')
    .option('--docker-host <url>', 'grade any swarm: a manager at tcp://HOST:PORT or unix:///PATH')
    .option('--cert-path <dir>', 'TLS certificates (ca.pem, cert.pem, key.pem) for --docker-host (default $DOCKER_CERT_PATH)')
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'json', 'junit', 'tap', 'github']).default('text'))
    .option('--output <file>', 'write the report to a file (a text summary goes to stderr)')
    .option('--timeout <seconds>', "at most this long per step (default: each step's timeout)")
    .addOption(langOption())
    .action(run(() => import('./grade.js').then((m) => m.grade)));

  program
    .command('compare')
    .description('the same app and events on a swarm and a kube cluster, measured side by side; writes report.md, report.json and a chart')
    .option('--events <list>', 'events, comma-separated: crash, node-loss, rollout, scale', 'crash,node-loss,rollout,scale')
    .option('--nodes <n>', 'nodes of each cluster', '3')
    .option('--report <dir>', 'where to write the report', 'compare-report')
    .action(run(() => import('./compare.js').then((m) => m.compare)));

  program
    .command('version')
    .description('print the version of clusterlab')
    .action(run(() => import('./version.js').then((m) => m.version)));

  return program;
}

/** Prints an error the way kind does: one line, a hint, causes with -v. */
export function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof UserError) {
    process.stderr.write(`ERROR: ${err.message}\n`);
    if (err.hint) process.stderr.write(err.hint.replace(/^/gm, '  ') + '\n');
    if (verbose && err.cause) process.stderr.write(`cause: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}\n`);
    return err.exitCode;
  }
  if (err instanceof CommandError) {
    process.stderr.write(`ERROR: ${err.message}\n`);
    if (verbose && err.stack) process.stderr.write(err.stack + '\n');
    return 1;
  }
  process.stderr.write(`ERROR: internal error: ${messageOf(err)}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  else process.stderr.write('  run again with -v for details; if it persists, please report it with the output of `clusterlab export logs`\n');
  return 1;
}

/**
 * `exec NODE CMD…` without `--` reads as `docker exec` does: what follows NODE is the command,
 * its options included (`exec worker1 sh -c …`). With a `--`, options may also follow NODE, as
 * in kubectl (`exec worker1 --name lab -- sh`). Done by adding the `--` docker's form implies.
 */
export function withExecSeparator(argv: string[]): string[] {
  const execAt = argv.findIndex((a) => !a.startsWith('-'));
  if (argv[execAt] !== 'exec' || argv.includes('--')) return argv;
  const valued = new Set(['--name']);
  for (let i = execAt + 1; i < argv.length; i++) {
    const token = argv[i]!;
    if (valued.has(token)) i++;
    else if (!token.startsWith('-')) return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return argv;
}

/** The one exit point: returns the process exit code (bin/clusterlab sets it). */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  let verbose = argv.includes('-v') || argv.includes('--verbose');
  const run =
    (load: Loader) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const options = command.opts();
      const positional = command.processedArgs.flatMap((a: unknown) => (Array.isArray(a) ? a : a === undefined ? [] : [a])) as string[];
      const global = command.optsWithGlobals() as GlobalOptions;
      verbose = Boolean(global.verbose);
      const sources = Object.fromEntries(Object.keys(options).map((key) => [key, command.getOptionValueSource(key)]));
      const handler = await load();
      const code = await handler(positional, options, { verbose, sources });
      exitCode = typeof code === 'number' ? code : 0;
    };

  const program = buildProgram(run);
  try {
    await program.parseAsync(withExecSeparator(argv), { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not failures; usage errors were already printed by commander.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err, verbose);
  }
}
