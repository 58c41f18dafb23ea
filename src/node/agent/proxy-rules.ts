/**
 * The node's Service rules, as kube-proxy's iptables mode writes them: pure text for
 * `iptables-restore --noflush`, built from Services and their Endpoints.
 *
 * nat: KUBE-SERVICES matches a ClusterIP:port (and, last, any local address for NodePorts)
 * and jumps to the service port's KUBE-SVC chain, which picks one ready endpoint at random
 * (`-m statistic`, probability 1/n, 1/(n-1), …, so each gets an equal share) or the one the
 * client had before (`-m recent`, sessionAffinity ClientIP); each KUBE-SEP chain DNATs to its
 * pod. Traffic from outside the pod network is marked and masqueraded on the way out so
 * replies come back through this node; pods reach the outside masqueraded, and reach each
 * other unchanged. filter: a Service with no ready endpoint rejects at once instead of
 * letting connections hang, and pod traffic is let through docker's FORWARD policy.
 */
import { createHash } from 'node:crypto';
import type { Endpoints, Service, ServicePort } from 'kubernetes-types/core/v1.js';

export const MASQ_MARK = '0x4000/0x4000';
const AFFINITY_DEFAULT_SECONDS = 10800;

/** Top-level chains this module owns in each table, and the built-in chains that jump to them. */
export interface Jump {
  table: 'nat' | 'filter';
  from: string;
  to: string;
  /** Extra match before `-j`, e.g. only new connections. */
  match?: string[];
}

/** In order: each goes first in its built-in chain, and earlier ones stay before later ones. */
export const JUMPS: readonly Jump[] = [
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES' },
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES' },
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING' },
  // Rejections of new connections first, then the pod traffic docker's FORWARD policy would drop.
  { table: 'filter', from: 'FORWARD', to: 'KUBE-SERVICES', match: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD' },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-SERVICES', match: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', from: 'INPUT', to: 'KUBE-EXTERNAL-SERVICES', match: ['-m', 'conntrack', '--ctstate', 'NEW'] },
];

/** iptables arguments of a jump rule (after `-t TABLE -C|-I CHAIN`). */
export function jumpRule(jump: Jump): string[] {
  return [...(jump.match ?? []), '-m', 'comment', '--comment', 'kubernetes service rules', '-j', jump.to];
}

export interface ProxyInputs {
  services: Service[];
  /** By "namespace/name". */
  endpoints: ReadonlyMap<string, Endpoints>;
  /** The whole pod network (10.244.0.0/16). */
  clusterCidr: string;
  /**
   * This node's pod range, when its bridge does not pass through iptables
   * (bridge-nf-call-iptables off): a DNATed connection between two pods of this node is
   * then masqueraded so the reply comes back through the node to be un-DNATed.
   */
  localPodCidrWithoutBridgeFilter?: string;
  /** Chains that exist now (from `iptables-save`): the KUBE-SVC/SEP/EXT ones not wanted any more are removed. */
  existingChains?: { nat: string[]; filter: string[] };
}

interface ServicePortTarget {
  service: Service;
  port: ServicePort;
  /** "ns/name:port" as kube-proxy names it in comments. */
  portName: string;
  protocol: string;
  endpoints: Array<{ ip: string; port: number }>;
}

function chainHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16).toUpperCase();
}

export function serviceChain(portName: string, protocol: string): string {
  return `KUBE-SVC-${chainHash(portName + protocol)}`;
}

function externalChain(portName: string, protocol: string): string {
  return `KUBE-EXT-${chainHash(portName + protocol)}`;
}

function endpointChain(portName: string, protocol: string, endpoint: { ip: string; port: number }): string {
  return `KUBE-SEP-${chainHash(`${portName}${protocol}${endpoint.ip}:${endpoint.port}`)}`;
}

/** The ready endpoints of one service port, matched by port name as the Endpoints controller writes them. */
export function readyEndpoints(endpoints: Endpoints | undefined, port: ServicePort): Array<{ ip: string; port: number }> {
  const result: Array<{ ip: string; port: number }> = [];
  for (const subset of endpoints?.subsets ?? []) {
    const match = (subset.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
    if (!match) continue;
    for (const address of subset.addresses ?? []) result.push({ ip: address.ip, port: match.port });
  }
  return result.sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`, 'en', { numeric: true }));
}

function targets(inputs: ProxyInputs): ServicePortTarget[] {
  const result: ServicePortTarget[] = [];
  for (const service of inputs.services) {
    const spec = service.spec;
    const clusterIP = spec?.clusterIP;
    // Headless and ExternalName services are DNS only.
    if (!spec || !clusterIP || clusterIP === 'None' || spec.type === 'ExternalName') continue;
    const key = `${service.metadata?.namespace}/${service.metadata?.name}`;
    for (const port of spec.ports ?? []) {
      const protocol = (port.protocol ?? 'TCP').toLowerCase();
      const portName = `${key}${port.name ? `:${port.name}` : ''}`;
      result.push({ service, port, portName, protocol, endpoints: readyEndpoints(inputs.endpoints.get(key), port) });
    }
  }
  return result.sort((a, b) => (a.portName + a.protocol).localeCompare(b.portName + b.protocol));
}

function quote(comment: string): string {
  return `"${comment.replace(/"/g, '')}"`;
}

