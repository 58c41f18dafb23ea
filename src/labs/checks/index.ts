/** The check kinds, by their key in lab.yaml. */
import { availabilityCheck } from './availability.js';
import { imageCheck } from './image.js';
import { nodeCheck } from './node.js';
import { nodesCheck } from './nodes.js';
import { placementCheck } from './placement.js';
import { probeCheck } from './probe.js';
import { replicasCheck } from './replicas.js';
import { restartsCheck } from './restarts.js';
import { revisionsCheck } from './revisions.js';
import { rolloutCheck } from './rollout.js';
import { scriptCheck } from './script.js';
import { spreadCheck } from './spread.js';
import { urlCheck } from './url.js';

export const CHECK_KINDS = {
  nodes: nodesCheck,
  node: nodeCheck,
  replicas: replicasCheck,
  spread: spreadCheck,
  placement: placementCheck,
  image: imageCheck,
  restarts: restartsCheck,
  revisions: revisionsCheck,
  rollout: rolloutCheck,
  url: urlCheck,
  availability: availabilityCheck,
  probe: probeCheck,
  script: scriptCheck,
} as const;

export type CheckKindName = keyof typeof CHECK_KINDS;
export const CHECK_KIND_NAMES = Object.keys(CHECK_KINDS) as CheckKindName[];
