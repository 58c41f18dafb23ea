/**
 * The Endpoints object a Service with a selector should have, from its pods: ready pods in
 * `addresses`, the others in `notReadyAddresses` (so kube-proxy and DNS leave them out), ports
 * resolved per pod (a named targetPort may be a different number in each pod), and pods with
 * the same resolved ports grouped into one subset, as kube's endpoints controller does.
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { isPodReady } from './pod-state.js';

/** kube's annotation: when the change that led to this Endpoints version happened. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** The pods a Service selects: same namespace, matching labels, with an address, not finished or being deleted. */
export function selectedPods(service: Service, pods: Pod[]): Pod[] {
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  return pods.filter(
    (pod) =>
      pod.metadata?.namespace === service.metadata?.namespace &&
      selectorMatches(selector, pod.metadata?.labels) &&
      Boolean(pod.status?.podIP) &&
      pod.metadata?.deletionTimestamp === undefined &&
      pod.status?.phase !== 'Succeeded' &&
      pod.status?.phase !== 'Failed',
  );
}

/** The container port a service port points at in this pod; undefined when a named port is missing. */
export function resolveTargetPort(port: ServicePort, pod: Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
    }
  }
  return undefined;
}

function podAddress(pod: Pod, service: Service): EndpointAddress {
  const address: EndpointAddress = {
    ip: pod.status!.podIP!,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  };
  // A pod's own DNS name under a headless Service: hostname + subdomain = the service's name.
  if (pod.spec?.hostname && pod.spec.subdomain === service.metadata?.name) address.hostname = pod.spec.hostname;
  return address;
}

const byIp = (a: EndpointAddress, b: EndpointAddress): number => a.ip.localeCompare(b.ip, 'en', { numeric: true });

export function desiredSubsets(service: Service, pods: Pod[]): EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of selectedPods(service, pods)) {
    const ports: EndpointPort[] = [];
    for (const port of service.spec?.ports ?? []) {
      const number = resolveTargetPort(port, pod);
      if (number === undefined) continue;
      ports.push({ ...(port.name ? { name: port.name } : {}), port: number, protocol: port.protocol ?? 'TCP', ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}) });
    }
    // A headless Service without ports still lists its pods (DNS needs them).
    if (ports.length === 0 && (service.spec?.ports ?? []).length > 0) continue;
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, ready: [], notReady: [] };
    groups.set(key, group);
    (publishNotReady || isPodReady(pod) ? group.ready : group.notReady).push(podAddress(pod, service));
  }
  return [...groups.values()]
    .map((g) => ({
      ...(g.ready.length > 0 ? { addresses: g.ready.sort(byIp) } : {}),
      ...(g.notReady.length > 0 ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
      ...(g.ports.length > 0 ? { ports: g.ports } : {}),
    }))
    .sort((a, b) => JSON.stringify(a.ports ?? []).localeCompare(JSON.stringify(b.ports ?? [])));
}

export function endpointsLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  if (service.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

/** The Endpoints to write, or undefined when the current one already says the same. */
export function endpointsUpdate(service: Service, pods: Pod[], current: Endpoints | undefined, now: Date): Endpoints | undefined {
  const subsets = desiredSubsets(service, pods);
  const labels = endpointsLabels(service);
  if (current && JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(current.metadata?.labels ?? {}) === JSON.stringify(labels)) {
    return undefined;
  }
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: service.metadata?.name ?? '',
      namespace: service.metadata?.namespace ?? 'default',
      labels,
      annotations: { ...(current?.metadata?.annotations ?? {}), [LAST_CHANGE_TRIGGER_TIME]: now.toISOString().replace(/\.\d+Z$/, 'Z') },
      ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
    },
    ...(subsets.length > 0 ? { subsets } : {}),
  };
}
