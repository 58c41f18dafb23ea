import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';

export interface AttachOptions {
  /** Allocate a terminal: raw keyboard input, window size follows the user's terminal. */
  tty: boolean;
  /** Pass this process's stdin to the command. */
  stdin: boolean;
  env?: string[];
}

/**
 * Runs a command in a container wired to this process's terminal (docker exec -it), and
 * resolves with the command's exit code.
 */
export async function attachExec(docker: Docker, container: string, cmd: string[], options: AttachOptions): Promise<number> {
  const exec = await docker.getContainer(container).exec({
    Cmd: cmd,
    AttachStdin: options.stdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: options.tty,
    Env: options.env,
  });
  const stream = (await exec.start({ hijack: true, stdin: options.stdin, Tty: options.tty })) as NodeJS.ReadWriteStream;

  const stdin = process.stdin;
  const rawBefore = stdin.isTTY ? stdin.isRaw : false;
  const resize = () => {
    if (process.stdout.columns && process.stdout.rows) {
      exec.resize({ h: process.stdout.rows, w: process.stdout.columns }).catch(() => undefined);
    }
  };

  if (options.tty) {
    stream.pipe(process.stdout);
    resize();
    process.stdout.on('resize', resize);
  } else {
    const out = new PassThrough();
    const err = new PassThrough();
    out.pipe(process.stdout);
    err.pipe(process.stderr);
    docker.modem.demuxStream(stream, out, err);
  }

  if (options.stdin) {
    if (options.tty && stdin.isTTY) stdin.setRawMode(true);
    stdin.resume();
    stdin.pipe(stream as NodeJS.WritableStream);
  }

  try {
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
  } finally {
    if (options.stdin) {
      stdin.unpipe(stream as NodeJS.WritableStream);
      if (stdin.isTTY) stdin.setRawMode(rawBefore);
      stdin.pause();
    }
    process.stdout.off('resize', resize);
  }
  const info = await exec.inspect();
  return info.ExitCode ?? 1;
}
