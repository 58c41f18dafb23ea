import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, withExecSeparator } from '../../src/cli/main.js';

/** Parses argv with the real command table (as main() does) and returns what the handler would get. */
async function parse(argv: string[]): Promise<{ args: string[]; options: Record<string, unknown> }> {
  let seen: { args: string[]; options: Record<string, unknown> } | undefined;
  const program = buildProgram(() => async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    seen = { args: command.processedArgs.flat() as string[], options: command.opts() };
  });
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(withExecSeparator(argv), { from: 'user' });
  if (!seen) throw new Error('no handler ran');
  return seen;
}

describe('clusterlab exec argument parsing', () => {
  it('gives everything after NODE to the command, as docker exec does', async () => {
    const { args, options } = await parse(['exec', '--name', 'c1', 'worker1', 'sh', '-c', 'exit 3']);
    expect(args).toEqual(['worker1', 'sh', '-c', 'exit 3']);
    expect(options.name).toBe('c1');
    const tty = await parse(['exec', '-t', 'worker1', 'ls', '-i', '--name', 'x']);
    expect(tty.args).toEqual(['worker1', 'ls', '-i', '--name', 'x']);
    expect(tty.options).toMatchObject({ tty: true, name: 'lab' });
  });

  it('with --, reads options on both sides of NODE, as kubectl does', async () => {
    const { args, options } = await parse(['exec', 'backend', '--name', 'c2', '-i', '--', 'sh', '-c', 'cat']);
    expect(args).toEqual(['backend', 'sh', '-c', 'cat']);
    expect(options).toMatchObject({ name: 'c2', stdin: true });
  });

  it('leaves other commands and global options alone', () => {
    expect(withExecSeparator(['-v', 'exec', 'leader', 'hostname'])).toEqual(['-v', 'exec', 'leader', '--', 'hostname']);
    expect(withExecSeparator(['shell', 'leader'])).toEqual(['shell', 'leader']);
    expect(withExecSeparator(['exec', 'leader', '--', 'x'])).toEqual(['exec', 'leader', '--', 'x']);
  });

  it('refuses an unknown option before NODE', async () => {
    await expect(parse(['exec', '--bogus', 'leader', 'true'])).rejects.toMatchObject({ code: 'commander.unknownOption' });
  });
});
