import { requireNode } from '../cluster/nodes.js';
import { openRuntime } from '../cluster/runtime.js';
import { UsageError, UserError } from '../common/errors.js';
import { NODE_LOG_DIR } from '../common/node-config.js';
import { attachExec } from '../docker/interactive.js';
import { parseCount, stringOption } from './args.js';

/**
 * A node's daemon logs. dockerd writes to a file in the node (the supervisor keeps it); the
 * supervisor's own events are the container's log.
 */
export async function logs(args: string[], options: Record<string, unknown>): Promise<number> {
  const rt = await openRuntime();
  const node = await requireNode(rt, stringOption(options, 'name')!, args[0]!);
  const daemon = stringOption(options, 'daemon')!;
  const tail = options.tail === undefined ? undefined : parseCount(options.tail, '--tail', 0, 10_000_000);
  const follow = Boolean(options.follow);

  if (daemon === 'supervisor') {
    const stream = (await rt.docker.getContainer(node.containerId).logs({
      stdout: true,
      stderr: true,
      // dockerode's overloads pick the stream form from `follow: true`; both are the same call.
      follow: follow as true,
      ...(tail !== undefined ? { tail } : {}),
    })) as unknown as NodeJS.ReadableStream;
    rt.docker.modem.demuxStream(stream, process.stdout, process.stderr);
    await new Promise<void>((resolve) => stream.on('end', resolve));
    return 0;
  }
  if (!/^[a-z][a-z0-9-]*$/.test(daemon)) throw new UsageError(`unknown daemon "${daemon}"`, 'use --daemon dockerd or --daemon supervisor');
  if (node.state !== 'running') {
    throw new UserError(`node ${node.name} is ${node.state}: its daemon logs are read from inside it`, {
      hint: `start it (clusterlab node start ${node.name}), or see its supervisor log: clusterlab logs ${node.name} --daemon supervisor`,
    });
  }
  const file = `${NODE_LOG_DIR}/${daemon}.log`;
  const command = ['tail', '-n', tail === undefined ? '+1' : String(tail), ...(follow ? ['-F'] : []), file];
  return attachExec(rt.docker, node.containerId, command, { tty: false, stdin: false });
}
