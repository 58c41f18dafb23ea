/**
 * The labels the agent puts on every docker container it creates: the record from which a
 * restarted agent rebuilds what runs for which pod (nothing else is kept). Names follow the
 * kubelet's dockershim: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>.
 */

export const LABELS = {
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
  restartCount: 'io.kubernetes.container.restartCount',
  /** 'podsandbox' or 'container'. */
  containerType: 'io.kubernetes.docker.type',
  /** 'init' for init containers, absent otherwise. */
  containerKind: 'io.clusterlab.container.kind',
} as const;

/** The container name of a pod's sandbox in labels and docker names (dockershim's). */
export const SANDBOX_NAME = 'POD';

export interface PodRef {
  uid: string;
  name: string;
  namespace: string;
}

/** Who a docker container belongs to, read back from its labels. */
export interface ContainerIdentity extends PodRef {
  /** The pod's container name, or SANDBOX_NAME. */
  container: string;
  sandbox: boolean;
  init: boolean;
  /** restartCount: 0 for the first instance of a container. */
  attempt: number;
}

export function containerLabels(identity: ContainerIdentity): Record<string, string> {
  return {
    [LABELS.podUid]: identity.uid,
    [LABELS.podName]: identity.name,
    [LABELS.podNamespace]: identity.namespace,
    [LABELS.containerName]: identity.container,
    [LABELS.restartCount]: String(identity.attempt),
    [LABELS.containerType]: identity.sandbox ? 'podsandbox' : 'container',
    ...(identity.init ? { [LABELS.containerKind]: 'init' } : {}),
  };
}

/** The identity recorded in a container's labels, or undefined for containers the agent did not make. */
export function identityFromLabels(labels: Record<string, string> | undefined | null): ContainerIdentity | undefined {
  if (!labels) return undefined;
  const uid = labels[LABELS.podUid];
  const name = labels[LABELS.podName];
  const namespace = labels[LABELS.podNamespace];
  const container = labels[LABELS.containerName];
  if (!uid || !name || !namespace || !container) return undefined;
  const attempt = Number.parseInt(labels[LABELS.restartCount] ?? '0', 10);
  return {
    uid,
    name,
    namespace,
    container,
    sandbox: labels[LABELS.containerType] === 'podsandbox',
    init: labels[LABELS.containerKind] === 'init',
    attempt: Number.isFinite(attempt) && attempt >= 0 ? attempt : 0,
  };
}

/** The docker container name: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
export function dockerContainerName(identity: ContainerIdentity): string {
  return ['k8s', identity.container, identity.name, identity.namespace, identity.uid, String(identity.attempt)].join('_');
}
