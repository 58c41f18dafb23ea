/**
 * `clusterlab shell NODE` under a real pseudo-terminal (util-linux `script`, from Debian's
 * bsdutils): a login shell on the node, whose exit code becomes clusterlab's. Without a
 * terminal it refuses and points at `exec`. One 1-node cluster, removed in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { CLI, cleanEnv, clusterlab, removeCluster, ROOT, show, uniqueName } from './helpers.js';

const NAME = uniqueName();

beforeAll(async () => {
  const up = await clusterlab(['up', '--name', NAME, '--nodes', '1']);
  if (up.exitCode !== 0) {
    await removeCluster(NAME).catch(() => {});
    throw new Error(`could not create the 1-node cluster this file needs\n${show(up)}`);
  }
});

afterAll(async () => {
  await removeCluster(NAME);
});

/** Terminal output as lines of text: no escape sequences, no carriage returns. */
function screenLines(raw: string): string[] {
  return raw
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b\][^\u0007]*\u0007|\u001b[()][A-Z0-9]/g, '')
    .split('\n')
    .map((l) => l.replace(/\r/g, '').trim());
}

describe('clusterlab shell', () => {
  it('gives a shell on the node under a terminal; its exit code is passed through', async () => {
    // script -e: exit with the child's exit code; -q: no "Script started" banner; the typescript goes to /dev/null.
    const command = `${CLI} shell leader --name ${NAME}`;
    const r = await execa('script', ['-qec', command, '/dev/null'], {
      env: cleanEnv({ TERM: 'xterm' }),
      extendEnv: false,
      reject: false,
      input: 'hostname; exit 3\n',
      timeout: 60_000,
      cwd: ROOT,
    });
    const lines = screenLines(String(r.stdout));
    const out = `exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}\nstdout:\n${String(r.stdout)}\nstderr:\n${String(r.stderr)}`;
    expect(r.timedOut, out).toBe(false);
    // The typed line is echoed back ("hostname; exit 3"); hostname's answer is a line of its own.
    expect(lines, out).toContain('leader');
    expect(r.exitCode, out).toBe(3);
  });

  it('without a terminal: refuses, pointing at exec', async () => {
    const r = await clusterlab(['shell', 'leader', '--name', NAME], { input: 'hostname\n' });
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toContain('needs a terminal');
    expect(r.stderr).toContain('clusterlab exec leader');
  });

  it('a node that does not exist: exit 1', async () => {
    const r = await clusterlab(['shell', 'nosuch', '--name', NAME]);
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toContain('no node named "nosuch"');
  });
});
