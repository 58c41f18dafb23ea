/** Where the cluster's DNS lives: the domain and the kube-dns Service's address (kubeadm's choices). */

export const CLUSTER_DOMAIN = 'cluster.local';

/** The kube-dns Service's address: the tenth of the service range (10.96.0.0/12 → 10.96.0.10). */
export function dnsServiceIp(serviceCidr: string): string {
  const [ip = ''] = serviceCidr.split('/');
  const base = ip.split('.').map(Number).reduce((value, part) => value * 256 + part, 0);
  const value = base + 10;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
