/**
 * The e2e files, longest first: two run at a time, and a long file started last would keep
 * the run going alone at the end. Vitest orders by the last run's durations when it has them
 * and by file size otherwise (a fresh clone, as in CI); file size says little here (the kube
 * labs are a short file that takes ten minutes), so the files known to be long go first.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Measured in CI, longest first; the rest keep vitest's order after these. */
const LONGEST_FIRST = ['labs-kube', 'labs-swarm', 'controllers', 'compare', 'node-image', 'swarm'];

function rank(spec: TestSpecification): number {
  const e2e = path.basename(path.dirname(spec.moduleId)) === 'e2e';
  const index = e2e ? LONGEST_FIRST.indexOf(path.basename(spec.moduleId, '.test.ts')) : -1;
  return index < 0 ? LONGEST_FIRST.length : index;
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const order = new Map(sorted.map((spec, i) => [spec, i]));
    // Stable within a project and group: vitest's own order breaks ties.
    return [...sorted].sort((a, b) => {
      const sameGroup = a.project.name === b.project.name;
      return sameGroup ? rank(a) - rank(b) || order.get(a)! - order.get(b)! : order.get(a)! - order.get(b)!;
    });
  }
}
