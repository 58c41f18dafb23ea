/** How the page writes numbers and times. Pure, shared with the page. */

import { formatBytes as formatBytesWith } from '../common/units.js';

export { formatAge } from '../common/units.js';

/** 1.5 GiB, 512 MiB. */
export function formatBytes(bytes: number): string {
  return formatBytesWith(bytes, ' ');
}

export function formatCpus(cpus: number): string {
  return `${Number.isInteger(cpus) ? cpus : cpus.toFixed(1)} CPU${cpus === 1 ? '' : 's'}`;
}

/** 14:03:27 in local time. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
