import { spawn } from 'node:child_process';
import { openRuntime } from '../cluster/runtime.js';
import { startDashboard } from '../dashboard/dashboard.js';
import { parseCount, stringOption } from './args.js';

/** The platform's "open this URL" command, or undefined where there is none to try. */
export function browserOpener(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] | undefined {
  if (platform === 'darwin') return ['open'];
  if (platform === 'win32') return ['cmd', '/c', 'start', '""'];
  // Linux and the BSDs: only with a desktop session to show it in.
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : undefined;
}

/** Starts the browser detached; false when it could not be started. */
function openBrowser(url: string): Promise<boolean> {
  const opener = browserOpener(process.platform, process.env);
  if (!opener) return Promise.resolve(false);
  const [command, ...args] = opener as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(command, [...args, url], { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `clusterlab dashboard`: serves the live page until Ctrl-C; the URL (with its token) goes to stdout. */
export async function dashboard(_args: string[], options: Record<string, unknown>): Promise<number> {
  const name = stringOption(options, 'name')!;
  const port = parseCount(options.port ?? '0', '--port', 0, 65535);
  const rt = await openRuntime();
  const running = await startDashboard(rt, name, { port });
  process.stdout.write(`${running.url}\n`);
  process.stderr.write(`Dashboard of cluster "${name}" (${running.engine}) on 127.0.0.1:${running.port}; the token in the URL is its key. Ctrl-C stops it.\n`);
  if (options.open !== false && !(await openBrowser(running.url))) {
    process.stderr.write('(no browser was opened: open the URL above in one)\n');
  }
  await untilInterrupted();
  await running.close();
  return 0;
}
