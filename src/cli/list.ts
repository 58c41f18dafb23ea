import { clusterState } from '../cluster/describe.js';
import { openRuntime } from '../cluster/runtime.js';
import { formatTable, parseOutputFormat, printData } from './output.js';
import { stringOption } from './args.js';

export async function list(_args: string[], options: Record<string, unknown>): Promise<number> {
  const format = parseOutputFormat(stringOption(options, 'output'));
  const rt = await openRuntime();
  const clusters = await rt.provider.listClusters();
  const rows = await Promise.all(
    clusters.map(async (c) => {
      const nodes = await rt.provider.listNodes(c.name);
      return {
        name: c.name,
        engine: c.engine,
        state: clusterState(nodes),
        nodes: nodes.length,
        running: nodes.filter((n) => n.state === 'running').length,
        managers: nodes.filter((n) => n.role === 'manager').length,
        subnet: c.subnet,
      };
    }),
  );
  if (format === 'json' || format === 'yaml') {
    printData(rows, format);
    return 0;
  }
  if (rows.length === 0) {
    process.stderr.write('No clusters. Create one with: clusterlab up\n');
    return 0;
  }
  const headers = ['NAME', 'ENGINE', 'STATE', 'NODES', 'MANAGERS'];
  if (format === 'wide') headers.push('SUBNET');
  process.stdout.write(
    formatTable(
      headers,
      rows.map((r) => {
        const row = [r.name, r.engine, r.state, `${r.running}/${r.nodes}`, String(r.managers)];
        if (format === 'wide') row.push(r.subnet);
        return row;
      }),
    ),
  );
  return 0;
}
