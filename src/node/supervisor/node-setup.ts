/** One-time machine setup inside a node, before the daemons start (impure, best effort). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * cgroup v2: move every process of the node's cgroup into `<node>/init`, then enable all
 * available controllers in `<node>/cgroup.subtree_control`, so that dockerd can create
 * `<node>/nested/<container>` with limits (kind's entrypoint does the same at the namespace
 * root). Processes that fork meanwhile are caught by repeating a few times. Returns a note
 * for the log; never throws. Untested on the cgroup v1 development machines.
 */
export async function delegateCgroupV2(nodeCgroup: string, root: string = CGROUP_ROOT): Promise<string> {
  const dir = path.join(root, nodeCgroup);
  try {
    await mkdir(path.join(dir, 'init'), { recursive: true });
    for (let round = 0; round < 5; round++) {
      const procs = (await readFile(path.join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean);
      if (procs.length === 0) break;
      for (const pid of procs) {
        // A process may exit meanwhile (ESRCH); kernel threads cannot move (EINVAL): skip both.
        await writeFile(path.join(dir, 'init', 'cgroup.procs'), `${pid}\n`).catch(() => {});
      }
    }
    const controllers = (await readFile(path.join(dir, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter(Boolean);
    const failed: string[] = [];
    for (const controller of controllers) {
      await writeFile(path.join(dir, 'cgroup.subtree_control'), `+${controller}\n`).catch(() => failed.push(controller));
    }
    return `cgroup v2: delegated ${controllers.filter((c) => !failed.includes(c)).join(' ') || 'no controllers'} in ${dir}` +
      (failed.length ? `; could not enable ${failed.join(' ')}` : '');
  } catch (err) {
    return `cgroup v2: could not prepare ${dir}: ${String(err)}`;
  }
}

/**
 * `modprobe -a -q <modules>` when the host lent its /lib/modules, ignoring failure; then
 * whether IPVS is usable in this network namespace (/proc/net/ip_vs exists).
 */
export async function loadKernelModules(modules: string[], timeoutMs = 10_000): Promise<{ ipvs: boolean; tried: boolean }> {
  const tried = existsSync('/lib/modules');
  if (tried) {
    await new Promise<void>((resolve) => {
      const child = spawn('modprobe', ['-a', '-q', ...modules], { stdio: 'ignore', timeout: timeoutMs });
      child.on('error', () => resolve());
      child.on('exit', () => resolve());
    });
  }
  return { ipvs: existsSync('/proc/net/ip_vs'), tried };
}
