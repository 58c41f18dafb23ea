import type { Engine } from '../cluster/spec.js';
import type { ClusterEngine } from './engine.js';
import { kubeEngine } from './kube/kube.js';
import { swarmEngine } from './swarm/swarm.js';

export function engineFor(name: Engine): ClusterEngine {
  return name === 'swarm' ? swarmEngine : kubeEngine;
}
