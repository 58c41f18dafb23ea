import type Docker from 'dockerode';
import type { Engine, NodeSpec } from '../cluster/spec.js';
import { LABELS } from '../cluster/labels.js';
import { clusterNetworkName, nodeContainerName, nodeVolumeName } from '../cluster/names.js';
import { KUBE_API_PORT, NODE_DOCKER_TLS_PORT } from '../common/node-config.js';

/**
 * How node containers get the powers a Docker engine inside them needs.
 * - privileged: `--privileged`, what kind and k3d use; works on ordinary Linux and Docker Desktop.
 * - capabilities: every capability but CAP_SYS_RESOURCE plus unconfined security profiles, for
 *   hosts that refuse --privileged (see shared/notes/docker-on-this-machine.md).
 */
export type RunMode = 'privileged' | 'capabilities';

export interface NodeContainerInput {
  cluster: string;
  engine: Engine;
  node: NodeSpec;
  /** Creation order, kept in a label so listings are stable. */
  index: number;
  /** Fixed address on the cluster network: the same after every restart. */
  ip: string;
  image: string;
  runMode: RunMode;
  /** cgroup v2 hosts give privileged nodes their own cgroup namespace (as kind does). */
  cgroupVersion: string;
  /** Host port (on 127.0.0.1) for the node's TLS Docker endpoint; managers only. */
  dockerPort?: number;
  /** Host port (on 127.0.0.1) for the node's Kubernetes API server; kube control planes only. */
  apiPort?: number;
  /** Mount the host's kernel modules read-only, so dockerd can load ip_vs / vxlan. */
  mountKernelModules: boolean;
}

/** @types/dockerode lacks CgroupnsMode, MaskedPaths and ReadonlyPaths (API 1.41); the engine accepts them. */
type NodeHostConfig = Docker.HostConfig & { CgroupnsMode?: 'host' | 'private'; MaskedPaths?: string[]; ReadonlyPaths?: string[] };

function portKey(containerPort: number, protocol: string): string {
  return `${containerPort}/${protocol}`;
}

/**
 * The pure translation from a node's spec to the engine's create options (k3d's
 * TranslateNodeToContainer). Tested without Docker; lifecycle code only applies it.
 */
export function nodeContainerCreateOptions(input: NodeContainerInput): Docker.ContainerCreateOptions {
  const { cluster, node } = input;
  const labels: Record<string, string> = {
    [LABELS.managed]: 'true',
    [LABELS.cluster]: cluster,
    [LABELS.node]: node.name,
    [LABELS.role]: node.role,
    [LABELS.engine]: input.engine,
    [LABELS.ip]: input.ip,
    [LABELS.index]: String(input.index),
  };

  const exposed: Record<string, object> = {};
  const bindings: Docker.PortMap = {};
  for (const port of node.ports) {
    const key = portKey(port.containerPort, port.protocol);
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.listenAddress, HostPort: String(port.hostPort) });
  }
  if (input.dockerPort !== undefined) {
    const key = portKey(NODE_DOCKER_TLS_PORT, 'tcp');
    exposed[key] = {};
    bindings[key] = [{ HostIp: '127.0.0.1', HostPort: String(input.dockerPort) }];
    labels[LABELS.dockerPort] = String(input.dockerPort);
  }
  if (input.apiPort !== undefined) {
    const key = portKey(KUBE_API_PORT, 'tcp');
    exposed[key] = {};
    bindings[key] = [{ HostIp: '127.0.0.1', HostPort: String(input.apiPort) }];
    labels[LABELS.apiPort] = String(input.apiPort);
  }

  const binds: string[] = [];
  if (input.mountKernelModules) binds.push('/lib/modules:/lib/modules:ro');

  const host: NodeHostConfig = {
    // Nodes come back after a restart of the host's engine or machine; `clusterlab stop`
    // (docker stop) keeps them down.
    RestartPolicy: { Name: 'unless-stopped' },
    Tmpfs: { '/run': 'rw,nosuid,nodev,exec', '/tmp': 'rw,nosuid,nodev,exec' },
    Mounts: [{ Type: 'volume', Source: nodeVolumeName(cluster, node.name), Target: '/var/lib/docker' }],
    PortBindings: bindings,
    // Nested engines fill their node's /var/lib/docker, not the host's log files.
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    Binds: binds,
  };

  if (input.runMode === 'privileged') {
    host.Privileged = true;
    if (input.cgroupVersion === '2') host.CgroupnsMode = 'private';
  } else {
    host.CapAdd = ['ALL'];
    host.CapDrop = ['SYS_RESOURCE'];
    host.SecurityOpt = ['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'];
    // The API form of `--security-opt systempaths=unconfined`: nothing under /proc or /sys masked or read-only.
    host.MaskedPaths = [];
    host.ReadonlyPaths = [];
    host.DeviceCgroupRules = ['a *:* rwm'];
    host.CgroupnsMode = 'host';
    binds.push('/sys/fs/cgroup:/sys/fs/cgroup:rw');
    // /dev/fuse, /dev/kmsg etc. are not needed; the device rule lets nested runc create what it needs.
  }

  if (node.memoryBytes !== undefined) {
    host.Memory = node.memoryBytes;
    host.MemorySwap = node.memoryBytes; // no swap beyond the limit: an OOM is an OOM, as on a VM
  }
  if (node.cpus !== undefined) host.NanoCpus = Math.round(node.cpus * 1e9);

  return {
    name: nodeContainerName(cluster, node.name),
    Hostname: node.name,
    Image: input.image,
    Labels: labels,
    ExposedPorts: exposed,
    Env: [`CLUSTERLAB_CLUSTER=${cluster}`, `CLUSTERLAB_NODE=${node.name}`],
    StopSignal: 'SIGTERM',
    // The supervisor stops its daemons within 15 s.
    StopTimeout: 20,
    HostConfig: host,
    NetworkingConfig: {
      EndpointsConfig: {
        [clusterNetworkName(cluster)]: {
          IPAMConfig: { IPv4Address: input.ip },
          Aliases: [node.name],
        },
      },
    },
  };
}
