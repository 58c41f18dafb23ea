/**
 * Typed errors with one exit point (src/cli/main.ts prints them and picks the exit code).
 *
 * - UserError: something the user can fix. Carries what went wrong and what to do about it.
 * - CommandError: an external command (or a command run inside a node) failed; keeps its
 *   command line and output so the report is useful (kind's exec.RunError).
 * - Anything else is an internal error: a bug, printed with its stack under -v.
 */

export interface UserErrorOptions {
  /** What the user should do next, printed under the message. */
  hint?: string;
  /** Process exit code; 1 unless there is a reason to differ. */
  exitCode?: number;
  cause?: unknown;
}

export class UserError extends Error {
  override readonly name = 'UserError';
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A problem with command-line usage (unknown flag, missing argument, conflicting options). */
export class UsageError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
  }
}

export class CommandError extends Error {
  override readonly name = 'CommandError';

  constructor(
    readonly command: readonly string[],
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
    where?: string,
  ) {
    const shown = command.join(' ');
    const output = (stderr.trim() || stdout.trim()).split('\n').slice(-15).join('\n');
    super(`command failed${where ? ` on ${where}` : ''} (exit ${exitCode}): ${shown}${output ? `\n${output}` : ''}`);
  }
}

/** Raised when the user interrupts a long command (Ctrl-C); exit code 130 as shells use. */
export class InterruptedError extends UserError {
  constructor(message = 'interrupted') {
    super(message, { exitCode: 130 });
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** The message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
