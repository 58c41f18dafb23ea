/**
 * The sample application images of the labs (images/apps/): chat, web v1/v2/v3 and probe,
 * built on the host with no registry. They share one base, clusterlab/app-runtime:<hash>,
 * made from files already on the host (its Node.js, the libraries `ldd` lists, busybox), so
 * the big layer is built once and stored once per node; each app image adds its own
 * few-kilobyte layer of JavaScript.
 *
 * The runtime is tagged by the hash of its inputs. The app images keep the fixed tags their
 * compose files and manifests name (clusterlab/web:v2), with the hash of their inputs in a
 * label: a build is skipped when the image under that tag carries the same hash.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import { execa } from 'execa';
import tar from 'tar-fs';
import { LABELS } from '../cluster/labels.js';
import { UserError } from '../common/errors.js';
import { imagesDir } from '../common/paths.js';
import { buildFromDir, recipeHashOf, type BuildProgress } from './image.js';

export const APP_RUNTIME_REPO = 'clusterlab/app-runtime';

export interface AppImageSpec {
  /** Folder under images/apps/ holding its Dockerfile and sources. */
  app: string;
  /** The tag compose files and manifests use. Never `latest`: kube would try to pull it. */
  ref: string;
  buildArgs: Readonly<Record<string, string>>;
}

export const APP_IMAGES: readonly AppImageSpec[] = [
  { app: 'chat', ref: 'clusterlab/chat:1', buildArgs: {} },
  { app: 'probe', ref: 'clusterlab/probe:1', buildArgs: {} },
  { app: 'web', ref: 'clusterlab/web:v1', buildArgs: { APP_VERSION: 'v1' } },
  { app: 'web', ref: 'clusterlab/web:v2', buildArgs: { APP_VERSION: 'v2' } },
  { app: 'web', ref: 'clusterlab/web:v3', buildArgs: { APP_VERSION: 'v3' } },
];

/** Busybox applets linked in the runtime: a shell and what one reaches for while debugging. */
export const RUNTIME_APPLETS = [
  'sh', 'ls', 'cat', 'echo', 'env', 'grep', 'head', 'tail', 'hostname', 'id', 'ps', 'kill', 'sleep',
  'nc', 'wget', 'nslookup', 'ip', 'netstat', 'top', 'df', 'du', 'date', 'mkdir', 'rm', 'true', 'false',
] as const;

export function appsDir(): string {
  return path.join(imagesDir(), 'apps');
}

// ---------------------------------------------------------------------------------------
// The runtime's inputs (pure parts first)

/** Host files the runtime is made of. */
export interface RuntimeSources {
  /** The Node.js executable. */
  node: string;
  /** Shared libraries it links, as the host's loader found them (ldd), the loader included. */
  libraries: string[];
  /** A statically linked busybox. */
  busybox: string;
}

/**
 * The library paths in `ldd` output, the dynamic loader included; the vDSO (no file) is
 * left out. A statically linked program gives none. Throws when a library is not found.
 */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line || /statically linked|not a dynamic executable/.test(line)) continue;
    const arrow = /^(\S+)\s+=>\s+(.*)$/.exec(line);
    if (arrow) {
      if (arrow[2]!.startsWith('not found')) missing.push(arrow[1]!);
      else {
        const target = /^(\/\S+)/.exec(arrow[2]!);
        if (target) paths.push(target[1]!);
      }
      continue;
    }
    const direct = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (direct) paths.push(direct[1]!);
  }
  if (missing.length > 0) throw new Error(`ldd: libraries not found: ${missing.join(', ')}`);
  return [...new Set(paths)];
}

/** One thing to create in the runtime's root file system. */
export type RootfsEntry =
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'file'; path: string; source: string; mode: number }
  | { kind: 'symlink'; path: string; target: string };

/**
 * Everything the runtime's root holds, in creation order: the recipe's own files
 * (images/apps/runtime/rootfs, given relative), busybox with its applet links, node, and each
 * library at the path the host's loader found it (so the copied loader finds it there too).
 * Paths are absolute within the image.
 */
