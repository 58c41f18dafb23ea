/**
 * The node image and the supervisor, for real: build the image (src/docker/image.ts), start
 * one node container by hand with the non-privileged run options, copy the bundled
 * supervisor and node.json in, and check what a node must do: dockerd ready, nested
 * containers under the node's own cgroup, dockerd restarted after kill -9, a clean stop,
 * a restart that keeps /var/lib/docker. Also build failure/abort, save/load, and (with
 * CLUSTERLAB_E2E_DEBOOTSTRAP=1, ~1 min and network) the debootstrap base image path.
 *
 * Everything created is named imgtest-<run id> and removed in afterAll, also on failure.
 * Figures are printed as `[figure] ...` lines.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import tar from 'tar-fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/cluster/labels.js';
import { NODE_CODE_DIR, NODE_CONFIG_PATH, type NodeConfig, type SupervisorEvent } from '../../src/common/node-config.js';
import { CommandError, InterruptedError, UserError } from '../../src/common/errors.js';
import { nodeBundleDir, packageRoot } from '../../src/common/paths.js';
import {
  buildFromDir,
  createDebootstrapImage,
  ensureBaseImage,
  ensureNodeImage,
  imageExists,
  loadImageArchive,
  nodeImageRecipeHash,
  saveImages,
} from '../../src/docker/image.js';

const run = promisify(execFile);
const RUN_ID = `imgtest-${Date.now().toString(36)}`;
const docker = new Dockerode();

/** Everything this file creates, removed in afterAll. */
const created = { containers: [] as string[], volumes: [] as string[], networks: [] as string[], images: [] as string[], dirs: [] as string[] };

function figure(name: string, value: string): void {
  console.log(`[figure] ${name}: ${value}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${RUN_ID}-${prefix}-`));
  created.dirs.push(dir);
  return dir;
}

/** tar-fs packs with streamx; dockerode wants a Node stream. */
function pack(dir: string, entries?: string[]): PassThrough {
  const out = new PassThrough();
  const p = tar.pack(dir, entries ? { entries } : {});
  p.on('error', (err: Error) => out.destroy(err));
  p.pipe(out);
  return out;
}

/** A few-MB image root: Debian's static busybox with some applet links. */
async function busyboxRoot(): Promise<string> {
  const root = await tempDir('busybox');
  await mkdir(path.join(root, 'bin'));
  await copyFile('/bin/busybox', path.join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'sleep', 'cat', 'echo', 'ls', 'ps', 'id', 'hostname']) {
    await symlink('busybox', path.join(root, 'bin', applet));
  }
  return root;
}

/** Splits docker's multiplexed (non-TTY) log/exec stream. */
function demux(buf: Buffer): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const type = buf[offset];
    const size = buf.readUInt32BE(offset + 4);
    const chunk = buf.subarray(offset + 8, offset + 8 + size).toString();
    if (type === 2) stderr += chunk;
    else stdout += chunk;
    offset += 8 + size;
  }
  return { stdout, stderr };
}

async function exec(container: Dockerode.Container, cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const e = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = (await e.start({ hijack: true, stdin: false })) as Readable;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const { ExitCode } = await e.inspect();
  return { code: ExitCode ?? -1, ...demux(Buffer.concat(chunks)) };
}

