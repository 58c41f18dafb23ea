/** `script: {run: "…"}`: the escape hatch: a bash script that exits 0 when the state is right. */
import * as z from 'zod';
import { runScript, tail } from '../shell.js';
import type { CheckKind } from './types.js';

const params = z.strictObject({
  run: z.string().min(1).meta({ description: 'bash script run on the host with the cluster environment (DOCKER_HOST / KUBECONFIG); exit 0 = pass.' }),
  description: z.string().optional().meta({ description: 'What the script checks, for messages.' }),
  timeoutSeconds: z.number().positive().max(600).default(30),
});

type Params = z.output<typeof params>;

export const scriptCheck: CheckKind<Params> = {
  name: 'script',
  summary: 'a bash script run against the cluster (docker / kubectl pointed at it) exits 0',
  params,
  expected: (p) => p.description ?? `the script exits 0: ${p.run.trim().split('\n')[0]}`,
  async evaluate(p, ctx) {
    const result = await runScript(p.run, { env: ctx.env, cwd: ctx.cwd, timeoutMs: p.timeoutSeconds * 1000, signal: ctx.signal });
    const said = tail(result.output, 3).replace(/\s*\n\s*/g, ' | ');
    const exit = result.timedOut ? `timed out after ${p.timeoutSeconds} s` : `exit ${result.exitCode}`;
    return { ok: result.exitCode === 0 && !result.timedOut, observed: said ? `${exit}: ${said}` : exit };
  },
};
