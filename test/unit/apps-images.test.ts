import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APP_IMAGES,
  RUNTIME_APPLETS,
  appRecipeHash,
  appsDir,
  libraryPath,
  parseLdd,
  runtimeRootfsPlan,
  type RootfsEntry,
} from '../../src/docker/app-images.js';

const LDD_NODE = `
	linux-vdso.so.1 (0x00007ffd6b5f2000)
	libdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f1158692000)
	libstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f1158400000)
	libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1158320000)
	libgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f115865a000)
	libpthread.so.0 => /lib/x86_64-linux-gnu/libpthread.so.0 (0x00007f1158655000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f115813e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f1158692000)
`;

describe('parseLdd', () => {
  it('lists every library and the loader, without the vDSO', () => {
    expect(parseLdd(LDD_NODE)).toEqual([
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libm.so.6',
      '/lib/x86_64-linux-gnu/libgcc_s.so.1',
      '/lib/x86_64-linux-gnu/libpthread.so.0',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('gives nothing for a static program', () => {
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
    expect(parseLdd('\tstatically linked\n')).toEqual([]);
  });

  it('refuses when a library is missing, naming it', () => {
    expect(() => parseLdd('\tlibnode.so.108 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n')).toThrow(/libnode\.so\.108/);
  });
});

describe('runtimeRootfsPlan', () => {
  const sources = { node: '/opt/node/bin/node', busybox: '/bin/busybox', libraries: parseLdd(LDD_NODE) };
  const plan = runtimeRootfsPlan(sources, '/recipe/rootfs', ['etc/passwd', 'etc/group']);
  const byPath = new Map<string, RootfsEntry>(plan.map((e) => [e.path, e]));

  it('puts node at /usr/bin/node and each library where the host loader found it', () => {
    expect(byPath.get('/usr/bin/node')).toEqual({ kind: 'file', path: '/usr/bin/node', source: '/opt/node/bin/node', mode: 0o755 });
    for (const lib of sources.libraries) expect(byPath.get(lib)).toMatchObject({ kind: 'file', source: lib });
    expect(byPath.get('/etc/passwd')).toEqual({ kind: 'file', path: '/etc/passwd', source: '/recipe/rootfs/etc/passwd', mode: 0o644 });
  });

  it('links every applet to busybox', () => {
    expect(byPath.get('/bin/busybox')).toMatchObject({ kind: 'file', source: '/bin/busybox', mode: 0o755 });
    for (const applet of RUNTIME_APPLETS) expect(byPath.get(`/bin/${applet}`)).toEqual({ kind: 'symlink', path: `/bin/${applet}`, target: 'busybox' });
  });

  it('creates every parent directory before what is in it; /tmp is world-writable and sticky', () => {
    const seen = new Set<string>();
    for (const entry of plan) {
      const parent = path.posix.dirname(entry.path);
      if (parent !== '/') expect(seen.has(parent), `${parent} before ${entry.path}`).toBe(true);
      seen.add(entry.path);
    }
    expect(byPath.get('/tmp')).toEqual({ kind: 'dir', path: '/tmp', mode: 0o1777 });
    expect(byPath.get('/lib64')).toMatchObject({ kind: 'dir', mode: 0o755 });
    expect(byPath.get('/usr/local/bin')).toMatchObject({ kind: 'dir' });
    expect(plan.filter((e) => e.kind === 'dir').length).toBe(new Set(plan.filter((e) => e.kind === 'dir').map((e) => e.path)).size);
  });

  it('LD_LIBRARY_PATH names each library directory once', () => {
    expect(libraryPath(sources.libraries)).toBe('/lib/x86_64-linux-gnu:/lib64');
  });
});

describe('app image recipes', () => {
  const base = { runtimeRef: 'clusterlab/app-runtime:aaa', buildArgs: { APP_VERSION: 'v1' }, sharedHash: 's1', appHash: 'a1', dockerfile: 'web/Dockerfile' };

  it('the hash changes with each input and not with the order of build args', () => {
    const hash = appRecipeHash(base);
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
    expect(appRecipeHash({ ...base })).toBe(hash);
    expect(appRecipeHash({ ...base, runtimeRef: 'clusterlab/app-runtime:bbb' })).not.toBe(hash);
    expect(appRecipeHash({ ...base, buildArgs: { APP_VERSION: 'v2' } })).not.toBe(hash);
    expect(appRecipeHash({ ...base, sharedHash: 's2' })).not.toBe(hash);
    expect(appRecipeHash({ ...base, appHash: 'a2' })).not.toBe(hash);
    expect(appRecipeHash({ ...base, buildArgs: { A: '1', B: '2' } })).toBe(appRecipeHash({ ...base, buildArgs: { B: '2', A: '1' } }));
  });

  it('every image has a fixed tag (never latest) and the three web versions are v1, v2, v3', () => {
    const refs = APP_IMAGES.map((i) => i.ref);
    expect(new Set(refs).size).toBe(refs.length);
    for (const ref of refs) expect(ref).toMatch(/^clusterlab\/[a-z]+:(?!latest$)[\w.-]+$/);
    expect(APP_IMAGES.filter((i) => i.app === 'web').map((i) => [i.ref, i.buildArgs.APP_VERSION])).toEqual([
      ['clusterlab/web:v1', 'v1'],
      ['clusterlab/web:v2', 'v2'],
      ['clusterlab/web:v3', 'v3'],
    ]);
  });

  it('each Dockerfile builds on the runtime and copies only files that exist', () => {
    for (const app of new Set(APP_IMAGES.map((i) => i.app))) {
      const dockerfile = readFileSync(path.join(appsDir(), app, 'Dockerfile'), 'utf8');
      expect(dockerfile, app).toMatch(/^FROM \$\{RUNTIME_IMAGE\}$/m);
      expect(dockerfile, app).toMatch(/^USER app$/m);
      const copies = [...dockerfile.matchAll(/^COPY (.+) (\S+)$/gm)];
      expect(copies.length, app).toBeGreaterThan(0);
      for (const [, sources] of copies) {
        for (const source of sources!.split(/\s+/)) expect(existsSync(path.join(appsDir(), source)), `${app}: COPY ${source}`).toBe(true);
      }
    }
  });
});
