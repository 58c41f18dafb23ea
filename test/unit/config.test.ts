import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_API_VERSION,
  ConfigError,
  loadClusterConfig,
  parseClusterConfig,
  type ConfigProblem,
} from '../../src/cluster/config.js';
import type { ClusterSpec } from '../../src/cluster/spec.js';
import { UserError } from '../../src/common/errors.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'config');
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort();
const validFixtures = fixtures.filter((f) => f.startsWith('valid-'));
const invalidFixtures = fixtures.filter((f) => f.startsWith('invalid-'));

const read = (file: string) => readFileSync(join(FIXTURES, file), 'utf8');
const Mi = 1024 ** 2;
const Gi = 1024 ** 3;

/** The ClusterSpec each valid fixture must turn into (defaults applied). */
const EXPECTED_SPECS: Record<string, ClusterSpec> = {
  'valid-minimal.yaml': {
    name: 'lab',
    engine: 'swarm',
    nodes: [
      { name: 'leader', role: 'manager', labels: {}, ports: [] },
      { name: 'worker1', role: 'worker', labels: {}, ports: [] },
      { name: 'worker2', role: 'worker', labels: {}, ports: [] },
    ],
  },
  'valid-full.yaml': {
    name: 'classroom-1',
    engine: 'swarm',
    nodes: [
      {
        name: 'leader',
        role: 'manager',
        labels: { zone: 'a', 'example.com/rack': 'r1', empty: '' },
        cpus: 1.5,
        memoryBytes: 512 * Mi,
        ports: [{ containerPort: 80, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'tcp' }],
      },
      { name: 'worker-a', role: 'worker', labels: { zone: 'b' }, cpus: 0.5, memoryBytes: Gi, ports: [] },
      { name: 'worker2', role: 'worker', labels: {}, cpus: 2, memoryBytes: Gi, ports: [] },
    ],
  },
  'valid-kube.yaml': {
    name: 'k',
    engine: 'kube',
    nodes: [
      { name: 'leader', role: 'manager', labels: {}, ports: [] },
      { name: 'worker1', role: 'worker', labels: {}, ports: [] },
    ],
  },
  'valid-kube-lab-timings.yaml': {
    name: 'lab',
    engine: 'kube',
    nodes: [
      { name: 'leader', role: 'manager', labels: {}, ports: [] },
      { name: 'worker1', role: 'worker', labels: {}, ports: [] },
      { name: 'worker2', role: 'worker', labels: {}, ports: [] },
    ],
    kube: { nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 300 },
  },
  'valid-three-managers.yaml': {
    name: 'lab',
    engine: 'swarm',
    nodes: [
      { name: 'leader', role: 'manager', labels: {}, ports: [] },
      { name: 'worker1', role: 'worker', labels: {}, ports: [] },
      { name: 'manager2', role: 'manager', labels: {}, ports: [] },
      { name: 'manager3', role: 'manager', labels: {}, ports: [] },
      { name: 'worker2', role: 'worker', labels: {}, ports: [] },
    ],
  },
  'valid-ports.yaml': {
    name: 'ports',
    engine: 'swarm',
    nodes: [
      {
        name: 'leader',
        role: 'manager',
        labels: {},
        ports: [
          { containerPort: 80, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'tcp' },
          { containerPort: 53, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'udp' },
        ],
      },
      {
        name: 'worker1',
        role: 'worker',
        labels: {},
        ports: [
          { containerPort: 80, hostPort: 8080, listenAddress: '127.0.0.2', protocol: 'tcp' },
          { containerPort: 443, hostPort: 8443, listenAddress: '::1', protocol: 'tcp' },
          { containerPort: 9000, hostPort: 9000, listenAddress: '0.0.0.0', protocol: 'tcp' },
        ],
      },
    ],
  },
  'valid-quantities.yaml': {
    name: 'lab',
    engine: 'swarm',
    nodes: [
      { name: 'leader', role: 'manager', labels: {}, cpus: 0.25, memoryBytes: 1.5 * Gi, ports: [] },
      { name: 'worker1', role: 'worker', labels: {}, cpus: 1.5, memoryBytes: 256_000_000, ports: [] },
      { name: 'worker2', role: 'worker', labels: {}, cpus: 2, memoryBytes: 512 * Mi, ports: [] },
    ],
  },
};

interface Expectations {
  /** `# expect: PATH: FRAGMENT`: a problem at exactly PATH whose message contains FRAGMENT. */
  problems: Array<{ path: string; fragment: string }>;
  /** `# hint: PATH: FRAGMENT`: the problem at PATH has a hint containing FRAGMENT. */
  hints: Array<{ path: string; fragment: string }>;
  /** `# at: PATH: LINE:COLUMN`: the problem at PATH points there. */
  positions: Array<{ path: string; line: number; column: number }>;
}

