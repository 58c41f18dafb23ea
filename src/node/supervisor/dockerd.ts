/**
 * dockerd inside a node: its flags and its cgroup parent (pure, unit-tested), and the daemon
 * entry the supervisor runs.
 */
import { NODE_DOCKER_TLS_PORT, type NodeConfig } from '../../common/node-config.js';
import type { DaemonSpec } from './daemon.js';
import { loadKernelModules } from './node-setup.js';
import { httpProbe } from './probes.js';

export const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * Kernel modules worth loading before the first dockerd start when the host lends its
 * /lib/modules: IPVS for Swarm's routing mesh (ingress, VIP load balancing), plus what
 * overlay networks and bridges use. Failure is normal (no IPVS on some kernels) and quiet.
 */
export const KERNEL_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'xt_ipvs', 'br_netfilter', 'vxlan', 'overlay'];

/** dockerd's command line for this node. */
export function dockerdArgs(config: NodeConfig, cgroupParent: string | undefined): string[] {
  const args = ['--host', `unix://${DOCKER_SOCKET}`];
  const tls = config.dockerd.tls;
  if (tls) {
    args.push(
      '--host',
      `tcp://0.0.0.0:${NODE_DOCKER_TLS_PORT}`,
      '--tlsverify',
      '--tlscacert',
      tls.caFile,
      '--tlscert',
      tls.certFile,
      '--tlskey',
      tls.keyFile,
    );
  }
  // No systemd in a node: cgroupfs is the only driver that works, whatever the host uses.
  args.push('--exec-opt', 'native.cgroupdriver=cgroupfs');
  if (cgroupParent !== undefined) args.push('--cgroup-parent', cgroupParent);
  // Nested containers need NAT and forwarding in the node's network namespace. The storage
  // driver is left to dockerd: /var/lib/docker is a volume (a real filesystem, not the node's
  // overlay), so it picks overlay2.
  args.push('--iptables=true', '--ip-forward=true');
  args.push(...(config.dockerd.extraArgs ?? []));
  return args;
}

export interface CgroupPlan {
  /** dockerd's --cgroup-parent; undefined leaves dockerd's default (/docker). */
  parent: string | undefined;
  version: 1 | 2;
  /**
   * cgroup v2 only: the node's own cgroup (a path under the cgroup root). Its processes must
   * move into `<it>/init` and its controllers be enabled in cgroup.subtree_control before
   * nested containers can be made under `<it>/nested` (v2's "no internal processes" rule).
   */
  v2Delegate?: string;
  /** One line for the log: what was found and chosen. */
  reason: string;
}

interface CgroupLine {
  controllers: string[];
  path: string;
}

function parseProcCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const list = line.slice(first + 1, second);
    out.push({ controllers: list ? list.split(',') : [], path: line.slice(second + 1).trim() || '/' });
  }
  return out;
}

function join(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent.replace(/\/+$/, '')}/${child}`;
}

/** Preference among v1 hierarchies: the limits that matter most for a node. */
const V1_PREFERENCE = ['memory', 'cpu', 'pids', 'cpuacct', 'blkio', 'cpuset', 'devices', 'freezer'];

/**
 * Where the node's dockerd should put nested containers, from /proc/self/cgroup.
 *
 * - cgroup v1, host cgroup namespace (how nodes run on this machine): the node's own path,
 *   e.g. `4:memory:/docker/<id>`, gives `/docker/<id>/nested`. Nested containers then count
 *   against the node's --memory/--cpus and never share a path with other nodes' or the host's
 *   containers (the host's dockerd default parent is /docker too).
 * - A private cgroup namespace shows `/`: the namespace root is already the node's own
 *   cgroup, so `/nested`.
 * - cgroup v2 (`unified`): the same paths, plus `v2Delegate`: as kind's entrypoint does, the
 *   supervisor moves its processes out of the node's cgroup into `<node>/init` and enables the
 *   controllers for children. A trailing `/init` (already moved) is stripped. Not testable on
 *   the cgroup v1 development machines: covered by unit tests only.
 *
 * `unified` is whether /sys/fs/cgroup is cgroup2 (it has cgroup.controllers); a hybrid v1
 * host also lists a `0::` line, which is ignored in favour of the v1 hierarchies.
 */
export function detectCgroupParent(procSelfCgroup: string, opts: { unified: boolean }): CgroupPlan {
  const lines = parseProcCgroup(procSelfCgroup);
  const v1 = lines.filter((l) => l.controllers.length > 0 && !l.controllers.every((c) => c.startsWith('name=')));
  if (!opts.unified && v1.length > 0) {
    let chosen: CgroupLine | undefined;
    let via = '';
    for (const controller of V1_PREFERENCE) {
      chosen = v1.find((l) => l.controllers.includes(controller));
      if (chosen) {
        via = controller;
        break;
      }
    }
    chosen ??= v1[0]!;
    via ||= chosen.controllers.join(',');
    const parent = join(chosen.path, 'nested');
    return {
      parent,
      version: 1,
      reason:
        chosen.path === '/'
          ? `cgroup v1, private cgroup namespace: nested containers under ${parent}`
          : `cgroup v1, node cgroup ${chosen.path} (${via}): nested containers under ${parent}`,
    };
  }

  const unifiedLine = lines.find((l) => l.controllers.length === 0 && l.path !== '');
  if (unifiedLine === undefined) {
    return { parent: undefined, version: opts.unified ? 2 : 1, reason: 'no cgroup found in /proc/self/cgroup: dockerd default parent' };
  }
  let node = unifiedLine.path.replace(/\/+$/, '') || '/';
  if (node === '/init') node = '/';
  else if (node.endsWith('/init')) node = node.slice(0, -'/init'.length);
  const parent = join(node, 'nested');
  return {
    parent,
    version: 2,
    v2Delegate: node,
    reason:
      node === '/'
        ? `cgroup v2, private cgroup namespace: processes to /init, nested containers under ${parent}`
        : `cgroup v2, node cgroup ${node}: processes to ${join(node, 'init')}, nested containers under ${parent}`,
  };
}

/** The supervisor's entry for dockerd: ready when GET /_ping on its socket answers OK. */
export function dockerdDaemon(config: NodeConfig, cgroupParent: string | undefined, emitNote: (message: string) => void): DaemonSpec {
  let first = true;
  return {
    name: 'dockerd',
    command: 'dockerd',
    args: dockerdArgs(config, cgroupParent),
    beforeStart: async () => {
      if (!first) return;
      first = false;
      const { ipvs, tried } = await loadKernelModules(KERNEL_MODULES);
      // The host reads this to decide between the routing mesh and dnsrr/host-mode ports.
      emitNote(`ipvs ${ipvs ? 'available' : 'unavailable'}${tried ? '' : ' (no /lib/modules: modules not loaded)'}`);
    },
    probe: httpProbe({ socketPath: DOCKER_SOCKET, path: '/_ping', expectBody: 'OK' }),
  };
}