/** The iptables-restore input for the nat and filter tables (both in one text). */
export function buildProxyRules(inputs: ProxyInputs): string {
  const natChains = new Set(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
  const filterChains = new Set(['KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']);
  const nat: string[] = [];
  const filter: string[] = [];
  const nodePortRules: string[] = [];
  const cluster = inputs.clusterCidr;

  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK.split('/')[0]}`);
  nat.push(`-A KUBE-POSTROUTING -m mark --mark ${MASQ_MARK} -m comment --comment ${quote('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`);
  nat.push(`-A KUBE-POSTROUTING -s ${cluster} ! -d ${cluster} -m comment --comment ${quote('pods reaching beyond the pod network')} -j MASQUERADE --random-fully`);
  if (inputs.localPodCidrWithoutBridgeFilter) {
    const local = inputs.localPodCidrWithoutBridgeFilter;
    nat.push(`-A KUBE-POSTROUTING -s ${local} -d ${local} -m conntrack --ctstate DNAT -m comment --comment ${quote('service hairpin on this bridge')} -j MASQUERADE`);
  }
  filter.push(`-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`);
  filter.push(`-A KUBE-FORWARD -m mark --mark ${MASQ_MARK} -j ACCEPT`);
  filter.push(`-A KUBE-FORWARD -s ${cluster} -m comment --comment ${quote('pod network out')} -j ACCEPT`);
  filter.push(`-A KUBE-FORWARD -d ${cluster} -m comment --comment ${quote('pod network in')} -j ACCEPT`);

  for (const target of targets(inputs)) {
    const { service, port, portName, protocol, endpoints } = target;
    const clusterIP = service.spec!.clusterIP!;
    const match = `-p ${protocol} -m ${protocol} --dport`;
    const svc = serviceChain(portName, protocol);
    const nodePort = (service.spec?.type === 'NodePort' || service.spec?.type === 'LoadBalancer') && port.nodePort ? port.nodePort : undefined;
    if (endpoints.length === 0) {
      filter.push(`-A KUBE-SERVICES -d ${clusterIP}/32 ${match} ${port.port} -m comment --comment ${quote(`${portName} has no endpoints`)} -j REJECT --reject-with icmp-port-unreachable`);
      if (nodePort) {
        filter.push(`-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL ${match} ${nodePort} -m comment --comment ${quote(`${portName} has no endpoints`)} -j REJECT --reject-with icmp-port-unreachable`);
      }
      continue;
    }
    natChains.add(svc);
    nat.push(`-A KUBE-SERVICES -d ${clusterIP}/32 ${match} ${port.port} -m comment --comment ${quote(`${portName} cluster IP`)} -j ${svc}`);
    // From the node itself or the outside: masquerade, so the reply returns through here.
    nat.push(`-A ${svc} ! -s ${cluster} -d ${clusterIP}/32 ${match} ${port.port} -j KUBE-MARK-MASQ`);
    const affinity = service.spec?.sessionAffinity === 'ClientIP';
    const affinitySeconds = service.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? AFFINITY_DEFAULT_SECONDS;
    const endpointChains = endpoints.map((ep) => endpointChain(portName, protocol, ep));
    if (affinity) {
      endpointChains.forEach((sep) => nat.push(`-A ${svc} -m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinitySeconds} --reap -j ${sep}`));
    }
    endpointChains.forEach((sep, i) => {
      const remaining = endpoints.length - i;
      const pick = remaining > 1 ? `-m statistic --mode random --probability ${(1 / remaining).toFixed(10)} ` : '';
      nat.push(`-A ${svc} -m comment --comment ${quote(`${portName} -> ${endpoints[i]!.ip}:${endpoints[i]!.port}`)} ${pick}-j ${sep}`);
    });
    endpoints.forEach((ep, i) => {
      const sep = endpointChains[i]!;
      natChains.add(sep);
      // A pod reaching itself through its Service: masquerade, or the reply never leaves it.
      nat.push(`-A ${sep} -s ${ep.ip}/32 -j KUBE-MARK-MASQ`);
      const remember = affinity ? `-m recent --name ${sep} --mask 255.255.255.255 --rsource --set ` : '';
      nat.push(`-A ${sep} -p ${protocol} -m ${protocol} ${remember}-j DNAT --to-destination ${ep.ip}:${ep.port}`);
    });
    if (nodePort) {
      const ext = externalChain(portName, protocol);
      natChains.add(ext);
      nodePortRules.push(`-A KUBE-NODEPORTS ${match} ${nodePort} -m comment --comment ${quote(`${portName} node port`)} -j ${ext}`);
      nat.push(`-A ${ext} -j KUBE-MARK-MASQ`);
      nat.push(`-A ${ext} -j ${svc}`);
    }
  }
  nat.push(...nodePortRules);
  // Last: anything for a local address may be a NodePort.
  nat.push(`-A KUBE-SERVICES -m addrtype --dst-type LOCAL -m comment --comment ${quote('node ports; must be last')} -j KUBE-NODEPORTS`);

  const stale = (existing: string[] | undefined, wanted: Set<string>): string[] =>
    (existing ?? []).filter((c) => /^KUBE-(SVC|SEP|EXT)-/.test(c) && !wanted.has(c)).sort();
  const staleNat = stale(inputs.existingChains?.nat, natChains);
  const staleFilter = stale(inputs.existingChains?.filter, filterChains);
  // Declaring a chain flushes it; the stale ones are flushed (nothing jumps to them any more
  // once KUBE-SERVICES is rewritten) and then deleted, all in one atomic restore.
  return [
    '*nat',
    ...[...natChains, ...staleNat].map((c) => `:${c} - [0:0]`),
    ...nat,
    ...staleNat.map((c) => `-X ${c}`),
    'COMMIT',
    '*filter',
    ...[...filterChains, ...staleFilter].map((c) => `:${c} - [0:0]`),
    ...filter,
    ...staleFilter.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

/** The chain names of one table in `iptables-save` output (lines like ":KUBE-SVC-X - [0:0]"). */
export function chainsInSave(save: string): string[] {
  return save
    .split('\n')
    .filter((line) => line.startsWith(':'))
    .map((line) => line.slice(1).split(' ')[0]!);
}
