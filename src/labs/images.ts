/**
 * The images a lab needs, in every node: there is no registry, so `lab start` copies them
 * from the host (`clusterlab image load`), and only into nodes that lack that exact image.
 */
import { UserError } from '../common/errors.js';
import { execIn } from '../docker/exec.js';
import type { Reporter } from '../cluster/reporter.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { loadImagesIntoNodes } from '../cluster/image-load.js';

/** Host image ids by ref; a UserError naming what is missing and how to get it. */
async function hostImageIds(rt: ClusterRuntime, refs: string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      ids.set(ref, (await rt.docker.getImage(ref).inspect()).Id);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      missing.push(ref);
    }
  }
  if (missing.length > 0) {
    throw new UserError(`the lab needs image${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not on this machine`, {
      hint:
        'build the sample applications first (see "Sample applications" in the README), ' +
        'or load them from a file made by `clusterlab image save` (clusterlab image load FILE)',
    });
  }
  return ids;
}

/** Copies the images into the running nodes that do not have them yet; returns the nodes loaded. */
export async function provideImages(rt: ClusterRuntime, cluster: string, refs: string[], reporter: Reporter): Promise<string[]> {
  if (refs.length === 0) return [];
  const ids = await hostImageIds(rt, refs);
  const nodes = (await rt.provider.listNodes(cluster)).filter((n) => n.state === 'running');
  const lacking = new Map<string, string[]>();
  await Promise.all(
    nodes.map(async (node) => {
      for (const ref of refs) {
        const seen = await execIn(rt.docker, node.containerId, ['docker', 'image', 'inspect', '--format', '{{.Id}}', ref], { timeoutMs: 15_000 });
        if (seen.exitCode !== 0 || seen.stdout.trim() !== ids.get(ref)) lacking.set(ref, [...(lacking.get(ref) ?? []), node.name]);
      }
    }),
  );
  const loaded = new Set<string>();
  // Grouped by the node set that lacks them: usually one load of everything into every node.
  const groups = new Map<string, string[]>();
  for (const [ref, names] of lacking) {
    const key = names.sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), ref]);
  }
  for (const [key, group] of groups) {
    const names = key.split(',');
    await loadImagesIntoNodes(rt, cluster, group, { nodes: names, reporter });
    names.forEach((n) => loaded.add(n));
  }
  return [...loaded].sort();
}
