/**
 * What a kube node is given before its first start: its part of the node config (pure, unit
 * tested) and its certificates. The supervisor in the node reads both (src/node/supervisor).
 */
import { KUBE_API_PORT, KUBE_PKI_FILES, NODE_PKI_DIR, type KubeNodeConfig, type KubeTaint } from '../../common/node-config.js';
import type { NodeFile } from '../../docker/provider.js';
import type { CertificateAuthority } from '../../cluster/pki.js';
import { issueClientCertificate, issueServerCertificate } from '../../cluster/pki.js';
import { kubeSettings, type ClusterSpec, type NodeSpec } from '../../cluster/spec.js';
import { nodeContainerName } from '../../cluster/names.js';

/** The Kubernetes version the API server reports; /usr/bin/kubectl picks its binary by it. */
export const KUBE_VERSION = '1.33.0';
/** kubeadm's defaults: pods from 10.244.0.0/16 (a /24 per node), Services from 10.96.0.0/12. */
export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/12';
/** The `kubernetes` Service's address: the first of SERVICE_CIDR, in the serving certificate. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

/** A node's place in the cluster: what its kube config is computed from. */
export interface KubeNodePlacement {
  node: NodeSpec;
  /** Creation order. */
  index: number;
  ip: string;
}

export interface ControlPlaneAddress {
  name: string;
  ip: string;
}

/**
 * kubeadm's rule, as kind applies it: control planes are tainted NoSchedule when there are
 * workers to run pods; a cluster of control planes only is left untainted.
 */
export function controlPlaneTaints(spec: ClusterSpec): KubeTaint[] {
  return spec.nodes.some((n) => n.role === 'worker') ? [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }] : [];
}

export function kubeNodeConfig(spec: ClusterSpec, placement: KubeNodePlacement, controlPlanes: ControlPlaneAddress[]): KubeNodeConfig {
  const { node } = placement;
  const controlPlane = node.role === 'manager';
  if (controlPlanes.length === 0) throw new Error('a kube cluster needs at least one control plane');
  // A control plane talks to its own API server first; the others are fail-overs.
  const servers = controlPlane ? [{ name: node.name, ip: '127.0.0.1' }, ...controlPlanes.filter((c) => c.name !== node.name)] : controlPlanes;
  const labels: Record<string, string> = { ...node.labels };
  if (controlPlane) {
    labels[CONTROL_PLANE_LABEL] = '';
    labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
  }
  return {
    controlPlane,
    apiServers: servers.map((s) => `https://${s.ip}:${KUBE_API_PORT}`),
    ...(controlPlane
      ? { etcd: { name: node.name, initialCluster: controlPlanes.map((c) => `${c.name}=http://${c.ip}:2380`).join(',') } }
      : {}),
    nodeLabels: labels,
    nodeTaints: controlPlane ? controlPlaneTaints(spec) : [],
    clusterCidr: CLUSTER_CIDR,
    serviceCidr: SERVICE_CIDR,
    version: KUBE_VERSION,
    ...kubeSettings(spec),
  };
}

/** The certificates a kube node holds under NODE_PKI_DIR (see KUBE_PKI_FILES). */
export async function kubeNodeCertificates(spec: ClusterSpec, placement: KubeNodePlacement, ca: CertificateAuthority): Promise<NodeFile[]> {
  const at = (name: string) => `${NODE_PKI_DIR}/${name}`;
  const { node, ip } = placement;
  const nodeClient = await issueClientCertificate(ca, { commonName: `system:node:${node.name}`, organizations: ['system:nodes'] });
  // The API server reaches the agent by the node's address (Node.status.addresses).
  const kubeletServing = await issueServerCertificate(ca, { commonName: `system:node:${node.name}`, dnsNames: [node.name], ipAddresses: [ip] });
  const files: NodeFile[] = [
    { path: at(KUBE_PKI_FILES.nodeCert), content: nodeClient.certPem },
    { path: at(KUBE_PKI_FILES.nodeKey), content: nodeClient.keyPem, mode: 0o600 },
    { path: at(KUBE_PKI_FILES.kubeletCert), content: kubeletServing.certPem },
    { path: at(KUBE_PKI_FILES.kubeletKey), content: kubeletServing.keyPem, mode: 0o600 },
  ];
  if (node.role === 'manager') {
    const serving = await issueServerCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
        node.name,
        nodeContainerName(spec.name, node.name),
      ],
      ipAddresses: ['127.0.0.1', ip, KUBERNETES_SERVICE_IP],
    });
    const controlPlaneClient = await issueClientCertificate(ca, { commonName: 'clusterlab:controlplane', organizations: ['system:masters'] });
    files.push(
      { path: at(KUBE_PKI_FILES.apiserverCert), content: serving.certPem },
      { path: at(KUBE_PKI_FILES.apiserverKey), content: serving.keyPem, mode: 0o600 },
      { path: at(KUBE_PKI_FILES.controlPlaneCert), content: controlPlaneClient.certPem },
      { path: at(KUBE_PKI_FILES.controlPlaneKey), content: controlPlaneClient.keyPem, mode: 0o600 },
    );
  }
  return files;
}
