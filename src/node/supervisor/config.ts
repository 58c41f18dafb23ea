import type { NodeConfig } from '../../common/node-config.js';

/**
 * Reads the NodeConfig the host wrote. The host validates what it writes; this check catches
 * a missing or half-written file and an old host talking to a new node, naming every problem.
 */
export function parseNodeConfig(text: string): NodeConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`node config is not JSON: ${String(err)}`);
  }
  const problems: string[] = [];
  const obj = (value ?? {}) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push('must be an object');
  for (const key of ['cluster', 'node', 'ip'] as const) {
    if (typeof obj[key] !== 'string' || obj[key] === '') problems.push(`${key}: must be a non-empty string`);
  }
  if (obj.role !== 'manager' && obj.role !== 'worker') problems.push('role: must be manager or worker');
  if (obj.engine !== 'swarm' && obj.engine !== 'kube') problems.push('engine: must be swarm or kube');
  const dockerd = obj.dockerd as Record<string, unknown> | undefined;
  if (typeof dockerd !== 'object' || dockerd === null) {
    problems.push('dockerd: must be an object');
  } else {
    const tls = dockerd.tls as Record<string, unknown> | undefined;
    if (tls !== undefined) {
      for (const key of ['caFile', 'certFile', 'keyFile']) {
        if (typeof tls?.[key] !== 'string') problems.push(`dockerd.tls.${key}: must be a string`);
      }
    }
    const extra = dockerd.extraArgs;
    if (extra !== undefined && !(Array.isArray(extra) && extra.every((a) => typeof a === 'string'))) {
      problems.push('dockerd.extraArgs: must be a list of strings');
    }
  }
  if (obj.engine === 'kube') {
    const kube = obj.kube as Record<string, unknown> | undefined;
    if (typeof kube !== 'object' || kube === null) problems.push('kube: must be an object on kube nodes');
    else {
      if (typeof kube.controlPlane !== 'boolean') problems.push('kube.controlPlane: must be true or false');
      if (!Array.isArray(kube.apiServers) || kube.apiServers.length === 0) problems.push('kube.apiServers: must be a non-empty list');
      if (kube.controlPlane === true && typeof kube.etcd !== 'object') problems.push('kube.etcd: required on control planes');
      for (const key of ['clusterCidr', 'serviceCidr', 'version']) if (typeof kube[key] !== 'string') problems.push(`kube.${key}: must be a string`);
    }
  }
  if (problems.length > 0) throw new Error(`invalid node config: ${problems.join('; ')}`);
  return value as NodeConfig;
}
