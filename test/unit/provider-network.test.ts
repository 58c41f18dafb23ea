import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { ClusterSpec } from '../../src/cluster/spec.js';
import { DockerProvider } from '../../src/docker/provider.js';

/** Just enough of dockerode's network calls: a list of subnets, and an engine that refuses overlaps. */
function engineWith(subnets: string[], options: { raceOnce?: string; failWith?: string } = {}) {
  const created: string[] = [];
  let raced = false;
  const docker = {
    listNetworks: async () => subnets.map((s) => ({ IPAM: { Config: [{ Subnet: s }] } })),
    createNetwork: async (opts: { IPAM: { Config: { Subnet: string }[] } }) => {
      const subnet = opts.IPAM.Config[0]!.Subnet;
      if (options.failWith) throw new Error(options.failWith);
      // Another `up` took this /24 between our list and our create.
      if (options.raceOnce === subnet && !raced) {
        raced = true;
        subnets.push(subnet);
        throw new Error('(HTTP code 403) unexpected - Pool overlaps with other one on this address space');
      }
      created.push(subnet);
      subnets.push(subnet);
      return {};
    },
  };
  return { provider: new DockerProvider(docker as unknown as Docker), created };
}

const spec = { name: 'demo', engine: 'swarm', nodes: [] } as unknown as ClusterSpec;

describe('DockerProvider.createClusterNetwork', () => {
  it('takes the first free /24', async () => {
    const { provider, created } = engineWith(['172.17.0.0/16', '172.30.0.0/24']);
    expect(await provider.createClusterNetwork(spec, 'capabilities')).toBe('172.30.1.0/24');
    expect(created).toEqual(['172.30.1.0/24']);
  });

  it('moves on to the next /24 when a concurrent up took the same one first', async () => {
    const { provider, created } = engineWith(['172.30.0.0/24'], { raceOnce: '172.30.1.0/24' });
    expect(await provider.createClusterNetwork(spec, 'capabilities')).toBe('172.30.2.0/24');
    expect(created).toEqual(['172.30.2.0/24']);
  });

  it('passes other errors on, untouched', async () => {
    const { provider } = engineWith([], { failWith: 'network with name clusterlab-demo already exists' });
    await expect(provider.createClusterNetwork(spec, 'capabilities')).rejects.toThrow(/already exists/);
  });
});
