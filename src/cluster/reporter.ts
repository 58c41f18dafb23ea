/**
 * How library code reports progress without knowing about terminals: the CLI gives a
 * spinner/step list (src/cli/progress.ts), tests a silent one.
 */
export interface Reporter {
  /** Runs one named step; `detail` updates the step's line while it runs. */
  step<T>(title: string, fn: (detail: (text: string) => void) => Promise<T>): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
}

export const silentReporter: Reporter = {
  step: (_title, fn) => fn(() => undefined),
  info: () => undefined,
  warn: () => undefined,
};
