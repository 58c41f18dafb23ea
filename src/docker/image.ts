/**
 * Building and moving images on the host's engine: the node image (images/node), its Debian
 * base (pulled, or made with debootstrap where no registry can be reached), and save/load of
 * image archives for offline classrooms (build once, carry on a USB stick).
 *
 * Every function takes the Dockerode instance: no module-level client.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type Dockerode from 'dockerode';
import { execa } from 'execa';
import tar from 'tar-fs';
import { LABELS } from '../cluster/labels.js';
import { CommandError, InterruptedError, UserError, messageOf } from '../common/errors.js';
import { imagesDir } from '../common/paths.js';

export const NODE_IMAGE_REPO = 'clusterlab/node';
/** The official slim image, used when present or pullable. */
export const DEBIAN_SLIM_IMAGE = 'debian:bookworm-slim';
/** The base made locally with debootstrap when no registry can be reached. */
export const DEBOOTSTRAP_BASE_IMAGE = 'clusterlab/debian:bookworm';
export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const PULL_TIMEOUT_MS = 20_000;

export interface BuildProgress {
  (line: string): void;
}

// ---------------------------------------------------------------------------------------
// Recipe hash and reference

export function nodeImageDir(): string {
  return path.join(imagesDir(), 'node');
}

/**
 * sha256 over every file under `dir`: sorted relative paths (posix separators) and contents,
 * first 12 hex characters. The same recipe gives the same tag, so an unchanged recipe costs
 * nothing and a changed one gets a new image.
 */
