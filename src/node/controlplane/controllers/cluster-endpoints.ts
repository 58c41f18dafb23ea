/**
 * The addresses of the cluster's own services, which have no pods to select: `default/kubernetes`
 * (the API servers, port 6443) and `kube-system/kube-dns` (the DNS daemons, port 53), both
 * served by the control-plane nodes. Their Endpoints list the Ready control planes, so a
 * stopped control plane drops out of both. kube-apiserver keeps the first with its endpoint
 * reconciler and CoreDNS runs as pods; here both live on the control-plane nodes themselves.
 */
import type { EndpointAddress, EndpointPort, Endpoints, Node, Service } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../shared/api-client.js';
import { dnsServiceIp } from '../../shared/cluster-dns.js';
import type { ControllerContext } from './context.js';
import { WorkQueue } from './work-queue.js';

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
export const API_SERVER_PORT = 6443;
export const DNS_PORT = 53;


export function kubeDnsService(serviceCidr: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
    },
    spec: {
      clusterIP: dnsServiceIp(serviceCidr),
      ports: [
        { name: 'dns', port: DNS_PORT, protocol: 'UDP', targetPort: DNS_PORT },
        { name: 'dns-tcp', port: DNS_PORT, protocol: 'TCP', targetPort: DNS_PORT },
      ],
    },
  };
}

function internalIp(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The control planes to send traffic to: the Ready ones, or all of them while none is Ready yet. */
export function controlPlaneAddresses(nodes: Node[]): EndpointAddress[] {
  const planes = nodes.filter((n) => n.metadata?.labels?.[CONTROL_PLANE_LABEL] !== undefined && internalIp(n));
  const ready = planes.filter(isReady);
  return (ready.length > 0 ? ready : planes)
    .map((n) => ({ ip: internalIp(n)!, nodeName: n.metadata?.name ?? '' }))
    .sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
}

interface ClusterService {
  namespace: string;
  name: string;
  ports: EndpointPort[];
}

const CLUSTER_SERVICES: ClusterService[] = [
  { namespace: 'default', name: 'kubernetes', ports: [{ name: 'https', port: API_SERVER_PORT, protocol: 'TCP' }] },
  {
    namespace: 'kube-system',
    name: 'kube-dns',
    ports: [
      { name: 'dns', port: DNS_PORT, protocol: 'UDP' },
      { name: 'dns-tcp', port: DNS_PORT, protocol: 'TCP' },
    ],
  },
];

export function clusterEndpoints(service: ClusterService, addresses: EndpointAddress[], current: Endpoints | undefined): Endpoints | undefined {
  const subsets = addresses.length > 0 ? [{ addresses, ports: service.ports }] : [];
  if (current && JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets)) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: service.name,
      namespace: service.namespace,
      ...(service.name === 'kube-dns' ? { labels: { 'k8s-app': 'kube-dns' } } : {}),
      ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
    },
    ...(subsets.length > 0 ? { subsets } : {}),
  };
}

export function setupClusterEndpointsController(ctx: ControllerContext): () => Promise<void> {
  const nodes = ctx.informer<Node>('/api/v1/nodes');
  const endpoints = ctx.informer<Endpoints>('/api/v1/endpoints');
  const services = ctx.informer<Service>('/api/v1/services');
  const queue = new WorkQueue('cluster-endpoints', { log: ctx.log });
  const ALL = 'all';
  const facts = (n: Node): string => JSON.stringify([n.metadata?.labels?.[CONTROL_PLANE_LABEL], internalIp(n), isReady(n)]);
  nodes.onAdd(() => queue.add(ALL)).onUpdate((n, old) => facts(n) !== facts(old) && queue.add(ALL)).onDelete(() => queue.add(ALL));
  const isOurs = (obj: { metadata?: { namespace?: string; name?: string } }): boolean =>
    CLUSTER_SERVICES.some((s) => s.namespace === obj.metadata?.namespace && s.name === obj.metadata?.name);
  endpoints.onUpdate((e) => isOurs(e) && queue.add(ALL)).onDelete((e) => isOurs(e) && queue.add(ALL));
  services.onDelete((s) => isOurs(s) && queue.add(ALL));
  queue.add(ALL);

  const sync = async (): Promise<void> => {
    if (!services.get('kube-system/kube-dns')) {
      await ctx.client.create('/api/v1/namespaces/kube-system/services', kubeDnsService(ctx.settings.serviceCidr)).catch((err: unknown) => {
        if (!isConflict(err)) throw err; // another leader made it
      });
    }
    const addresses = controlPlaneAddresses(nodes.list());
    for (const service of CLUSTER_SERVICES) {
      const current = endpoints.get(`${service.namespace}/${service.name}`);
      const next = clusterEndpoints(service, addresses, current);
      if (!next) continue;
      const path = `/api/v1/namespaces/${service.namespace}/endpoints`;
      try {
        if (current) await ctx.client.update(`${path}/${service.name}`, next);
        else await ctx.client.create(path, next);
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) queue.addAfter(ALL, 200);
        else throw err;
      }
    }
  };
  return () => queue.run(sync, ctx.signal, 1);
}
