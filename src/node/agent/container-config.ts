/**
 * Pure translation from a pod (and what was resolved for it) to docker create bodies: the
 * sandbox that holds the pod's network, and each container joining it.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { expandReferences } from './env.js';
import { containerLabels, dockerContainerName, SANDBOX_NAME, type ContainerIdentity } from './labels.js';
import { parseQuantity } from './quantity.js';
import type { CreateRequest, DockerCreateConfig } from './runtime.js';

/** The sandbox image, built on each node from its own busybox (there is no registry). */
export const PAUSE_IMAGE = 'clusterlab/pause:1';

export function podIdentity(pod: Pod, container: string, attempt: number, kind: 'sandbox' | 'init' | 'app'): ContainerIdentity {
  return {
    uid: pod.metadata?.uid ?? '',
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? 'default',
    container,
    sandbox: kind === 'sandbox',
    init: kind === 'init',
    attempt,
  };
}

/** The pod's hostname: spec.hostname, else its name (cut to a DNS label). */
export function podHostname(pod: Pod): string {
  return (pod.spec?.hostname || pod.metadata?.name || 'pod').slice(0, 63);
}

/** Where the sandbox's network comes from: the pods' docker network, and the pod's resolv.conf on the node. */
export interface SandboxNetwork {
  /** Docker network of the pods ('bridge' when there is no pod network, as in unit tests). */
  network: string;
  /** The pod's resolv.conf on the node, mounted over /etc/resolv.conf in every container. */
  resolvConfPath?: string;
}

/** The bind of the pod's resolv.conf; docker then leaves /etc/resolv.conf alone. */
export function resolvConfBinds(network: SandboxNetwork | undefined): string[] {
  return network?.resolvConfPath ? [`${network.resolvConfPath}:/etc/resolv.conf`] : [];
}

export function sandboxRequest(pod: Pod, attempt: number, network: SandboxNetwork = { network: 'bridge' }): CreateRequest {
  const identity = podIdentity(pod, SANDBOX_NAME, attempt, 'sandbox');
  const hostNetwork = pod.spec?.hostNetwork === true;
  const ports = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].flatMap((c) => c.ports ?? []).filter((p) => p.hostPort);
  const portBindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  const exposed: Record<string, Record<string, never>> = {};
  if (!hostNetwork) {
    for (const port of ports) {
      const key = `${port.containerPort}/${(port.protocol ?? 'TCP').toLowerCase()}`;
      exposed[key] = {};
      (portBindings[key] ??= []).push({ ...(port.hostIP ? { HostIp: port.hostIP } : {}), HostPort: String(port.hostPort) });
    }
  }
  const config: DockerCreateConfig = {
    Image: PAUSE_IMAGE,
    ...(hostNetwork ? {} : { Hostname: podHostname(pod) }),
    Labels: containerLabels(identity),
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    HostConfig: {
      NetworkMode: hostNetwork ? 'host' : network.network,
      IpcMode: 'shareable',
      ...(network.resolvConfPath ? { Binds: resolvConfBinds(network) } : {}),
      RestartPolicy: { Name: 'no' },
      ...(Object.keys(portBindings).length > 0 ? { PortBindings: portBindings } : {}),
    },
  };
  return { name: dockerContainerName(identity), identity, config };
}

/** Kubernetes' command/args onto docker's Entrypoint/Cmd, with $(VAR) expanded from the container's env. */
export function entrypointAndCmd(container: Container, env: ReadonlyMap<string, string>): { Entrypoint?: string[]; Cmd?: string[] } {
  const command = (container.command ?? []).map((part) => expandReferences(part, env));
  const args = (container.args ?? []).map((part) => expandReferences(part, env));
  // An Entrypoint given at create makes dockerd ignore the image's CMD too: exactly
  // Kubernetes' rule that `command` without `args` drops the image's default arguments.
  return {
    ...(command.length > 0 ? { Entrypoint: command } : {}),
    ...(args.length > 0 ? { Cmd: args } : {}),
  };
}

export interface ContainerInputs {
  sandboxId: string;
  attempt: number;
  init: boolean;
  env: ReadonlyMap<string, string>;
  /** host:container[:ro] */
  binds: string[];
}

export function containerRequest(pod: Pod, container: Container, inputs: ContainerInputs): CreateRequest {
  const identity = podIdentity(pod, container.name, inputs.attempt, inputs.init ? 'init' : 'app');
  const security = container.securityContext ?? {};
  const podSecurity = pod.spec?.securityContext ?? {};
  const runAsUser = security.runAsUser ?? podSecurity.runAsUser;
  const runAsGroup = security.runAsGroup ?? podSecurity.runAsGroup;
  const memory = parseQuantity(container.resources?.limits?.memory);
  const cpuLimit = parseQuantity(container.resources?.limits?.cpu);
  const cpuRequest = parseQuantity(container.resources?.requests?.cpu ?? container.resources?.limits?.cpu);
  const config: DockerCreateConfig = {
    Image: container.image ?? '',
    ...entrypointAndCmd(container, inputs.env),
    Env: [...inputs.env].map(([name, value]) => `${name}=${value}`),
    ...(container.workingDir ? { WorkingDir: container.workingDir } : {}),
    ...(runAsUser !== undefined ? { User: runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser) } : {}),
    ...(container.tty ? { Tty: true } : {}),
    ...(container.stdin ? { OpenStdin: true, StdinOnce: container.stdinOnce === true } : {}),
    Labels: containerLabels(identity),
    HostConfig: {
      NetworkMode: `container:${inputs.sandboxId}`,
      IpcMode: `container:${inputs.sandboxId}`,
      Binds: inputs.binds,
      RestartPolicy: { Name: 'no' },
      ...(memory !== undefined && memory > 0 ? { Memory: Math.floor(memory) } : {}),
      ...(cpuLimit !== undefined && cpuLimit > 0 ? { NanoCpus: Math.round(cpuLimit * 1e9) } : {}),
      // The kubelet's cpu.shares from requests: 1024 per core, at least 2.
      ...(cpuRequest !== undefined && cpuRequest > 0 ? { CpuShares: Math.max(2, Math.round(cpuRequest * 1024)) } : {}),
      ...(security.privileged ? { Privileged: true } : {}),
      ...(security.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
      ...(security.capabilities?.add?.length ? { CapAdd: security.capabilities.add } : {}),
      ...(security.capabilities?.drop?.length ? { CapDrop: security.capabilities.drop } : {}),
    },
  };
  return { name: dockerContainerName(identity), identity, config };
}
