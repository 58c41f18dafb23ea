/**
 * Runs the sample apps (images/apps/) as they run in their images, `node FILE`, but on
 * loopback with a free port (HOST=127.0.0.1 PORT=0), and tells when they listen and exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const APPS_DIR = fileURLToPath(new URL('../../images/apps/', import.meta.url));

export interface AppProcess {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  /** Everything it wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Starts images/apps/<script> and waits for its {"event":"listening"} line (10 s at most). */
export async function startApp(script: string, options: { env?: Record<string, string>; args?: string[]; port?: number } = {}): Promise<AppProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(options.port ?? 0), ...options.env };
  delete env.NODE_OPTIONS; // vitest's loader hooks are not for the app
  const child = spawn(process.execPath, [`${APPS_DIR}${script}`, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let text = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not listen within 10 s:\n${text}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const m = /"event":"listening".*?"port":(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before listening:\n${text}`));
    });
  });
  return { port, url: `http://127.0.0.1:${port}`, child, output: () => text, exited };
}

/** Kills whatever startApp started and is still running (call in afterEach). */
export async function stopAllApps(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

/** One request with fetch; never throws for an HTTP status. */
export async function call(url: string, init: { method?: string; body?: unknown } = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
