import { stringify as toYaml } from 'yaml';
import { UsageError } from '../common/errors.js';

/** `-o/--output` values every listing command accepts (kubectl's spelling). */
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === '' || value === 'table') return 'table';
  if (value === 'wide' || value === 'json' || value === 'yaml') return value;
  throw new UsageError(`unknown output format "${value}"`, 'use -o json, -o yaml or -o wide (default: a table)');
}

/** Data goes to stdout; everything else to stderr. */
export function printData(value: unknown, format: 'json' | 'yaml'): void {
  process.stdout.write(format === 'json' ? JSON.stringify(value, null, 2) + '\n' : toYaml(value));
}

/**
 * A kubectl-style table: upper-case headers, columns separated by three spaces, no borders.
 * Pure, so it is unit-tested.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export { formatAge, formatBytes } from '../common/units.js';
