import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { CommandError } from '../common/errors.js';

export interface ExecOptions {
  /** Bytes or a stream to feed the command's stdin; closed when done. */
  stdin?: Readable | string | Buffer;
  env?: string[];
  /** Give up (and report) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Receives output as it arrives (e.g. to show progress); the full text is returned too. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in a running container through the Docker API and collects its output. */
export async function execIn(docker: Docker, container: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const withStdin = options.stdin !== undefined;
  const exec = await docker.getContainer(container).exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: withStdin,
    Tty: false,
    Env: options.env,
  });
  const stream = (await exec.start({ hijack: withStdin, stdin: withStdin })) as NodeJS.ReadWriteStream;

  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => { out.push(c); options.onStdout?.(c); });
  stderr.on('data', (c: Buffer) => { err.push(c); options.onStderr?.(c); });
  docker.modem.demuxStream(stream, stdout, stderr);

  if (withStdin) {
    const input = options.stdin!;
    if (typeof input === 'string' || Buffer.isBuffer(input)) stream.end(input);
    else {
      input.pipe(stream as NodeJS.WritableStream, { end: true });
    }
  }

  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (reason: Error) => {
      (stream as unknown as { destroy?: (e?: Error) => void }).destroy?.();
      reject(reason);
    };
    if (options.timeoutMs) {
      timer = setTimeout(() => stop(new Error(`timed out after ${options.timeoutMs} ms: ${cmd.join(' ')}`)), options.timeoutMs);
    }
    const onAbort = () => stop(new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', (e: Error) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
  });

  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** Like execIn, but a non-zero exit throws a CommandError naming the node. */
export async function execOrThrow(docker: Docker, container: string, cmd: string[], options: ExecOptions = {}, where = container): Promise<ExecResult> {
  const result = await execIn(docker, container, cmd, options);
  if (result.exitCode !== 0) throw new CommandError(cmd, result.exitCode, result.stdout, result.stderr, where);
  return result;
}
