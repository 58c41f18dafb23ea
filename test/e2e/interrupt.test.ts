/**
 * Ctrl-C during `up` (no TTY, as in a script): SIGINT at each step of the creation must
 * end the command with 130 and leave nothing labelled with the cluster behind.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterlabOk, figure, HOME, labelled, removeCluster, seconds, spawnClusterlab, uniqueName } from './helpers.js';

const names: string[] = [];

afterAll(async () => {
  const problems: string[] = [];
  for (const name of names) await removeCluster(name).catch((e: unknown) => problems.push(e instanceof Error ? e.message : String(e)));
  if (problems.length) throw new Error(problems.join('\n\n'));
});

/** The plain progress line a step prints when it begins (non-TTY reporter: `• Title …`). */
const STEPS: [string, RegExp][] = [
  ['creating the nodes', /^• Creating \d+ nodes/m],
  ['starting the nodes', /^• Starting nodes/m],
  ['forming the swarm', /^• Forming the swarm/m],
];

describe('Ctrl-C during up', () => {
  for (const [step, begun] of STEPS) {
    it(`while ${step}: exit 130, nothing left`, async () => {
      const name = uniqueName();
      names.push(name);
      const child = spawnClusterlab(['up', '--name', name], { timeoutMs: 120_000 });
      let stderr = '';
      let sentAt = 0;
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (!sentAt && begun.test(stderr)) {
          sentAt = Date.now();
          child.kill('SIGINT');
        }
      });
      const result = await child;
      const output = `stderr:\n${stderr}\nstdout:\n${String(result.stdout)}`;
      expect(sentAt, `the step never began\n${output}`).toBeGreaterThan(0);
      figure(`SIGINT while ${step} -> exit`, seconds(Date.now() - sentAt));
      expect(Date.now() - sentAt, output).toBeLessThan(60_000);
      expect(result.exitCode, output).toBe(130);
      expect(stderr).toContain('Interrupted');
      expect(stderr).toMatch(/^✓ Interrupted: removing the half-made cluster/m);
      expect(stderr).not.toContain(`Cluster "${name}" is ready`);

      expect(await labelled(name)).toEqual({ containers: [], networks: [], volumes: [] });
      const list = JSON.parse((await clusterlabOk(['list', '-o', 'json'])).stdout) as { name: string }[];
      expect(list.map((c) => c.name)).not.toContain(name);
      expect(existsSync(path.join(HOME, 'clusters', name)), 'local state of the cluster').toBe(false);
    });
  }
});
