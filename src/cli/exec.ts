import { requireNode } from '../cluster/nodes.js';
import { openRuntime } from '../cluster/runtime.js';
import { UsageError, UserError } from '../common/errors.js';
import { attachExec } from '../docker/interactive.js';
import { stringOption } from './args.js';

/** `clusterlab exec NODE -- CMD…`: the command's exit code becomes ours. */
export async function exec(args: string[], options: Record<string, unknown>): Promise<number> {
  const [nodeName, ...rest] = args;
  // main.ts's withExecSeparator makes docker's form (no `--`) into this one; commander drops the `--`.
  const command = rest[0] === '--' ? rest.slice(1) : rest;
  if (command.length === 0) throw new UsageError('no command given', `clusterlab exec ${nodeName} -- COMMAND [ARG…]`);
  const rt = await openRuntime();
  const node = await requireNode(rt, stringOption(options, 'name')!, nodeName!);
  if (node.state !== 'running') throw new UserError(`node ${node.name} is ${node.state}`, { hint: `start it: clusterlab node start ${node.name}` });
  const tty = Boolean(options.tty) && Boolean(process.stdout.isTTY);
  return attachExec(rt.docker, node.containerId, command, { tty, stdin: Boolean(options.stdin), env: tty ? [`TERM=${process.env.TERM ?? 'xterm'}`] : undefined });
}