/** Reads the expectations from a fixture's header comments; `(root)` stands for the path ''. */
function expectationsOf(text: string): Expectations {
  const out: Expectations = { problems: [], hints: [], positions: [] };
  for (const line of text.split('\n')) {
    const m = /^# (expect|hint|at): (.*?): (.*)$/.exec(line);
    if (!m) continue;
    const [, kind, rawPath = '', rest = ''] = m;
    const path = rawPath === '(root)' ? '' : rawPath;
    if (kind === 'expect') out.problems.push({ path, fragment: rest });
    else if (kind === 'hint') out.hints.push({ path, fragment: rest });
    else {
      const [l, c] = rest.split(':').map(Number);
      out.positions.push({ path, line: l ?? 0, column: c ?? 0 });
    }
  }
  return out;
}

function problemsOf(text: string, source: string): ConfigProblem[] {
  try {
    parseClusterConfig(text, source);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`${source} parsed without problems`);
}

describe('valid config fixtures', () => {
  it('every valid fixture has an expected spec, and every expected spec a fixture', () => {
    expect(validFixtures.length).toBeGreaterThanOrEqual(5);
    expect(Object.keys(EXPECTED_SPECS).sort()).toEqual(validFixtures);
  });

  it.each(validFixtures)('%s', (file) => {
    expect(parseClusterConfig(read(file), file)).toEqual(EXPECTED_SPECS[file]);
  });
});

describe('invalid config fixtures', () => {
  it('there are enough of them, each with expectations', () => {
    expect(invalidFixtures.length).toBeGreaterThanOrEqual(12);
    for (const file of invalidFixtures) expect(expectationsOf(read(file)).problems.length, file).toBeGreaterThan(0);
  });

  it.each(invalidFixtures)('%s', (file) => {
    const text = read(file);
    const want = expectationsOf(text);
    const got = problemsOf(text, file);
    const shown = got.map((p) => `${p.path}: ${p.message}`).join('\n');
    // Exactly the expected problems: nothing missing, nothing extra.
    expect(got.map((p) => p.path), shown).toEqual(want.problems.map((p) => p.path));
    want.problems.forEach((w, i) => expect(got[i]?.message, shown).toContain(w.fragment));
    for (const h of want.hints) {
      expect(got.find((p) => p.path === h.path)?.hint, `hint of ${h.path}`).toContain(h.fragment);
    }
    for (const at of want.positions) {
      const p = got.find((q) => q.path === at.path);
      expect({ line: p?.line, column: p?.column }, `position of ${at.path}`).toEqual({ line: at.line, column: at.column });
    }
  });

  it('reports every problem of a file at once, in file order', () => {
    const problems = problemsOf(read('invalid-several-problems.yaml'), 'several.yaml');
    expect(problems.length).toBe(10);
    const lines = problems.map((p) => p.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });
});

describe('ConfigError', () => {
  it('lists each problem on its own line, prefixed by the source and position', () => {
    let err: unknown;
    try {
      parseClusterConfig(read('invalid-wrong-type.yaml'), 'lab.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(UserError);
    const config = err as ConfigError;
    expect(config.source).toBe('lab.yaml');
    const lines = config.message.split('\n');
    expect(lines).toHaveLength(config.problems.length);
    expect(lines[0]).toMatch(/^lab\.yaml:12:11: nodes\[1\]\.cpus: expected a number, got string "lots" — .*millicores.*$/);
    for (const line of lines) expect(line.startsWith('lab.yaml:')).toBe(true);
    expect(config.hint).toContain('README');
  });

  it('a malformed file gives the YAML parser line and column', () => {
    let err: unknown;
    try {
      parseClusterConfig('apiVersion: clusterlab.dev/v1alpha1\n\tkind: Cluster\n', 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems).toEqual([
      { path: '', message: 'invalid YAML: Tabs are not allowed as indentation', line: 2, column: 1 },
    ]);
    expect((err as ConfigError).message).toBe('bad.yaml:2:1: invalid YAML: Tabs are not allowed as indentation');
  });

  it('names the supported apiVersion', () => {
    const problems = problemsOf('apiVersion: v2\nkind: Cluster\n', 'x.yaml');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain(CONFIG_API_VERSION);
  });
});

describe('loadClusterConfig', () => {
  it('reads a file and names it in problems', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clusterlab-config-'));
    try {
      const good = join(dir, 'good.yaml');
      await writeFile(good, read('valid-kube.yaml'));
      expect(await loadClusterConfig(good)).toEqual(EXPECTED_SPECS['valid-kube.yaml']);

      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, read('invalid-no-manager.yaml'));
      const err = await loadClusterConfig(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message.startsWith(`${bad}:`)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing file is a UserError with a hint', async () => {
    const err = await loadClusterConfig(join(tmpdir(), 'clusterlab-no-such-config.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).not.toBeInstanceOf(ConfigError);
    expect((err as UserError).message).toContain('does not exist');
    expect((err as UserError).hint).toBeTruthy();
  });

  it('a directory is a UserError too', async () => {
    const err = await loadClusterConfig(tmpdir()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('is a directory');
  });
});