export function runtimeRootfsPlan(sources: RuntimeSources, recipeDir: string, recipeFiles: readonly string[]): RootfsEntry[] {
  const files: RootfsEntry[] = [
    ...recipeFiles.map((rel): RootfsEntry => ({ kind: 'file', path: `/${rel}`, source: path.join(recipeDir, ...rel.split('/')), mode: 0o644 })),
    { kind: 'file', path: '/bin/busybox', source: sources.busybox, mode: 0o755 },
    ...RUNTIME_APPLETS.map((applet): RootfsEntry => ({ kind: 'symlink', path: `/bin/${applet}`, target: 'busybox' })),
    { kind: 'file', path: '/usr/bin/node', source: sources.node, mode: 0o755 },
    // Libraries keep their execute bit: the loader is run directly.
    ...sources.libraries.map((lib): RootfsEntry => ({ kind: 'file', path: lib, source: lib, mode: 0o755 })),
  ];
  const dirs = new Set<string>();
  const addWithParents = (dir: string): void => {
    for (let d = dir; d !== '/'; d = path.posix.dirname(d)) dirs.add(d);
  };
  ['/tmp', '/root', '/app', '/usr/local/bin'].forEach(addWithParents);
  for (const entry of files) addWithParents(path.posix.dirname(entry.path));
  const dirEntries = [...dirs]
    .sort()
    .map((dir): RootfsEntry => ({ kind: 'dir', path: dir, mode: dir === '/tmp' ? 0o1777 : dir === '/root' ? 0o700 : 0o755 }));
  return [...dirEntries, ...files];
}

/** The directories the libraries are in, for LD_LIBRARY_PATH (the image has no ld.so.cache). */
export function libraryPath(libraries: readonly string[]): string {
  return [...new Set(libraries.map((lib) => path.posix.dirname(lib)))].join(':');
}

/** The app image's input hash: the runtime it is built on, its build args, and its sources. */
export function appRecipeHash(parts: { runtimeRef: string; buildArgs: Readonly<Record<string, string>>; sharedHash: string; appHash: string; dockerfile: string }): string {
  const args = Object.entries(parts.buildArgs).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([parts.runtimeRef, args, parts.sharedHash, parts.appHash, parts.dockerfile]))
    .digest('hex')
    .slice(0, 12);
}

// ---------------------------------------------------------------------------------------
// Finding and hashing the host files

/**
 * The host's Node.js (the one running clusterlab unless CLUSTERLAB_APP_NODE says otherwise),
 * its libraries, and /bin/busybox (CLUSTERLAB_APP_BUSYBOX). Throws a UserError saying what to
 * install when something is missing.
 */
export async function findRuntimeSources(): Promise<RuntimeSources> {
  const node = process.env.CLUSTERLAB_APP_NODE || process.execPath;
  const busybox = process.env.CLUSTERLAB_APP_BUSYBOX || '/bin/busybox';
  if (!(await isFile(busybox))) {
    throw new UserError(`the sample apps' image needs a static busybox and ${busybox} is missing`, {
      hint: 'apt-get install busybox-static (or set CLUSTERLAB_APP_BUSYBOX to a statically linked busybox)',
    });
  }
  const ldd = await execa('ldd', [node], { reject: false, env: { LC_ALL: 'C' } });
  const out = `${String(ldd.stdout)}\n${String(ldd.stderr)}`;
  if (ldd.exitCode !== 0 && !/not a dynamic executable|statically linked/.test(out)) {
    throw new UserError(`cannot list the libraries of ${node} with ldd (exit ${ldd.exitCode ?? '?'}): ${out.trim()}`, {
      hint: 'the sample apps are built from the host\'s Node.js on Linux with glibc; set CLUSTERLAB_APP_NODE to another node binary',
    });
  }
  return { node, libraries: parseLdd(out), busybox };
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}

async function fileHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** The runtime's tag: its recipe folder, the applets and the content of every host file. */
export async function appRuntimeRef(sources: RuntimeSources): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`recipe ${await recipeHashOf(path.join(appsDir(), 'runtime'))}\n`);
  hash.update(`applets ${RUNTIME_APPLETS.join(',')}\n`);
  for (const [where, file] of [['/usr/bin/node', sources.node], ['/bin/busybox', sources.busybox], ...sources.libraries.map((l) => [l, l])] as const) {
    hash.update(`${where} ${await fileHash(file)}\n`);
  }
  return `${APP_RUNTIME_REPO}:${hash.digest('hex').slice(0, 12)}`;
}

// ---------------------------------------------------------------------------------------
// Building

export interface AppBuildOptions {
  onProgress?: BuildProgress;
  signal?: AbortSignal;
  /** Rebuild even when an image with the same inputs exists. */
  force?: boolean;
}

export interface BuiltImage {
  ref: string;
  /** False when an image with the same inputs was there already. */
  built: boolean;
  /** What `docker images` shows as its size, base layers included. */
  sizeBytes: number;
}

