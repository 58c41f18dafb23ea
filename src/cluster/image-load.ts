import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../common/errors.js';
import { execOrThrow } from '../docker/exec.js';
import type { NodeRecord } from '../docker/provider.js';
import { requireCluster } from './nodes.js';
import type { Reporter } from './reporter.js';
import type { ClusterRuntime } from './runtime.js';

/** Refs that are not on the host's engine. */
async function missingImages(rt: ClusterRuntime, refs: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      await rt.docker.getImage(ref).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) missing.push(ref);
      else throw err;
    }
  }
  return missing;
}

/**
 * `clusterlab image load IMAGE…` (kind's `load docker-image`): each node has its own engine
 * and there is no registry, so host images are saved once to a temporary archive and fed to
 * `docker load` in every chosen node.
 */
export async function loadImagesIntoNodes(rt: ClusterRuntime, clusterName: string, refs: string[], options: { nodes?: string[]; reporter: Reporter }): Promise<NodeRecord[]> {
  await requireCluster(rt, clusterName);
  const all = await rt.provider.listNodes(clusterName);
  let targets = all;
  if (options.nodes?.length) {
    const unknown = options.nodes.filter((n) => !all.some((a) => a.name === n));
    if (unknown.length) throw new UserError(`no node named ${unknown.join(', ')} in cluster "${clusterName}"`, { hint: `its nodes: ${all.map((n) => n.name).join(', ')}` });
    targets = all.filter((n) => options.nodes!.includes(n.name));
  }
  const stopped = targets.filter((n) => n.state !== 'running');
  if (stopped.length) throw new UserError(`node${stopped.length > 1 ? 's' : ''} not running: ${stopped.map((n) => `${n.name} (${n.state})`).join(', ')}`, { hint: 'start them first, or choose nodes with --nodes' });
  const missing = await missingImages(rt, refs);
  if (missing.length) {
    throw new UserError(`image${missing.length > 1 ? 's' : ''} not found on the host: ${missing.join(', ')}`, { hint: 'build or load it on the host first (docker build / docker load), then load it into the cluster' });
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-load-'));
  const archive = path.join(dir, 'images.tar');
  try {
    await options.reporter.step(`Saving ${refs.join(', ')} from the host`, async () => {
      // dockerode has getImages (GET /images/get?names=…), its typings do not.
      const getImages = (rt.docker as unknown as { getImages(o: object): Promise<NodeJS.ReadableStream> }).getImages.bind(rt.docker);
      await pipeline(await getImages({ names: refs }), createWriteStream(archive));
    });
    await options.reporter.step(`Loading into ${targets.map((n) => n.name).join(', ')}`, () =>
      Promise.all(
        targets.map((node) =>
          execOrThrow(rt.docker, node.containerId, ['docker', 'load', '--quiet'], { stdin: createReadStream(archive), timeoutMs: 600_000 }, `node ${node.name}`),
        ),
      ),
    );
    return targets;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
