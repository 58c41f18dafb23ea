/**
 * Lab scripts (setup, reference solutions, cleanup, script checks) run on the host in bash,
 * as the learner's own commands would, with the environment that points docker / kubectl
 * and clusterlab at the lab's cluster (target.ts) and the lab's folder as the working
 * directory (so `kubectl apply -f manifests/web.yaml` finds its file).
 */
import { execa } from 'execa';

export interface ScriptResult {
  exitCode: number;
  /** stdout and stderr interleaved, as a terminal would show them. */
  output: string;
  timedOut: boolean;
}

export interface ScriptOptions {
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Called with output as it comes (to show a solution running). */
  echo?: ((chunk: string) => void) | undefined;
}

/** Runs a script with `bash -e -o pipefail`; never throws for a failing script (see exitCode). */
export async function runScript(script: string, options: ScriptOptions): Promise<ScriptResult> {
  const child = execa('bash', ['-e', '-o', 'pipefail', '-c', script], {
    env: options.env,
    extendEnv: true,
    cwd: options.cwd,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    reject: false,
    all: true,
    stdin: 'ignore',
    stripFinalNewline: false,
  });
  if (options.echo) {
    const echo = options.echo;
    child.all?.on('data', (chunk: Buffer) => echo(chunk.toString('utf8')));
  }
  const result = await child;
  return { exitCode: result.exitCode ?? -1, output: String(result.all ?? ''), timedOut: Boolean(result.timedOut) };
}

/** The last lines of some output, for messages. */
export function tail(output: string, lines = 5): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}