export async function recipeHashOf(dir: string): Promise<string> {
  const files = (await listFiles(dir)).sort();
  const hash = createHash('sha256');
  for (const rel of files) {
    const content = await readFile(path.join(dir, ...rel.split('/')));
    hash.update(`${rel}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex').slice(0, 12);
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel);
  }
  return out;
}

export function nodeImageRecipeHash(): Promise<string> {
  return recipeHashOf(nodeImageDir());
}

export async function nodeImageRef(): Promise<string> {
  return `${NODE_IMAGE_REPO}:${await nodeImageRecipeHash()}`;
}

// ---------------------------------------------------------------------------------------
// Small helpers

function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export async function imageExists(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if (statusCodeOf(err) === 404) return false;
    throw err;
  }
}

/** An AbortSignal that fires when any of `signals` does (AbortSignal.any needs Node 20.3). */
function anySignal(signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const onAbort = (): void => controller.abort();
  for (const s of present) {
    if (s.aborted) controller.abort();
    else s.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => present.forEach((s) => s.removeEventListener('abort', onAbort)),
  };
}

interface JsonMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: { ID?: string };
}

/**
 * Reads a Docker JSON-lines progress stream to its end, calling `onMessage` for each object.
 * Rejects when the stream errors (e.g. the request was aborted).
 */
function readJsonStream(stream: NodeJS.ReadableStream, onMessage: (msg: JsonMessage) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const flush = (final: boolean): void => {
      const lines = buffered.split('\n');
      buffered = final ? '' : (lines.pop() ?? '');
      for (const line of lines) {
        const trimmed = line.trim();
        if (!trimmed) continue;
        try {
          onMessage(JSON.parse(trimmed) as JsonMessage);
        } catch {
          onMessage({ stream: trimmed });
        }
      }
    };
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      flush(false);
    });
    stream.on('end', () => {
      flush(true);
      resolve();
    });
    stream.on('error', reject);
    stream.on('close', () => {
      flush(true);
      resolve();
    });
  });
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (err as { name?: string } | null)?.name === 'AbortError';
}

// ---------------------------------------------------------------------------------------
// Base image

/**
 * The base image to build the node image on: debian:bookworm-slim when present or pullable
 * (~20 s timeout), else clusterlab/debian:bookworm when present, else one made here with
 * debootstrap. Throws a UserError naming what is missing when none of that works.
 */
export async function ensureBaseImage(
  docker: Dockerode,
  opts: { onProgress?: BuildProgress; signal?: AbortSignal } = {},
): Promise<string> {
  const progress = opts.onProgress ?? (() => {});
  if (await imageExists(docker, DEBIAN_SLIM_IMAGE)) return DEBIAN_SLIM_IMAGE;

  progress(`base image: pulling ${DEBIAN_SLIM_IMAGE}`);
  const pullError = await tryPull(docker, DEBIAN_SLIM_IMAGE, PULL_TIMEOUT_MS, opts.signal);
  if (opts.signal?.aborted) throw new InterruptedError('interrupted while pulling the base image');
  if (pullError === undefined) return DEBIAN_SLIM_IMAGE;
  progress(`base image: pull failed (${pullError})`);

  if (await imageExists(docker, DEBOOTSTRAP_BASE_IMAGE)) {
    progress(`base image: using local ${DEBOOTSTRAP_BASE_IMAGE}`);
    return DEBOOTSTRAP_BASE_IMAGE;
  }

  const debootstrap = await which('debootstrap');
  const howToFix =
    `install debootstrap (apt-get install debootstrap) and run as root, or make ${DEBIAN_SLIM_IMAGE} available ` +
    `(docker pull ${DEBIAN_SLIM_IMAGE} where a registry is reachable, then docker save / docker load -i <file>)`;
  if (debootstrap === undefined) {
    throw new UserError(
      `no Debian base image: ${DEBIAN_SLIM_IMAGE} could not be pulled (${pullError}) and debootstrap is not installed`,
      { hint: howToFix },
    );
  }
  if (process.getuid?.() !== 0) {
    throw new UserError(
      `no Debian base image: ${DEBIAN_SLIM_IMAGE} could not be pulled (${pullError}) and debootstrap needs root to build one`,
      { hint: `run once as root (sudo) to build ${DEBOOTSTRAP_BASE_IMAGE}, or ${howToFix}` },
    );
  }
  await createDebootstrapImage(docker, DEBOOTSTRAP_BASE_IMAGE, {
    ...opts,
    debootstrap,
    mirror: process.env.CLUSTERLAB_DEBIAN_MIRROR || DEFAULT_DEBIAN_MIRROR,
  });
  return DEBOOTSTRAP_BASE_IMAGE;
}

/** Pulls `ref`; returns undefined on success or a short reason on failure. */
async function tryPull(
  docker: Dockerode,
  ref: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = anySignal([signal, timeout]);
  try {
    const stream = await docker.pull(ref, { abortSignal: combined.signal });
    let failure: string | undefined;
    await readJsonStream(stream, (msg) => {
      if (msg.error) failure = msg.error;
    });
    if (failure === undefined && !(await imageExists(docker, ref))) failure = 'image missing after pull';
    return failure;
  } catch (err) {
    if (timeout.aborted && !signal?.aborted) return `no answer within ${Math.round(timeoutMs / 1000)} s`;
    // "(HTTP code 500) server error - Get https://registry-1...: no such host" -> the useful part
    return (messageOf(err).split('\n')[0] ?? '').replace(/^\(HTTP code \d+\)[^-]*- /, '').trim();
  } finally {
    combined.dispose();
  }
}

async function which(command: string): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      const s = await stat(candidate);
      if (s.isFile() && (s.mode & 0o111) !== 0) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface DebootstrapOptions {
  onProgress?: BuildProgress;
  signal?: AbortSignal;
  /** The debootstrap executable. */
  debootstrap: string;
  mirror: string;
  suite?: string;
}

/**
 * debootstrap --variant=minbase into a temp dir, then import that directory as `ref` through
 * the Docker API (a tar-fs stream, no `docker` CLI). The temp dir is removed in every case,
 * also on abort; mounts debootstrap may leave behind when killed are unmounted first, so the
 * removal never walks into the host's /proc, /sys or /dev.
 */
export async function createDebootstrapImage(docker: Dockerode, ref: string, opts: DebootstrapOptions): Promise<void> {
  const progress = opts.onProgress ?? (() => {});
  const suite = opts.suite ?? 'bookworm';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-debootstrap-'));
  try {
    progress(`base image: debootstrap ${suite} from ${opts.mirror} (a minute or two)`);
    const command = [opts.debootstrap, '--variant=minbase', suite, dir, opts.mirror];
    const child = execa(command[0]!, command.slice(1), {
      all: true,
      reject: false,
      ...(opts.signal ? { cancelSignal: opts.signal } : {}),
      forceKillAfterDelay: 5_000,
      env: { LC_ALL: 'C' },
    });
    const tail: string[] = [];
    child.all?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (isDebootstrapPhase(line)) progress(shorten(`base image: debootstrap: ${line.slice(3).trim()}`, 100));
      }
    });
    const result = await child;
    if (opts.signal?.aborted) throw new InterruptedError('interrupted while building the base image');
    if (result.exitCode !== 0) {
      throw new CommandError(command, result.exitCode ?? -1, tail.join('\n'), '', 'the host (base image)');
    }
    await writeAptSources(dir, suite, opts.mirror);

    progress(`base image: importing ${ref}`);
    const pack = packDir(dir, {
      // Exact modes: tar-fs applies the process umask by default, which turns /tmp's 1777
      // into 1755 (apt-get then fails in every build on this base).
      umask: 0,
      // Containers get their own /dev, /proc and /sys; keep only the empty directories.
      ignore: (name) => /^(dev|proc|sys)\/./.test(path.relative(dir, name).split(path.sep).join('/')),
    });
    const [repo, tag] = splitRef(ref);
    const stream = await docker.importImage(pack, {
      repo,
      tag,
      changes: ['CMD ["/bin/bash"]', `LABEL ${LABELS.managed}=true`],
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    } as object);
    let failure: string | undefined;
    await readJsonStream(stream, (msg) => {
      if (msg.error) failure = msg.error;
    });
    if (failure !== undefined) throw new Error(`docker import of ${ref} failed: ${failure}`);
    if (!(await imageExists(docker, ref))) throw new Error(`docker import of ${ref} left no image`);
  } catch (err) {
    if (isAbort(err, opts.signal)) throw new InterruptedError('interrupted while building the base image');
    throw err;
  } finally {
    await removeTree(dir);
  }
}

/**
 * debootstrap prints an "I: ..." line per phase ("I: Retrieving Packages", "I: Unpacking
 * required packages...") and per package ("I: Retrieving libc6 2.36-9", "I: Unpacking
 * libc6..."): report the phases only.
 */
export function isDebootstrapPhase(line: string): boolean {
  if (!line.startsWith('I: ')) return false;
  const text = line.slice(3).trim();
  if (/^(Retrieving|Validating) \S+ \S+$/.test(text)) return false;
  if (/^(Extracting|Unpacking|Configuring) \S+\.\.\.$/.test(text)) return false;
  return true;
}

/** debootstrap writes only `<suite> main`; add updates and security as debian:bookworm-slim has. */
async function writeAptSources(root: string, suite: string, mirror: string): Promise<void> {
  const lines = [`deb ${mirror} ${suite} main`, `deb ${mirror} ${suite}-updates main`];
  // deb.debian.org/debian -> deb.debian.org/debian-security (also how apt-cacher-ng style mirrors map).
  if (/\/debian\/?$/.test(mirror)) lines.push(`deb ${mirror.replace(/\/?$/, '')}-security ${suite}-security main`);
  await writeFile(path.join(root, 'etc', 'apt', 'sources.list'), `${lines.join('\n')}\n`);
}

/** Unmounts anything still mounted under `dir` (deepest first), then removes it. */
async function removeTree(dir: string): Promise<void> {
  let mounts: string[] = [];
  try {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    mounts = info
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
      .map((m) => m.replace(/\\040/g, ' '))
      .sort((a, b) => b.length - a.length);
  } catch {
    // no /proc/self/mountinfo: nothing we can check
  }
  for (const mount of mounts) {
    await execa('umount', ['-l', mount], { reject: false });
  }
  if (mounts.length > 0) {
    const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    if (info.includes(` ${dir}/`)) {
      throw new Error(`could not unmount everything under ${dir}; remove it by hand after unmounting`);
    }
  }
  await rm(dir, { recursive: true, force: true });
}

/**
 * tar-fs packs with streamx streams; dockerode wants a Node stream. Errors (an unreadable
 * file) end the upload with that error. (`umask` is a tar-fs 3 option @types/tar-fs lacks.)
 */
function packDir(dir: string, opts: tar.PackOptions & { umask?: number } = {}): PassThrough {
  const out = new PassThrough();
  const pack = tar.pack(dir, opts);
  pack.on('error', (err: Error) => out.destroy(err));
  pack.pipe(out);
  return out;
}

function splitRef(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}

// ---------------------------------------------------------------------------------------
// Building

export interface BuildFromDirOptions {
  dir: string;
  /** The Dockerfile's path inside `dir`, when not `Dockerfile` at its top. */
  dockerfile?: string;
  ref: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  onProgress?: BuildProgress;
  signal?: AbortSignal;
}

/**
 * `docker build` of a context directory through the API (tar-fs pack of `dir`), reporting one
 * line per step. A failing step throws a CommandError carrying the step and its output tail.
 */
export async function buildFromDir(docker: Dockerode, opts: BuildFromDirOptions): Promise<void> {
  const progress = opts.onProgress ?? (() => {});
  let step = 'docker build';
  const tail: string[] = [];
  let failure: { message: string; code: number } | undefined;
  try {
    const stream = await docker.buildImage(packDir(opts.dir), {
      t: opts.ref,
      ...(opts.dockerfile ? { dockerfile: opts.dockerfile } : {}),
      buildargs: opts.buildArgs ?? {},
      labels: opts.labels ?? {},
      rm: true,
      forcerm: true,
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    });
    await readJsonStream(stream, (msg) => {
      if (msg.error) {
        failure = { message: msg.error, code: msg.errorDetail?.code ?? 1 };
        return;
      }
      for (const raw of (msg.stream ?? '').split('\n')) {
        // The classic builder colours the step's stderr; keep the text only.
        const line = raw.replace(/\x1b\[[0-9;]*m/g, '').trimEnd();
        if (!line.trim()) continue;
        if (/^Step \d+\/\d+ : /.test(line)) {
          step = line;
          tail.length = 0;
          progress(shorten(line, 100));
        } else {
          tail.push(line);
          if (tail.length > 40) tail.shift();
        }
      }
    });
  } catch (err) {
    if (isAbort(err, opts.signal)) throw new InterruptedError('interrupted while building the image');
    throw new Error(`docker build of ${opts.ref} failed: ${messageOf(err)}`, { cause: err });
  }
  if (opts.signal?.aborted) throw new InterruptedError('interrupted while building the image');
  if (failure !== undefined) {
    // The step's own output is the useful part; the daemon's message says which command failed.
    throw new CommandError([step], failure.code, [...tail, failure.message].join('\n'), '', `image build of ${opts.ref}`);
  }
  if (!(await imageExists(docker, opts.ref))) {
    throw new Error(`docker build of ${opts.ref} finished without the image; last output:\n${tail.slice(-10).join('\n')}`);
  }
}

function shorten(line: string, max: number): string {
  const flat = line.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/**
 * Builds images/node on the base from ensureBaseImage, tagged nodeImageRef() and labelled as
 * clusterlab's. Returns at once when that tag exists, unless `force`.
 */
export async function buildNodeImage(
  docker: Dockerode,
  opts: { onProgress?: BuildProgress; signal?: AbortSignal; force?: boolean } = {},
): Promise<string> {
  const hash = await nodeImageRecipeHash();
  const ref = `${NODE_IMAGE_REPO}:${hash}`;
  if (!opts.force && (await imageExists(docker, ref))) return ref;
  const base = await ensureBaseImage(docker, opts);
  opts.onProgress?.(`building ${ref} on ${base}`);
  await buildFromDir(docker, {
    dir: nodeImageDir(),
    ref,
    buildArgs: { BASE_IMAGE: base },
    labels: { [LABELS.managed]: 'true', [LABELS.recipe]: hash },
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return ref;
}

export async function ensureNodeImage(
  docker: Dockerode,
  opts: { onProgress?: BuildProgress; signal?: AbortSignal } = {},
): Promise<{ ref: string; built: boolean }> {
  const ref = await nodeImageRef();
  if (await imageExists(docker, ref)) return { ref, built: false };
  return { ref: await buildNodeImage(docker, { ...opts, force: true }), built: true };
}

// ---------------------------------------------------------------------------------------
// Save and load

function isGzipName(file: string): boolean {
  return /\.(t?gz)$/i.test(file);
}

/** docker save of `refs` into `file` (gzip when it ends .gz / .tgz), written atomically. */
export async function saveImages(
  docker: Dockerode,
  refs: string[],
  file: string,
  opts: { onProgress?: BuildProgress } = {},
): Promise<void> {
  if (refs.length === 0) throw new UserError('no images to save');
  const missing: string[] = [];
  for (const ref of refs) if (!(await imageExists(docker, ref))) missing.push(ref);
  if (missing.length > 0) {
    throw new UserError(`image${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`, {
      hint: 'build or load the image first (the node image is built by `clusterlab up`)',
    });
  }
  opts.onProgress?.(`saving ${refs.join(', ')} to ${file}`);
  const tmp = `${file}.partial-${process.pid}`;
  try {
    // dockerode has getImages (GET /images/get?names=...) but its typings do not.
    const getImages = (docker as unknown as { getImages(opts: object): Promise<Readable> }).getImages.bind(docker);
    const stream = await getImages({ names: refs });
    const out = createWriteStream(tmp);
    if (isGzipName(file)) await pipeline(stream, createGzip({ level: 6 }), out);
    else await pipeline(stream, out);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EACCES') {
      throw new UserError(`cannot write ${file}: ${messageOf(err)}`, { cause: err });
    }
    throw err;
  }
  const { size } = await stat(file);
  opts.onProgress?.(`saved ${file} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
}

/** docker load of an archive (gzip detected from its first bytes); returns the loaded refs. */
export async function loadImageArchive(
  docker: Dockerode,
  file: string,
  opts: { onProgress?: BuildProgress } = {},
): Promise<string[]> {
  let gzip: boolean;
  try {
    const handle = await open(file, 'r');
    try {
      const head = Buffer.alloc(2);
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      gzip = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new UserError(`cannot read image archive ${file}: ${messageOf(err)}`, {
      hint: 'give the path of a file made by `docker save` or `clusterlab image save`',
      cause: err,
    });
  }
  opts.onProgress?.(`loading ${file}`);

  // A broken gzip stream must end the upload (abort), or the request would wait forever.
  const controller = new AbortController();
  let streamError: unknown;
  const body = new PassThrough();
  const source = createReadStream(file);
  const fail = (err: unknown): void => {
    streamError ??= err;
    controller.abort();
    body.destroy();
  };
  source.on('error', fail);
  if (gzip) {
    const gunzip = createGunzip();
    gunzip.on('error', fail);
    source.pipe(gunzip).pipe(body);
  } else {
    source.pipe(body);
  }

  const loaded: string[] = [];
  let failure: string | undefined;
  try {
    const stream = await docker.loadImage(body, { quiet: true, abortSignal: controller.signal } as object);
    await readJsonStream(stream, (msg) => {
      if (msg.error) failure = msg.error;
      for (const line of (msg.stream ?? '').split('\n')) {
        const m = /^Loaded image(?: ID)?: (\S+)/.exec(line.trim());
        if (m) {
          loaded.push(m[1]!);
          opts.onProgress?.(`loaded ${m[1]!}`);
        }
      }
    });
  } catch (err) {
    failure = messageOf(streamError ?? err);
  }
  if (streamError !== undefined) failure = messageOf(streamError);
  if (failure !== undefined || loaded.length === 0) {
    throw new UserError(`could not load images from ${file}: ${failure ?? 'the archive holds no image'}`, {
      hint: 'the file may be truncated or not a `docker save` archive; save it again',
    });
  }
  return loaded;
}
