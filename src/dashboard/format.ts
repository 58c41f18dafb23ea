/** How the page writes numbers and times. Pure, shared with the page. */

export { formatAge } from '../common/age.js';

/** 1.5 GiB, 512 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
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
