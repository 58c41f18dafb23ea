import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NODE_CODE_DIR, NODE_CONFIG_PATH, NODE_PKI_DIR, type NodeConfig } from '../common/node-config.js';
import { nodeBundleDir } from '../common/paths.js';
import { UserError } from '../common/errors.js';
import type { NodeFile } from '../docker/provider.js';
import type { CertificateAuthority, KeyPairPem } from './pki.js';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from './pki.js';
import type { ClusterSpec, Engine } from './spec.js';
import { kubeNodeCertificates, kubeNodeConfig, type ControlPlaneAddress, type KubeNodePlacement } from '../engines/kube/node-setup.js';
import { nodeContainerName } from './names.js';

/** The cluster's CA and the client certificate the host uses for the TLS Docker endpoints. */
export interface ClusterPki {
  ca: CertificateAuthority;
  client: KeyPairPem;
}

/** File names inside NODE_PKI_DIR. Managers hold the CA key, so a lost local state can be rebuilt. */
export const PKI_FILES = {
  ca: 'ca.pem',
  caKey: 'ca-key.pem',
  client: 'client-cert.pem',
  clientKey: 'client-key.pem',
  dockerd: 'dockerd-cert.pem',
  dockerdKey: 'dockerd-key.pem',
} as const;

export async function createClusterPki(cluster: string): Promise<ClusterPki> {
  const ca = await createCertificateAuthority(`clusterlab-${cluster}-ca`);
  const client = await issueClientCertificate(ca, { commonName: `clusterlab-${cluster}-admin`, organizations: ['system:masters'] });
  return { ca, client };
}

/** The bundled node code (built by `npm run build`), one file per role, by role. */
export type NodeBundles = Map<string, Buffer>;

/** The roles each engine's nodes run: the supervisor always, the control plane and agent on kube. */
export function bundleRoles(engine: Engine): string[] {
  return engine === 'kube' ? ['supervisor', 'apiserver', 'scheduler', 'controller-manager', 'dns', 'agent'] : ['supervisor'];
}

/** Reads the node code an engine needs, once per command. */
export async function readNodeBundles(engine: Engine): Promise<NodeBundles> {
  const bundles: NodeBundles = new Map();
  for (const role of bundleRoles(engine)) {
    const file = path.join(nodeBundleDir(), `${role}.js`);
    try {
      bundles.set(role, await readFile(file));
    } catch (err) {
      throw new UserError(`the node code is not built (${file} is missing)`, {
        hint: 'run `npm run build` (or `npm install`) in the clusterlab folder',
        cause: err,
      });
    }
  }
  return bundles;
}

export function nodeConfig(spec: ClusterSpec, placement: KubeNodePlacement, controlPlanes: ControlPlaneAddress[]): NodeConfig {
  const { node, ip } = placement;
  const pki = (name: string) => `${NODE_PKI_DIR}/${name}`;
  const kube = spec.engine === 'kube' ? kubeNodeConfig(spec, placement, controlPlanes) : undefined;
  return {
    cluster: spec.name,
    node: node.name,
    role: node.role,
    engine: spec.engine,
    ip,
    dockerd: {
      ...(node.role === 'manager' ? { tls: { caFile: pki(PKI_FILES.ca), certFile: pki(PKI_FILES.dockerd), keyFile: pki(PKI_FILES.dockerdKey) } } : {}),
    },
    ...(kube ? { kube } : {}),
  };
}

/** Everything a node needs in place before its first start. */
export async function nodeFiles(
  spec: ClusterSpec,
  placement: KubeNodePlacement,
  pki: ClusterPki,
  bundles: NodeBundles,
  controlPlanes: ControlPlaneAddress[],
): Promise<NodeFile[]> {
  const { node, ip } = placement;
  const pkiPath = (name: string) => `${NODE_PKI_DIR}/${name}`;
  const files: NodeFile[] = [
    { path: NODE_CONFIG_PATH, content: JSON.stringify(nodeConfig(spec, placement, controlPlanes), null, 2) + '\n' },
    ...[...bundles].map(([role, code]) => ({ path: `${NODE_CODE_DIR}/${role}.js`, content: code })),
    { path: pkiPath(PKI_FILES.ca), content: pki.ca.certPem },
  ];
  if (spec.engine === 'kube') files.push(...(await kubeNodeCertificates(spec, placement, pki.ca)));
  if (node.role === 'manager') {
    const server = await issueServerCertificate(pki.ca, {
      commonName: node.name,
      dnsNames: ['localhost', node.name, nodeContainerName(spec.name, node.name)],
      ipAddresses: ['127.0.0.1', ip],
    });
    files.push(
      { path: pkiPath(PKI_FILES.caKey), content: pki.ca.keyPem, mode: 0o600 },
      { path: pkiPath(PKI_FILES.client), content: pki.client.certPem },
      { path: pkiPath(PKI_FILES.clientKey), content: pki.client.keyPem, mode: 0o600 },
      { path: pkiPath(PKI_FILES.dockerd), content: server.certPem },
      { path: pkiPath(PKI_FILES.dockerdKey), content: server.keyPem, mode: 0o600 },
    );
  }
  return files;
}
