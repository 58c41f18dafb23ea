import { describe, expect, it } from 'vitest';
import {
  clusterNetworkName,
  contextName,
  dns1123LabelProblem,
  nodeContainerName,
  nodeVolumeName,
} from '../../src/cluster/names.js';
import { defaultNodeName, type NodeRole } from '../../src/cluster/spec.js';

describe('dns1123LabelProblem', () => {
  it.each(['a', 'lab', 'my-name', '123-abc', 'worker1', 'a-b-c', '0', 'a'.repeat(63)])('%j is a DNS-1123 label', (value) => {
    expect(dns1123LabelProblem(value)).toBeUndefined();
  });

  it.each<[string, RegExp]>([
    ['', /must not be empty/],
    ['a'.repeat(64), /no more than 63 characters \(has 64\)/],
    ['Lab', /lower case alphanumeric/],
    ['-lab', /must start and end with an alphanumeric/],
    ['lab-', /must start and end with an alphanumeric/],
    ['my_lab', /lower case alphanumeric characters or '-'/],
    ['my.lab', /lower case alphanumeric characters or '-'/],
    ['my lab', /lower case alphanumeric/],
    ['läb', /lower case alphanumeric/],
  ])('%j is not: %s', (value, problem) => {
    expect(dns1123LabelProblem(value)).toMatch(problem);
  });
});

describe('names derived from cluster and node names', () => {
  it.each([
    ['lab', 'leader', 'lab-leader', 'lab-leader-var-lib-docker'],
    ['class-1', 'worker2', 'class-1-worker2', 'class-1-worker2-var-lib-docker'],
  ])('%s / %s', (cluster, node, container, volume) => {
    expect(nodeContainerName(cluster, node)).toBe(container);
    expect(nodeVolumeName(cluster, node)).toBe(volume);
  });

  it.each(['lab', 'class-1'])('network and context of %s', (cluster) => {
    expect(clusterNetworkName(cluster)).toBe(`clusterlab-${cluster}`);
    expect(contextName(cluster)).toBe(`clusterlab-${cluster}`);
  });

  it('a 40-character cluster name (the config maximum) leaves every derived name a valid label', () => {
    const cluster = 'c'.repeat(40);
    expect(dns1123LabelProblem(nodeContainerName(cluster, 'manager12'))).toBeUndefined();
    expect(dns1123LabelProblem(clusterNetworkName(cluster))).toBeUndefined();
  });
});

describe('defaultNodeName', () => {
  it.each<[NodeRole, number, string]>([
    ['manager', 1, 'leader'],
    ['manager', 2, 'manager2'],
    ['manager', 3, 'manager3'],
    ['worker', 1, 'worker1'],
    ['worker', 12, 'worker12'],
  ])('%s #%d is %s', (role, ordinal, name) => {
    expect(defaultNodeName(role, ordinal)).toBe(name);
    expect(dns1123LabelProblem(name)).toBeUndefined();
  });
});
