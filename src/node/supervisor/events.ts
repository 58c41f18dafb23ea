import type { SupervisorEvent } from '../../common/node-config.js';

/** Prints one SupervisorEvent; `ts` is filled in. */
export type Emit = (event: Omit<SupervisorEvent, 'ts'>) => void;

/** An Emit that writes JSON lines through `write` (process.stdout in a node: the container log). */
export function jsonLinesEmitter(write: (line: string) => void, now: () => Date = () => new Date()): Emit {
  return (event) => {
    const full: SupervisorEvent = { ts: now().toISOString(), ...event };
    write(`${JSON.stringify(full)}\n`);
  };
}
