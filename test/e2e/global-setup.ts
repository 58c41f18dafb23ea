// Runs once before the e2e project: every e2e test needs the host's real Docker engine, so
// fail loudly, once, with what to do, instead of letting each test time out. Then prepares
// what the CLI tests share: the built CLI, the node image, the tiny busybox test image, and
// a CLUSTERLAB_HOME of their own (the user's ~/.clusterlab is never touched).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** CLUSTERLAB_HOME for every CLI run of this test run. */
    clusterlabHome: string;
    /** The node image ref `clusterlab image build` printed. */
    nodeImage: string;
    /** Debian's kubectl 1.20, the oldest the kube engine must serve. */
    kubectlOld: string;
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The busybox test image: services, httpd, nc, no registry needed. */
export const TEST_IMAGE = 'clusterlab-test/busybox:1';
const TEST_IMAGE_RECIPE_LABEL = 'dev.clusterlab-test.recipe';
const BUSYBOX = '/bin/busybox';
const APPLETS = [
  'sh', 'nc', 'httpd', 'hostname', 'mkdir', 'cat', 'sleep', 'echo', 'printf', 'ls', 'wget', 'env', 'ip',
  'ps', 'id', 'head', 'tail', 'grep', 'true', 'false', 'seq', 'date',
];

/** Environment for commands run on the host: the host engine, never a cluster's. */
function hostEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CLUSTERLAB_HOME: home };
  for (const key of Object.keys(env)) if (key.startsWith('DOCKER_') || key === 'CLUSTERLAB_ACTIVE_CLUSTER' || key === 'CLUSTERLAB_CLUSTER') delete env[key];
  return env;
}

/** Imports the busybox image unless one made from the same recipe is present. */
async function ensureTestImage(docker: Dockerode, env: NodeJS.ProcessEnv): Promise<void> {
  if (!existsSync(BUSYBOX)) {
    throw new Error(`e2e tests need ${BUSYBOX} for their test image: apt-get install busybox-static`);
  }
  const recipe = createHash('sha256')
    .update(await readFile(BUSYBOX))
    .update(APPLETS.join(','))
    .digest('hex')
    .slice(0, 12);
  const present = await docker
    .getImage(TEST_IMAGE)
    .inspect()
    .then((i) => i.Config.Labels?.[TEST_IMAGE_RECIPE_LABEL], () => undefined);
  if (present === recipe) return;

  const root = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-busybox-'));
  try {
    await mkdir(path.join(root, 'bin'));
    await copyFile(BUSYBOX, path.join(root, 'bin', 'busybox'));
    for (const applet of APPLETS) await symlink('busybox', path.join(root, 'bin', applet));
    await mkdir(path.join(root, 'tmp'));
    const tar = execa('tar', ['-C', root, '-c', '.'], { env });
    const imported = execa(
      'docker',
      ['import', '-c', 'CMD ["/bin/sh"]', '-c', `LABEL ${TEST_IMAGE_RECIPE_LABEL}=${recipe}`, '-', TEST_IMAGE],
      { env, reject: false },
    );
    tar.stdout.pipe(imported.stdin);
    const [, result] = await Promise.all([tar, imported]);
    if (result.exitCode !== 0) throw new Error(`docker import of ${TEST_IMAGE} failed (exit ${result.exitCode}): ${result.stderr}`);
    console.log(`e2e: imported ${TEST_IMAGE} from ${BUSYBOX} (recipe ${recipe})`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Debian's kubectl 1.20 (package kubernetes-client), unpacked beside the other test caches:
 * installing the package would replace the machine's /usr/bin/kubectl.
 */
async function ensureOldKubectl(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = path.join(os.homedir(), '.cache', 'clusterlab-e2e', 'kubectl-1.20');
  const binary = path.join(dir, 'usr', 'bin', 'kubectl');
  if (existsSync(binary)) return binary;
  const work = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-kubectl-'));
  try {
    const download = await execa('apt-get', ['download', 'kubernetes-client'], { cwd: work, env, reject: false });
    const deb = (await readdir(work)).find((f) => f.startsWith('kubernetes-client_') && f.endsWith('.deb'));
    if (download.exitCode !== 0 || !deb) {
      throw new Error(`e2e tests need Debian's kubectl 1.20 and \`apt-get download kubernetes-client\` failed (exit ${download.exitCode}): ${download.stderr}`);
    }
    await mkdir(dir, { recursive: true });
    await execa('dpkg', ['-x', path.join(work, deb), dir], { env });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const version = await execa(binary, ['version', '--client', '--short'], { env, reject: false });
  console.log(`e2e: old kubectl ${binary}: ${version.stdout.trim()}`);
  return binary;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const docker = new Dockerode(); // honours DOCKER_HOST like the docker CLI
  const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `e2e tests need a running Docker engine, and none answered at ${where}: ${err instanceof Error ? err.message : String(err)}\n` +
        'Start one (apt-get install -y docker.io; dockerd > /tmp/dockerd.log 2>&1 &) or point DOCKER_HOST at one, then run again.',
    );
  }
  const version = await docker.version();
  console.log(`e2e: Docker ${version.Version} (API ${version.ApiVersion}) at ${where}`);
  if (process.env.DOCKER_HOST) {
    console.log('e2e: note: the CLI tests run clusterlab and docker without DOCKER_* variables, so they use /var/run/docker.sock');
  }

  // The CLI tests drive the built CLI; `npm test` and .ci/run build it first.
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error(`e2e tests drive the built CLI, and ${path.join(ROOT, 'dist/cli/main.js')} is missing: run \`npm run build\` first`);
  }

  const home = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-e2e-home-'));
  const env = hostEnv(home);

  const started = Date.now();
  const built = await execa(path.join(ROOT, 'bin', 'clusterlab'), ['image', 'build'], { env, reject: false, cwd: ROOT });
  if (built.exitCode !== 0) {
    throw new Error(`\`clusterlab image build\` failed (exit ${built.exitCode}):\n${built.stderr}\n${built.stdout}`);
  }
  const nodeImage = built.stdout.trim().split('\n').at(-1) ?? '';
  console.log(`e2e: node image ${nodeImage} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  await ensureTestImage(docker, env);
  const kubectlOld = await ensureOldKubectl(env);

  project.provide('clusterlabHome', home);
  project.provide('nodeImage', nodeImage);
  project.provide('kubectlOld', kubectlOld);
  return async () => {
    await rm(home, { recursive: true, force: true });
  };
}
