/** The Node object the agent registers and the status it reports, built in pure code. */
import type { ContainerImage, Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import { KUBELET_PORT, type KubeNodeConfig } from '../../common/node-config.js';
import type { MachineInfo } from './machine-info.js';
import { kubeTime } from './pod-status.js';
import type { ImageInfo } from './runtime.js';

export const MAX_PODS = 110;
/** The kubelet reports at most this many images (nodeStatusMaxImages). */
const MAX_IMAGES = 50;

export interface NodeIdentity {
  name: string;
  ip: string;
  kube: Pick<KubeNodeConfig, 'nodeLabels' | 'nodeTaints' | 'clusterCidr' | 'serviceCidr' | 'version' | 'nodeMonitorGracePeriodSeconds'>;
}

export function nodeLabels(node: NodeIdentity, machine: Pick<MachineInfo, 'architecture'>): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': machine.architecture,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': machine.architecture,
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
    ...node.kube.nodeLabels,
  };
}

/** The Node to create when none exists: labels and taints (registration only); the controller manager gives its pod CIDR. */
export function registrationNode(node: NodeIdentity, machine: MachineInfo): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: nodeLabels(node, machine),
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {
      ...(node.kube.nodeTaints.length > 0 ? { taints: node.kube.nodeTaints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })) } : {}),
    },
  };
}

/** For an existing Node: our labels (others' stay). Taints and the pod CIDR are left alone. */
export function reregistrationPatch(node: NodeIdentity, machine: MachineInfo): Record<string, unknown> {
  return { metadata: { labels: nodeLabels(node, machine) } };
}

export interface NodeStatusInputs {
  node: NodeIdentity;
  machine: MachineInfo;
  /** undefined when the container runtime does not answer. */
  runtimeVersion: string | undefined;
  images: ImageInfo[];
  previous: NodeCondition[];
  now: Date;
}

function nodeCondition(type: string, status: 'True' | 'False', reason: string, message: string, previous: NodeCondition[], now: Date): NodeCondition {
  const old = previous.find((c) => c.type === type);
  const time = kubeTime(now);
  return {
    type,
    status,
    lastHeartbeatTime: time,
    lastTransitionTime: old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : time,
    reason,
    message,
  };
}

export function nodeImages(images: ImageInfo[]): ContainerImage[] {
  return images
    .map((image) => ({
      names: [...image.repoDigests, ...image.repoTags].filter((name) => !name.includes('<none>')),
      sizeBytes: image.sizeBytes,
    }))
    .filter((image) => image.names.length > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, MAX_IMAGES);
}

export function buildNodeStatus(inputs: NodeStatusInputs): NodeStatus {
  const { node, machine, now, previous } = inputs;
  const resources = {
    cpu: String(machine.cpuCores),
    memory: `${Math.floor(machine.memoryBytes / 1024)}Ki`,
    pods: String(MAX_PODS),
    'ephemeral-storage': `${Math.floor(machine.ephemeralStorageBytes / 1024)}Ki`,
  };
  const runtimeUp = inputs.runtimeVersion !== undefined;
  return {
    capacity: resources,
    allocatable: { ...resources },
    conditions: [
      nodeCondition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', previous, now),
      nodeCondition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', previous, now),
      nodeCondition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', previous, now),
      runtimeUp
        ? nodeCondition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', previous, now)
        : nodeCondition('Ready', 'False', 'KubeletNotReady', 'container runtime is down', previous, now),
    ],
    addresses: [
      { type: 'InternalIP', address: node.ip },
      { type: 'Hostname', address: node.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
    nodeInfo: {
      machineID: machine.machineID,
      systemUUID: machine.systemUUID,
      bootID: machine.bootID,
      kernelVersion: machine.kernelVersion,
      osImage: machine.osImage,
      containerRuntimeVersion: `docker://${inputs.runtimeVersion ?? 'unknown'}`,
      kubeletVersion: `v${node.kube.version}`,
      kubeProxyVersion: `v${node.kube.version}`,
      operatingSystem: 'linux',
      architecture: machine.architecture,
    },
    images: nodeImages(inputs.images),
  };
}

/** Whether the status differs other than in heartbeat times (then it is written at once). */
export function nodeStatusChanged(previous: NodeStatus | undefined, next: NodeStatus): boolean {
  const strip = (status: NodeStatus | undefined): string =>
    JSON.stringify({ ...status, conditions: (status?.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
  return strip(previous) !== strip(next);
}
