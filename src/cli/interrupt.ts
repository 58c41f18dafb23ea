/**
 * Ctrl-C during a long command: the first press asks the command to stop (it then removes
 * what it half-made, or leaves a usable cluster); a third press quits at once.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let presses = 0;
  const onSignal = (name: NodeJS.Signals) => {
    presses++;
    if (presses === 1) {
      process.stderr.write(`\n${name === 'SIGINT' ? 'Interrupted' : `Got ${name}`}: stopping and cleaning up (press Ctrl-C twice more to quit at once)…\n`);
      controller.abort();
    } else if (presses >= 3) {
      process.stderr.write('Quitting without cleaning up: check with `clusterlab list` and remove leftovers with `clusterlab down`.\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
