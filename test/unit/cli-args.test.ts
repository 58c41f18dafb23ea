import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';

/** Parses argv with the real command table and returns what the handler would get. */
async function parse(argv: string[]): Promise<{ args: string[]; options: Record<string, unknown> }> {
  let seen: { args: string[]; options: Record<string, unknown> } | undefined;
  const program = buildProgram(() => async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    seen = { args: command.processedArgs.flat() as string[], options: command.opts() };
  });
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(argv, { from: 'user' });
  if (!seen) throw new Error('no handler ran');
  return seen;
}

describe('clusterlab exec argument parsing', () => {
  it('gives options after NODE to the command, as docker exec does', async () => {
    const { args, options } = await parse(['exec', '--name', 'c1', 'worker1', 'sh', '-c', 'exit 3']);
    expect(args).toEqual(['worker1', 'sh', '-c', 'exit 3']);
    expect(options.name).toBe('c1');
  });

  it('reads its own options before NODE and accepts a -- separator', async () => {
    const { args, options } = await parse(['exec', '-t', 'leader', '--', 'docker', 'ps', '-a']);
    expect(options.tty).toBe(true);
    expect(args.filter((a) => a !== '--')).toEqual(['leader', 'docker', 'ps', '-a']);
  });

  it('refuses an unknown option before NODE', async () => {
    await expect(parse(['exec', '--bogus', 'leader', 'true'])).rejects.toMatchObject({ code: 'commander.unknownOption' });
  });
});
