/** Names of things clusterlab creates, derived from the cluster and node names. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `value` is not a DNS-1123 label (as Kubernetes words it), or undefined when it is one. */
export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > 63) return `must be no more than 63 characters (has ${value.length})`;
  if (!DNS1123_LABEL.test(value)) {
    return "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc')";
  }
  return undefined;
}

/** Docker name of a node container: `<cluster>-<node>`, as kind names `kind-worker`. */
export function nodeContainerName(cluster: string, node: string): string {
  return `${cluster}-${node}`;
}

/** The /var/lib/docker volume of a node; survives stop/start, removed by `down`. */
export function nodeVolumeName(cluster: string, node: string): string {
  return `${cluster}-${node}-var-lib-docker`;
}

/** The host bridge network that joins a cluster's nodes. */
export function clusterNetworkName(cluster: string): string {
  return `clusterlab-${cluster}`;
}

/** kubeconfig context / docker context name for a cluster. */
export function contextName(cluster: string): string {
  return `clusterlab-${cluster}`;
}
