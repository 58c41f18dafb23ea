import { UserError } from '../common/errors.js';
import type { Engine } from '../cluster/spec.js';
import type { ClusterEngine } from './engine.js';
import { swarmEngine } from './swarm/swarm.js';

export function engineFor(name: Engine): ClusterEngine {
  if (name === 'swarm') return swarmEngine;
  throw new UserError(`the "${name}" engine is not available in this version of clusterlab`, {
    hint: 'use --engine swarm (the bundled Kubernetes-API control plane is being built)',
  });
}