async function inspectOrUndefined(docker: Dockerode, ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** Writes the runtime's root file system as a tar at `file`: owned by root, modes exact. */
async function writeRootfsTar(plan: readonly RootfsEntry[], file: string): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-app-rootfs-'));
  try {
    for (const entry of plan) {
      const target = path.join(root, entry.path);
      if (entry.kind === 'dir') {
        await mkdir(target, { recursive: true });
        await chmod(target, entry.mode);
      } else if (entry.kind === 'symlink') {
        await symlink(entry.target, target);
      } else {
        // copyFile follows symlinks: libc.so.6 -> libc-2.36.so lands as the real file.
        await copyFile(entry.source, target);
        await chmod(target, entry.mode);
      }
    }
    // umask 0 keeps /tmp at 1777 (tar-fs applies the process umask otherwise); the owner
    // is root whoever runs the build. (`umask` is a tar-fs 3 option @types/tar-fs lacks.)
    const options: tar.PackOptions & { umask: number } = {
      umask: 0,
      map: (header) => ({ ...header, uid: 0, gid: 0, uname: 'root', gname: 'root' }),
    };
    await pipeline(tar.pack(root, options), createWriteStream(file));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** The files under `dir`, relative, posix separators, sorted. */
async function listRelative(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true });
  const files: string[] = [];
  for (const name of names) if (await isFile(path.join(dir, name))) files.push(name.split(path.sep).join('/'));
  return files.sort();
}

/** Builds clusterlab/app-runtime:<hash> unless it exists (or `force`). */
export async function buildAppRuntime(docker: Dockerode, opts: AppBuildOptions = {}): Promise<BuiltImage> {
  const progress = opts.onProgress ?? (() => {});
  const sources = await findRuntimeSources();
  const ref = await appRuntimeRef(sources);
  const present = await inspectOrUndefined(docker, ref);
  if (present && !opts.force) return { ref, built: false, sizeBytes: present.Size };

  const recipeDir = path.join(appsDir(), 'runtime');
  const rootfsDir = path.join(recipeDir, 'rootfs');
  const plan = runtimeRootfsPlan(sources, rootfsDir, await listRelative(rootfsDir));
  const context = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-app-runtime-'));
  try {
    progress(`${ref}: packing ${sources.node}, ${sources.libraries.length} libraries and busybox`);
    await writeRootfsTar(plan, path.join(context, 'rootfs.tar'));
    await copyFile(path.join(recipeDir, 'Dockerfile'), path.join(context, 'Dockerfile'));
    await buildFromDir(docker, {
      dir: context,
      ref,
      buildArgs: { LIBRARY_PATH: libraryPath(sources.libraries) },
      labels: { [LABELS.managed]: 'true', [LABELS.recipe]: ref.slice(ref.lastIndexOf(':') + 1) },
      onProgress: progress,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  const built = await docker.getImage(ref).inspect();
  return { ref, built: true, sizeBytes: built.Size };
}

/**
 * Builds the runtime, then every image of APP_IMAGES whose inputs changed (images/apps/ is
 * the build context; each app's Dockerfile copies what it needs). Returns the runtime first,
 * then the app images in APP_IMAGES order.
 */
export async function buildAppImages(docker: Dockerode, opts: AppBuildOptions = {}): Promise<BuiltImage[]> {
  const progress = opts.onProgress ?? (() => {});
  const runtime = await buildAppRuntime(docker, opts);
  const sharedHash = await recipeHashOf(path.join(appsDir(), 'shared'));
  const results: BuiltImage[] = [runtime];
  for (const spec of APP_IMAGES) {
    const dockerfile = `${spec.app}/Dockerfile`;
    const recipe = appRecipeHash({
      runtimeRef: runtime.ref,
      buildArgs: spec.buildArgs,
      sharedHash,
      appHash: await recipeHashOf(path.join(appsDir(), spec.app)),
      dockerfile,
    });
    const present = await inspectOrUndefined(docker, spec.ref);
    if (present && !opts.force && present.Config.Labels?.[LABELS.recipe] === recipe) {
      results.push({ ref: spec.ref, built: false, sizeBytes: present.Size });
      continue;
    }
    progress(`building ${spec.ref}`);
    await buildFromDir(docker, {
      dir: appsDir(),
      dockerfile,
      ref: spec.ref,
      buildArgs: { RUNTIME_IMAGE: runtime.ref, ...spec.buildArgs },
      labels: { [LABELS.managed]: 'true', [LABELS.recipe]: recipe },
      onProgress: progress,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const fresh = await docker.getImage(spec.ref).inspect();
    if (present && present.Id !== fresh.Id) await removeIfUnused(docker, present.Id);
    results.push({ ref: spec.ref, built: true, sizeBytes: fresh.Size });
  }
  return results;
}

/**
 * Removes the image a rebuild replaced under its tag, so rebuilds do not pile up untagged
 * images. The engine refuses while a container uses it or another tag names it: then it stays.
 */
async function removeIfUnused(docker: Dockerode, id: string): Promise<void> {
  try {
    await docker.getImage(id).remove();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== 409 && status !== 404) throw err;
  }
}

/** The refs of the app images (not the runtime), e.g. for `clusterlab image load`. */
export function appImageRefs(): string[] {
  return APP_IMAGES.map((spec) => spec.ref);
}
