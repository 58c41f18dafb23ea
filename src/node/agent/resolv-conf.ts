/**
 * The resolv.conf a pod's containers see, by the kubelet's rules for spec.dnsPolicy and
 * spec.dnsConfig. The agent writes it into the pod's directory and mounts it over
 * /etc/resolv.conf in every container of the pod (docker's own would point at its
 * embedded DNS server, which knows nothing of Services).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** glibc reads at most 3 nameservers and (since 2.26) any number of search domains; kube caps at 32. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_DOMAINS = 32;

export interface ClusterDns {
  /** The kube-dns Service's ClusterIP, e.g. 10.96.0.10. */
  nameserver: string;
  domain: string;
}

interface ResolverConfig {
  nameservers: string[];
  searches: string[];
  options: Array<{ name: string; value?: string }>;
}

/** Parses the parts of a resolv.conf that matter (nameserver, search/domain, options). */
export function parseResolvConf(text: string): ResolverConfig {
  const config: ResolverConfig = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...rest] = line.split(/\s+/);
    if (keyword === 'nameserver' && rest[0]) config.nameservers.push(rest[0]);
    else if (keyword === 'search' || keyword === 'domain') config.searches = rest;
    else if (keyword === 'options') {
      for (const option of rest) {
        const [name = '', value] = option.split(':');
        config.options.push(value === undefined ? { name } : { name, value });
      }
    }
  }
  return config;
}

/** What the pod's policy says before dnsConfig is merged in. */
function baseConfig(pod: Pod, dns: ClusterDns, nodeResolvConf: string): ResolverConfig {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec?.hostNetwork === true;
  const clusterFirst = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !hostNetwork);
  if (policy === 'None') return { nameservers: [], searches: [], options: [] };
  if (!clusterFirst) return parseResolvConf(nodeResolvConf);
  const namespace = pod.metadata?.namespace ?? 'default';
  return {
    nameservers: [dns.nameserver],
    searches: [`${namespace}.svc.${dns.domain}`, `svc.${dns.domain}`, dns.domain],
    options: [{ name: 'ndots', value: '5' }],
  };
}

export function podResolvConf(pod: Pod, dns: ClusterDns, nodeResolvConf: string): string {
  const config = baseConfig(pod, dns, nodeResolvConf);
  const extra = pod.spec?.dnsConfig;
  const nameservers = unique([...config.nameservers, ...(extra?.nameservers ?? [])]).slice(0, MAX_NAMESERVERS);
  const searches = unique([...config.searches, ...(extra?.searches ?? [])]).slice(0, MAX_SEARCH_DOMAINS);
  // A dnsConfig option replaces the policy's option of the same name (ndots:2 over ndots:5).
  const options = new Map(config.options.map((o) => [o.name, o.value]));
  for (const option of extra?.options ?? []) if (option.name) options.set(option.name, option.value ?? undefined);
  const lines = [
    ...nameservers.map((ns) => `nameserver ${ns}`),
    ...(searches.length > 0 ? [`search ${searches.join(' ')}`] : []),
    ...(options.size > 0 ? [`options ${[...options].map(([name, value]) => (value === undefined ? name : `${name}:${value}`)).join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}
