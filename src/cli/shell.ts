import { requireNode } from '../cluster/nodes.js';
import { openRuntime } from '../cluster/runtime.js';
import { UserError } from '../common/errors.js';
import { attachExec } from '../docker/interactive.js';
import { stringOption } from './args.js';

/** An interactive login shell on a node, like `multipass shell`. */
export async function shell(args: string[], options: Record<string, unknown>): Promise<number> {
  const rt = await openRuntime();
  const node = await requireNode(rt, stringOption(options, 'name')!, args[0]!);
  if (node.state !== 'running') throw new UserError(`node ${node.name} is ${node.state}`, { hint: `start it: clusterlab node start ${node.name}` });
  if (!process.stdin.isTTY) {
    throw new UserError('clusterlab shell needs a terminal', { hint: `to run a command without one: clusterlab exec ${node.name} -- COMMAND` });
  }
  return attachExec(rt.docker, node.containerId, ['/bin/bash', '-l'], { tty: true, stdin: true, env: [`TERM=${process.env.TERM ?? 'xterm'}`] });
}
