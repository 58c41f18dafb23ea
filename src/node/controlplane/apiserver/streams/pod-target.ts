/**
 * Which container of which pod a stream request means, and whether it can be served yet:
 * kube-apiserver's checks (container name, node assigned) and the kubelet's (container state
 * for logs, running for exec/attach), with their messages word for word, because kubectl
 * prints them as they come.
 */
import type { Container, ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { badRequest } from '../status.js';

/** Init containers, containers, ephemeral containers: kube's VisitContainers order. */
function allContainerNames(pod: Pod): string[] {
  const spec = pod.spec;
  const named = (list: Array<Pick<Container, 'name'>> | undefined) => (list ?? []).map((c) => c.name);
  return [...named(spec?.initContainers), ...named(spec?.containers), ...named(spec?.ephemeralContainers)];
}

/** The container a request names, or the pod's only one; 400 as kube-apiserver answers otherwise. */
export function resolveContainer(pod: Pod, requested: string | null | undefined): string {
  const name = pod.metadata?.name ?? '';
  if (requested) {
    if (!allContainerNames(pod).includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${allContainerNames(pod).join(' ')}]`);
}

/** exec, attach and port-forward need the node the pod runs on (kube-apiserver's streamLocation). */
export function requireNode(pod: Pod): string {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod.metadata?.name ?? ''} does not have a host assigned`);
  return nodeName;
}

function containerStatus(pod: Pod, container: string): ContainerStatus | undefined {
  const status = pod.status;
  return [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? []), ...(status?.ephemeralContainerStatuses ?? [])].find(
    (s) => s.name === container,
  );
}

/**
 * Why the logs of a container cannot be read (the kubelet's validateContainerLogStatus), or
 * undefined when there is a container to read them from. A pod that is not scheduled yet, or
 * whose node has not reported the container, is waiting for it to be created.
 */
export function logUnavailableReason(pod: Pod, container: string, previous: boolean): string | undefined {
  const podName = pod.metadata?.name ?? '';
  const waitingToStart = (reason: string) => `container "${container}" in pod "${podName}" is waiting to start: ${reason}`;
  const status = pod.spec?.nodeName ? containerStatus(pod, container) : undefined;
  if (!status) return waitingToStart('ContainerCreating');
  const last = status.lastState?.terminated;
  const { waiting, running, terminated } = status.state ?? {};
  if (previous) {
    return last?.containerID ? undefined : `previous terminated container "${container}" in pod "${podName}" not found`;
  }
  if (running) return undefined;
  if (terminated) {
    if (terminated.containerID || last?.containerID) return undefined;
    return `container "${container}" in pod "${podName}" is terminated`;
  }
  if (last) return last.containerID ? undefined : `container "${container}" in pod "${podName}" is terminated`;
  if (waiting) {
    switch (waiting.reason) {
      case 'ErrImagePull':
        return waitingToStart("image can't be pulled");
      case 'ImagePullBackOff':
        return waitingToStart('trying and failing to pull image');
      default:
        return waitingToStart(waiting.reason ?? '');
    }
  }
  return `container "${container}" in pod "${podName}" is waiting to start - no logs yet`;
}

/** exec and attach reach only a running container; the kubelet's refusal otherwise (kubectl adds "unable to upgrade connection: "). */
export function notRunningReason(pod: Pod, container: string): string | undefined {
  return containerStatus(pod, container)?.state?.running ? undefined : `container not found ("${container}")`;
}