async function sh(container: Dockerode.Container, script: string): Promise<string> {
  const r = await exec(container, ['sh', '-c', script]);
  if (r.code !== 0) throw new Error(`in node: ${script} -> exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

async function supervisorEvents(container: Dockerode.Container): Promise<SupervisorEvent[]> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return demux(raw)
    .stdout.split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as SupervisorEvent);
}

async function waitForEvents(
  container: Dockerode.Container,
  cond: (events: SupervisorEvent[]) => boolean,
  timeoutMs: number,
  what: string,
): Promise<SupervisorEvent[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const events = await supervisorEvents(container);
    if (cond(events)) return events;
    if (Date.now() > end) {
      const logs = await exec(container, ['sh', '-c', 'tail -n 30 /var/log/clusterlab/dockerd.log']).catch(() => undefined);
      throw new Error(`timed out waiting for ${what}; events:\n${events.map((e) => JSON.stringify(e)).join('\n')}\n${logs?.stdout ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = (events: SupervisorEvent[], event: SupervisorEvent['event']): number => events.filter((e) => e.event === event).length;

/** The node's /var/lib/docker volume and container, created with the run options of the notes. */
async function createNode(image: string, name: string): Promise<Dockerode.Container> {
  const volume = `${name}-var-lib-docker`;
  await docker.createVolume({ Name: volume });
  created.volumes.push(volume);
  const container = await docker.createContainer({
    name,
    Image: image,
    Hostname: name,
    StopTimeout: 20,
    HostConfig: {
      // --privileged is refused on this machine (no CAP_SYS_RESOURCE); this works here and elsewhere.
      CapAdd: ['ALL'],
      CapDrop: ['SYS_RESOURCE'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      // The API form of `--security-opt systempaths=unconfined` (the CLI translates it).
      MaskedPaths: [],
      ReadonlyPaths: [],
      DeviceCgroupRules: ['a *:* rwm'],
      CgroupnsMode: 'host',
      Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw', `${volume}:/var/lib/docker`],
      Tmpfs: { '/run': 'rw,exec', '/tmp': 'rw,exec' },
      Memory: 1024 * 1024 * 1024,
    },
  } as Dockerode.ContainerCreateOptions);
  created.containers.push(container.id);
  return container;
}

/** "Installed, not baked": the bundled supervisor and node.json go in before the first start. */
async function installNodeCode(container: Dockerode.Container, config: NodeConfig): Promise<void> {
  const stage = await tempDir('install');
  const codeDir = path.join(stage, NODE_CODE_DIR);
  const configFile = path.join(stage, NODE_CONFIG_PATH);
  await mkdir(codeDir, { recursive: true });
  await mkdir(path.dirname(configFile), { recursive: true });
  await copyFile(path.join(nodeBundleDir(), 'supervisor.js'), path.join(codeDir, 'supervisor.js'));
  await writeFile(configFile, JSON.stringify(config, null, 2));
  // entries: never the staging dir itself, whose mode would land on the node's /.
  await container.putArchive(pack(stage, ['etc', 'opt']), { path: '/' });
}

async function removeEverything(): Promise<void> {
  for (const id of created.containers.reverse()) {
    await docker.getContainer(id).remove({ force: true, v: true }).catch(() => {});
  }
  for (const v of created.volumes) await docker.getVolume(v).remove().catch(() => {});
  for (const n of created.networks) await docker.getNetwork(n).remove().catch(() => {});
  for (const i of created.images) await docker.getImage(i).remove({ force: true }).catch(() => {});
  for (const d of created.dirs) await rm(d, { recursive: true, force: true }).catch(() => {});
}

let nodeImage = '';
let baseImage = '';

beforeAll(async () => {
  // Test the current supervisor source, not whatever dist/ holds.
  await run(process.execPath, [path.join(packageRoot(), 'scripts', 'bundle-node.mjs')]);
  const started = Date.now();
  const lines: string[] = [];
  const { ref, built } = await ensureNodeImage(docker, { onProgress: (l) => lines.push(l) });
  nodeImage = ref;
  figure('node image', `${ref} ${built ? `built in ${seconds(Date.now() - started)}` : 'already present'}`);
  baseImage = await ensureBaseImage(docker, {});
});

afterAll(async () => {
  await removeEverything();
});

describe('node image', () => {
  it('is tagged by recipe hash and labelled as clusterlab\'s', async () => {
    const hash = await nodeImageRecipeHash();
    expect(nodeImage).toBe(`clusterlab/node:${hash}`);
    const info = await docker.getImage(nodeImage).inspect();
    expect(info.Config.Labels).toMatchObject({ [LABELS.managed]: 'true', [LABELS.recipe]: hash });
    expect(info.Config.Entrypoint).toEqual(['/usr/bin/tini', '-g', '--', '/usr/bin/node', '/opt/clusterlab/supervisor.js']);
    expect(Object.keys(info.Config.Volumes ?? {})).toEqual(['/var/lib/docker']);
    figure('node image size', `${(info.Size / 1e6).toFixed(0)} MB (base ${baseImage})`);
  });

  it('returns at once when the image exists', async () => {
    const started = Date.now();
    expect(await ensureNodeImage(docker, {})).toEqual({ ref: nodeImage, built: false });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('holds what a node needs and none of clusterlab\'s code', async () => {
    const out = await docker.createContainer({
      Image: nodeImage,
      Entrypoint: ['sh', '-c'],
      Cmd: [
        'node --version; dockerd --version; containerd --version; runc --version | head -1; etcd --version | head -1; ' +
          'iptables --version; command -v ip modprobe tini ps curl ping nc less; ls -A /opt/clusterlab | wc -l',
      ],
      name: `${RUN_ID}-inspect`,
    });
    created.containers.push(out.id);
    await out.start();
    await out.wait();
    const { stdout, stderr } = demux((await out.logs({ stdout: true, stderr: true })) as unknown as Buffer);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^v18\./m);
    expect(stdout).toMatch(/Docker version 20\.10/);
    expect(stdout).toMatch(/etcd Version: 3\.4/);
    expect(stdout).toMatch(/nf_tables/);
    expect(stdout.trim().split('\n').at(-1)).toBe('0');
  });
});

describe('a node', () => {
  let node: Dockerode.Container;
  const config: NodeConfig = {
    cluster: RUN_ID,
    node: 'node1',
    role: 'manager',
    engine: 'swarm',
    ip: '127.0.0.1',
    dockerd: {},
  };

  it('starts its supervisor and dockerd: node-ready', async () => {
    node = await createNode(nodeImage, `${RUN_ID}-node1`);
    await installNodeCode(node, config);
    const started = Date.now();
    await node.start();
    const events = await waitForEvents(node, (e) => count(e, 'node-ready') === 1, 60_000, 'node-ready');
    const wall = Date.now() - started;
    const info = await node.inspect();
    const ready = events.find((e) => e.event === 'node-ready')!;
    figure('node start -> node-ready', `${seconds(wall)} wall (${seconds(Date.parse(ready.ts) - Date.parse(info.State.StartedAt))} from StartedAt)`);
    const plan = events.find((e) => e.event === 'starting' && e.message?.includes('cgroup'));
    expect(plan?.message).toContain(`/docker/${node.id}/nested`);
    figure('supervisor notes', events.filter((e) => e.event === 'starting' && !e.message?.startsWith('dockerd ')).map((e) => e.message).join(' | '));
    expect(await sh(node, 'docker info --format "{{.Driver}} {{.CgroupDriver}}"')).toMatch(/^overlay2 cgroupfs$/);
    expect(await sh(node, 'test -s /var/log/clusterlab/dockerd.log && echo yes')).toBe('yes');
  });

  it('runs nested containers under /docker/<node id>/nested', async () => {
    // Not /tmp: the archive API cannot see a container's tmpfs mounts.
    await sh(node, 'mkdir -p /var/tmp/busybox-root');
    await node.putArchive(pack(await busyboxRoot(), ['bin']), { path: '/var/tmp/busybox-root' });
    await sh(node, 'tar -C /var/tmp/busybox-root -c . | docker import - imgtest-busybox:nested >/dev/null');
    const id = await sh(node, 'docker run -d --name bb imgtest-busybox:nested /bin/sleep 3600');
    const pid = await sh(node, 'docker inspect -f "{{.State.Pid}}" bb');
    const cgroup = await sh(node, `cat /proc/${pid}/cgroup`);
    const memory = cgroup.split('\n').find((l) => /:memory:/.test(l));
    expect(memory).toBe(`${memory!.split(':')[0]}:memory:/docker/${node.id}/nested/${id}`);
    figure('nested container cgroup', memory!.split(':').slice(2).join(':'));
    // Its network works through the node's own bridge and iptables.
    const ip = await sh(node, 'docker inspect -f "{{.NetworkSettings.IPAddress}}" bb');
    await sh(node, `ping -c 1 -W 2 ${ip} >/dev/null`);
    expect(await sh(node, 'docker run --rm imgtest-busybox:nested /bin/echo hello-from-nested')).toBe('hello-from-nested');
  });

  it('idles at a modest memory use', async () => {
    await new Promise((r) => setTimeout(r, 5_000));
    const stats = (await node.stats({ stream: false })) as unknown as {
      memory_stats: { usage: number; stats?: Record<string, number> };
    };
    const cache = stats.memory_stats.stats?.cache ?? stats.memory_stats.stats?.inactive_file ?? 0;
    figure('idle node memory (one nested sleep container)', `${((stats.memory_stats.usage - cache) / 1024 / 1024).toFixed(1)} MiB (usage - cache)`);
  });

  it('restarts dockerd after kill -9 and prints node-ready again', async () => {
    const before = await supervisorEvents(node);
    const oldPid = await sh(node, 'cat /var/run/docker.pid');
    const killedAt = Date.now();
    await sh(node, `kill -9 ${oldPid}`);
    const events = await waitForEvents(node, (e) => count(e, 'node-ready') === count(before, 'node-ready') + 1, 60_000, 'node-ready after kill');
    figure('dockerd kill -9 -> node-ready', seconds(Date.now() - killedAt));
    const fresh = events.slice(before.length);
    expect(fresh.find((e) => e.event === 'exited')).toMatchObject({ daemon: 'dockerd', signal: 'SIGKILL' });
    expect(fresh.find((e) => e.event === 'restarting')).toMatchObject({ daemon: 'dockerd', message: 'in 1 s' });
    expect(await sh(node, 'cat /var/run/docker.pid')).not.toBe(oldPid);
    expect(await sh(node, 'docker version --format "{{.Server.Version}}"')).toMatch(/^20\.10/);
    figure('nested container after dockerd kill -9', await sh(node, 'docker ps -a --filter name=bb --format "{{.Status}}"'));
  });

  it('stops cleanly within 15 s on docker stop, a nested container that ignores SIGTERM included', async () => {
    // sleep as PID 1 ignores SIGTERM: the node's dockerd waits its 10 s before killing it.
    await sh(node, 'docker run -d --name stubborn imgtest-busybox:nested /bin/sleep 3600 >/dev/null');
    const started = Date.now();
    await node.stop({ t: 20 });
    const took = Date.now() - started;
    figure('docker stop', seconds(took));
    expect(took).toBeLessThan(15_000);
    const info = await node.inspect();
    expect(info.State.ExitCode).toBe(0);
    const events = await supervisorEvents(node);
    expect(events.at(-1)).toMatchObject({ event: 'stopped', message: 'all daemons stopped' });
    expect(events.find((e) => e.event === 'stopped' && e.daemon === 'dockerd')).toMatchObject({ code: 0 });
    // Docker removed the node's cgroup, nested ones included: nothing leaks on the host.
    if (existsSync('/sys/fs/cgroup/memory/docker')) expect(existsSync(`/sys/fs/cgroup/memory/docker/${node.id}`)).toBe(false);
  });

  it('comes back after a start, keeping /var/lib/docker', async () => {
    const before = await supervisorEvents(node);
    const started = Date.now();
    await node.start();
    await waitForEvents(node, (e) => count(e, 'node-ready') > count(before, 'node-ready'), 60_000, 'node-ready after start');
    figure('node restart -> node-ready', seconds(Date.now() - started));
    expect(await sh(node, 'docker images --format "{{.Repository}}:{{.Tag}}"')).toContain('imgtest-busybox:nested');
    expect(await sh(node, 'docker run --rm imgtest-busybox:nested /bin/echo again')).toBe('again');
  });
});

describe('image builds', () => {
  it('reports a failing step with its output', async () => {
    const dir = await tempDir('failing');
    await writeFile(
      path.join(dir, 'Dockerfile'),
      `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo first-step-ok\nRUN echo some-output-of-the-step && exit 3\n`,
    );
    const ref = `${RUN_ID}-failing:latest`;
    created.images.push(ref);
    const steps: string[] = [];
    const err = await buildFromDir(docker, { dir, ref, buildArgs: { BASE_IMAGE: baseImage }, onProgress: (l) => steps.push(l) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).exitCode).toBe(3);
    expect((err as CommandError).message).toContain('Step 4/4 : RUN echo some-output-of-the-step && exit 3');
    expect((err as CommandError).message).toContain('some-output-of-the-step');
    expect(steps).toHaveLength(4);
  });

  it('stops a build on abort and leaves no build container', async () => {
    const marker = `${RUN_ID}-abort`;
    const dir = await tempDir('abort');
    await writeFile(path.join(dir, 'Dockerfile'), `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo ${marker} && sleep 120\n`);
    const ref = `${marker}:latest`;
    created.images.push(ref);
    const controller = new AbortController();
    const build = buildFromDir(docker, {
      dir,
      ref,
      buildArgs: { BASE_IMAGE: baseImage },
      signal: controller.signal,
      onProgress: (line) => {
        if (line.startsWith('Step 3/3')) setTimeout(() => controller.abort(), 1_500);
      },
    });
    const started = Date.now();
    await expect(build).rejects.toBeInstanceOf(InterruptedError);
    const leftovers = async (): Promise<number> =>
      (await docker.listContainers({ all: true })).filter((c) => c.Command.includes(marker)).length;
    const end = Date.now() + 15_000;
    while ((await leftovers()) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    expect(await leftovers()).toBe(0);
    expect(await imageExists(docker, ref)).toBe(false);
    figure('build abort -> build container gone', seconds(Date.now() - started));
  });
});

describe('save and load', () => {
  it('saves images to a .tar.gz and loads them back', async () => {
    const ref = `${RUN_ID}-busybox:save`;
    const stream = await docker.importImage(pack(await busyboxRoot(), ['bin']), { repo: `${RUN_ID}-busybox`, tag: 'save' } as object);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: unknown) => (err ? reject(err) : resolve())));
    created.images.push(ref);
    const dir = await tempDir('save');
    for (const file of [path.join(dir, 'images.tar.gz'), path.join(dir, 'images.tar')]) {
      await saveImages(docker, [ref], file);
      const head = (await readFile(file)).subarray(0, 2);
      expect(head[0] === 0x1f && head[1] === 0x8b).toBe(file.endsWith('.gz'));
      await docker.getImage(ref).remove();
      expect(await loadImageArchive(docker, file)).toEqual([ref]);
      expect(await imageExists(docker, ref)).toBe(true);
    }
  });

  it('says what is wrong with a missing image, a missing file or a corrupt archive', async () => {
    const dir = await tempDir('bad');
    await expect(saveImages(docker, [`${RUN_ID}-nope:1`], path.join(dir, 'x.tar'))).rejects.toThrow(UserError);
    await expect(loadImageArchive(docker, path.join(dir, 'missing.tar'))).rejects.toThrow(UserError);
    const corrupt = path.join(dir, 'corrupt.tar.gz');
    await writeFile(corrupt, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(4000, 7)]));
    await expect(loadImageArchive(docker, corrupt)).rejects.toThrow(UserError);
    const notTar = path.join(dir, 'not.tar');
    await writeFile(notTar, 'this is not a tar archive\n'.repeat(100));
    await expect(loadImageArchive(docker, notTar)).rejects.toThrow(UserError);
  });
});

describe.runIf(process.env.CLUSTERLAB_E2E_DEBOOTSTRAP === '1')('debootstrap base image', () => {
  const mirror = process.env.CLUSTERLAB_DEBIAN_MIRROR || 'http://deb.debian.org/debian';

  it('builds and imports a Debian base image', { timeout: 600_000 }, async () => {
    const ref = `${RUN_ID}-debian:bookworm`;
    created.images.push(ref);
    const started = Date.now();
    const lines: string[] = [];
    await createDebootstrapImage(docker, ref, { debootstrap: '/usr/sbin/debootstrap', mirror, onProgress: (l) => lines.push(l) });
    figure('base image (debootstrap + import)', seconds(Date.now() - started));
    const info = await docker.getImage(ref).inspect();
    figure('base image size', `${(info.Size / 1e6).toFixed(0)} MB`);
    expect(info.Config.Labels).toMatchObject({ [LABELS.managed]: 'true' });
    expect(lines.some((l) => l.includes('debootstrap: Base system installed successfully'))).toBe(true);
    // Modes survive the import exactly (a umask once turned /tmp into 1755 and broke apt-get).
    const probe = await docker.createContainer({ Image: ref, Cmd: ['stat', '-c', '%a %n', '/tmp', '/usr/bin/passwd', '/var/mail'], name: `${RUN_ID}-modes` });
    created.containers.push(probe.id);
    await probe.start();
    await probe.wait();
    expect(demux((await probe.logs({ stdout: true, stderr: true })) as unknown as Buffer).stdout.trim().split('\n')).toEqual([
      '1777 /tmp',
      '4755 /usr/bin/passwd',
      '2775 /var/mail',
    ]);
    const tmpLeft = (await readdirSafe(os.tmpdir())).filter((n) => n.startsWith('clusterlab-debootstrap-'));
    expect(tmpLeft).toEqual([]);
  });

  it('stops debootstrap on abort and removes its temp dir', { timeout: 120_000 }, async () => {
    const ref = `${RUN_ID}-debian-aborted:bookworm`;
    created.images.push(ref);
    const before = new Set(await readdirSafe(os.tmpdir()));
    const controller = new AbortController();
    const work = createDebootstrapImage(docker, ref, {
      debootstrap: '/usr/sbin/debootstrap',
      mirror,
      signal: controller.signal,
      onProgress: (l) => {
        if (l.includes('Unpacking required packages') || l.includes('Installing core packages')) controller.abort();
      },
    });
    setTimeout(() => controller.abort(), 60_000);
    await expect(work).rejects.toBeInstanceOf(InterruptedError);
    const left = (await readdirSafe(os.tmpdir())).filter((n) => n.startsWith('clusterlab-debootstrap-') && !before.has(n));
    expect(left).toEqual([]);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain('clusterlab-debootstrap-');
    expect(await imageExists(docker, ref)).toBe(false);
  });
});

async function readdirSafe(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
