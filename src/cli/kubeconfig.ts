import YAML from 'yaml';
import { requireCluster } from '../cluster/nodes.js';
import { openRuntime } from '../cluster/runtime.js';
import { UserError } from '../common/errors.js';
import { readKubeAccess } from '../engines/kube/host-api.js';
import { clusterKubeconfig } from '../engines/kube/kubeconfig.js';
import { stringOption } from './args.js';

/** `clusterlab kubeconfig`: the cluster's kubeconfig on stdout (kind get kubeconfig). */
export async function kubeconfig(_args: string[], options: Record<string, unknown>): Promise<number> {
  const name = stringOption(options, 'name')!;
  const rt = await openRuntime();
  const cluster = await requireCluster(rt, name);
  if (cluster.engine !== 'kube') {
    throw new UserError(`cluster "${name}" runs ${cluster.engine}, which has no kubeconfig`, { hint: `point the docker CLI at it instead: eval "$(clusterlab env --name ${name})"` });
  }
  const access = await readKubeAccess(rt.docker, await rt.provider.listNodes(name));
  process.stdout.write(YAML.stringify(clusterKubeconfig(name, access)));
  return 0;
}
