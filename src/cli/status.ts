import { describeCluster, type NodeStatus } from '../cluster/describe.js';
import { openRuntime } from '../cluster/runtime.js';
import { formatTable, parseOutputFormat, printData, type OutputFormat } from './output.js';
import { stringOption } from './args.js';

export function nodeTable(nodes: NodeStatus[], format: OutputFormat): string {
  const headers = ['NAME', 'ROLE', 'STATE', 'ADDRESS', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS'];
  if (format === 'wide') headers.push('CONTAINER', 'DOCKER PORT');
  const rows = nodes.map((n) => {
    const state = n.state === 'running' && !n.connected ? 'running (disconnected)' : n.state;
    const row = [n.name, n.role, state, n.ip, n.orchestrator?.state ?? 'unknown', n.orchestrator?.availability ?? '-', n.orchestrator?.managerStatus || '-'];
    if (format === 'wide') row.push(n.container, n.dockerPort ? `127.0.0.1:${n.dockerPort}` : '-');
    return row;
  });
  return formatTable(headers, rows);
}

export async function status(_args: string[], options: Record<string, unknown>): Promise<number> {
  const format = parseOutputFormat(stringOption(options, 'output'));
  const rt = await openRuntime();
  const described = await describeCluster(rt, stringOption(options, 'name')!);
  if (format === 'json' || format === 'yaml') {
    printData(described, format);
    return 0;
  }
  const facts = Object.entries(described.facts).map(([k, v]) => `${k}: ${v}`);
  process.stdout.write(
    `Cluster: ${described.name}\nEngine:  ${described.engine}\nState:   ${described.state}\nNetwork: ${described.network.name} ${described.network.subnet}\n` +
      facts.map((f) => `${f}\n`).join('') +
      '\n' +
      nodeTable(described.nodes, format),
  );
  return 0;
}
