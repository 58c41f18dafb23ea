/** `node apiserver.js`: the Kubernetes API server of a control-plane node, on its local etcd member. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ETCD_CLIENT_PORT, KUBE_API_PORT, KUBE_PKI_FILES, NODE_PKI_DIR } from '../../common/node-config.js';
import { startApiServer } from '../controlplane/apiserver/server.js';
import { log, runProcess } from '../controlplane/process.js';
import { EtcdStore } from '../controlplane/store/etcd.js';

runProcess('apiserver', async (config, signal) => {
  const kube = config.kube!;
  const pki = (name: string) => readFileSync(path.join(NODE_PKI_DIR, name), 'utf8');
  // Each API server talks to the etcd member on its own node: with 3 control planes, a node
  // whose etcd lost quorum answers 503 and clients move on to another API server.
  const store = new EtcdStore({ endpoints: [`http://127.0.0.1:${ETCD_CLIENT_PORT}`] });
  const server = await startApiServer({
    store,
    tls: { ca: pki(KUBE_PKI_FILES.ca), cert: pki(KUBE_PKI_FILES.apiserverCert), key: pki(KUBE_PKI_FILES.apiserverKey) },
    host: '0.0.0.0',
    port: KUBE_API_PORT,
    serviceCidr: kube.serviceCidr,
    version: kube.version,
    ...(kube.defaultTolerationSeconds !== undefined ? { defaultTolerationSeconds: kube.defaultTolerationSeconds } : {}),
    // The agents' kubelet API (logs, exec, attach) trusts the cluster CA and system:masters.
    kubelet: { tls: { ca: pki(KUBE_PKI_FILES.ca), cert: pki(KUBE_PKI_FILES.controlPlaneCert), key: pki(KUBE_PKI_FILES.controlPlaneKey) } },
    log,
  });
  log(`API server serving on ${server.url}`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  await store.close();
});
