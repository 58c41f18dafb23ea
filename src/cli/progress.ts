import ora, { type Ora } from 'ora';
import type { Reporter } from '../cluster/reporter.js';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Progress on stderr: a spinner per step on a terminal, plain `✓`/`✗` lines otherwise
 * (kind's status.go). Details (image build steps, "joining worker2") update the spinner;
 * without a terminal they are printed only with --verbose.
 */
export function createReporter(options: { verbose?: boolean; stream?: NodeJS.WriteStream } = {}): Reporter {
  const stream = options.stream ?? process.stderr;
  const interactive = Boolean(stream.isTTY) && !process.env.CI && process.env.TERM !== 'dumb';
  const write = (line: string) => stream.write(line + '\n');

  return {
    async step(title, fn) {
      const started = Date.now();
      let spinner: Ora | undefined;
      if (interactive) spinner = ora({ text: title, stream }).start();
      else write(`• ${title} …`);
      const detail = (text: string) => {
        const short = text.replace(/\s+/g, ' ').trim().slice(0, 100);
        if (!short) return;
        if (spinner) spinner.text = `${title} ${'\u001b[2m'}${short}${'\u001b[22m'}`;
        else if (options.verbose) write(`    ${short}`);
      };
      try {
        const result = await fn(detail);
        if (spinner) spinner.succeed(`${title} (${seconds(Date.now() - started)})`);
        else write(`✓ ${title} (${seconds(Date.now() - started)})`);
        return result;
      } catch (err) {
        if (spinner) spinner.fail(title);
        else write(`✗ ${title}`);
        throw err;
      }
    },
    info: (message) => write(message),
    warn: (message) => write(`! ${message}`),
  };
}
