import { stat } from 'node:fs/promises';
import { loadImagesIntoNodes } from '../cluster/image-load.js';
import { openRuntime } from '../cluster/runtime.js';
import { buildNodeImage, loadImageArchive, nodeImageRef, saveImages } from '../docker/image.js';
import { withInterrupt } from './interrupt.js';
import type { GlobalOptions } from './main.js';
import { createReporter } from './progress.js';
import { stringOption } from './args.js';

export async function imageBuild(_args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const rt = await openRuntime();
  const reporter = createReporter({ verbose: global.verbose });
  if (options.apps) {
    const { buildAppImages } = await import('../docker/app-images.js');
    const images = await withInterrupt((signal) =>
      reporter.step('Building the sample application images', (detail) => buildAppImages(rt.docker, { onProgress: detail, signal, force: Boolean(options.force) })),
    );
    // The runtime first; each app image adds its own few kilobytes on top of it.
    const runtimeBytes = images[0]?.sizeBytes ?? 0;
    for (const [i, image] of images.entries()) {
      const size = i === 0 ? `${(image.sizeBytes / 1e6).toFixed(1)} MB` : `${((image.sizeBytes - runtimeBytes) / 1e3).toFixed(1)} kB on the runtime`;
      reporter.info(`  ${image.ref} ${size}${image.built ? '' : ' (up to date)'}`);
    }
    process.stdout.write(images.map((image) => `${image.ref}\n`).join(''));
    return 0;
  }
  const ref = await withInterrupt((signal) =>
    reporter.step('Building the node image', (detail) => buildNodeImage(rt.docker, { onProgress: detail, signal, force: Boolean(options.force) })),
  );
  process.stdout.write(ref + '\n');
  return 0;
}

export async function imageSave(args: string[], _options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const [file, ...images] = args;
  const rt = await openRuntime();
  const refs = images.length > 0 ? images : [await nodeImageRef()];
  const reporter = createReporter({ verbose: global.verbose });
  await reporter.step(`Saving ${refs.join(', ')} to ${file}`, (detail) => saveImages(rt.docker, refs, file!, { onProgress: detail }));
  return 0;
}

async function isFile(candidate: string): Promise<boolean> {
  return stat(candidate).then((s) => s.isFile(), () => false);
}

/**
 * Two jobs under one verb, told apart by the argument: an existing file is an archive to
 * load into the host's engine (from `image save`); anything else names host images to copy
 * into a cluster's nodes.
 */
export async function imageLoad(args: string[], options: Record<string, unknown>, global: GlobalOptions): Promise<number> {
  const rt = await openRuntime();
  const reporter = createReporter({ verbose: global.verbose });
  if (args.length === 1 && (await isFile(args[0]!))) {
    const refs = await reporter.step(`Loading ${args[0]} into the host engine`, (detail) => loadImageArchive(rt.docker, args[0]!, { onProgress: detail }));
    process.stdout.write(refs.map((r) => `${r}\n`).join(''));
    return 0;
  }
  const cluster = stringOption(options, 'name')!;
  const nodes = stringOption(options, 'nodes')?.split(',').map((n) => n.trim()).filter(Boolean);
  const loaded = await withInterrupt(() => loadImagesIntoNodes(rt, cluster, args, { nodes, reporter }));
  reporter.info(`Loaded ${args.join(', ')} into ${loaded.map((n) => n.name).join(', ')} of cluster "${cluster}".`);
  return 0;
}
