import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tarFs from 'tar-fs';
import { NODE_LOG_DIR } from '../common/node-config.js';
import { execIn } from '../docker/exec.js';
import { describeCluster } from './describe.js';
import type { ClusterRuntime } from './runtime.js';
import { messageOf } from '../common/errors.js';

/** What is collected from a running node: command → file name. */
const NODE_COMMANDS: [string[], string][] = [
  [['docker', 'info'], 'docker-info.txt'],
  [['docker', 'ps', '-a'], 'docker-ps.txt'],
  [['ip', 'addr'], 'ip-addr.txt'],
  [['ip', 'route'], 'ip-route.txt'],
  [['ps', 'auxww'], 'ps.txt'],
];
const MANAGER_COMMANDS: [string[], string][] = [
  [['docker', 'node', 'ls'], 'docker-node-ls.txt'],
  [['docker', 'service', 'ls'], 'docker-service-ls.txt'],
  [['docker', 'network', 'ls'], 'docker-network-ls.txt'],
];

/**
 * `clusterlab export logs DIR` (kind's `export logs`): the cluster's description, and per node
 * its container inspection, supervisor log, daemon logs and a few diagnostics. A node that is
 * down still gives what the engine knows of it.
 */
export async function exportLogs(rt: ClusterRuntime, name: string, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (file: string, content: string) => {
    const target = path.join(dir, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    written.push(file);
  };

  const status = await describeCluster(rt, name);
  await put('cluster.json', JSON.stringify(status, null, 2) + '\n');
  await put('engine.json', JSON.stringify(rt.info, null, 2) + '\n');

  const nodes = await rt.provider.listNodes(name);
  await Promise.all(
    nodes.map(async (node) => {
      const container = rt.docker.getContainer(node.containerId);
      await put(`${node.name}/inspect.json`, JSON.stringify(await container.inspect(), null, 2) + '\n');
      const raw = (await container.logs({ stdout: true, stderr: true, timestamps: true })) as unknown as Buffer;
      await put(`${node.name}/supervisor.log`, demuxBuffer(raw));
      if (node.state !== 'running') return;
      try {
        const archive = await container.getArchive({ path: NODE_LOG_DIR });
        await pipeline(archive, tarFs.extract(path.join(dir, node.name)));
        written.push(`${node.name}/${path.basename(NODE_LOG_DIR)}/`);
      } catch (err) {
        await put(`${node.name}/logs-error.txt`, messageOf(err) + '\n');
      }
      const commands = node.role === 'manager' ? [...NODE_COMMANDS, ...MANAGER_COMMANDS] : NODE_COMMANDS;
      for (const [cmd, file] of commands) {
        const result = await execIn(rt.docker, node.containerId, cmd, { timeoutMs: 15_000 }).catch((e: unknown) => ({ exitCode: -1, stdout: '', stderr: messageOf(e) }));
        await put(`${node.name}/${file}`, result.stdout + (result.stderr ? `\n--- stderr ---\n${result.stderr}` : ''));
      }
    }),
  );
  return written.sort();
}

/** Docker's multiplexed log format (8-byte frame headers) to plain text. */
export function demuxBuffer(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const type = raw[offset];
    const size = raw.readUInt32BE(offset + 4);
    if (type === undefined || type > 2 || offset + 8 + size > raw.length) return raw.toString('utf8'); // not multiplexed (TTY)
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
