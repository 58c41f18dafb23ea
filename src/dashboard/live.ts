/**
 * The live state of one cluster: looks again whenever a source hints at a change (and
 * periodically, as a safety net), keeps the latest state and the timeline, and tells
 * subscribers what changed. Looks never overlap; hints during a look make one more look.
 */
import type { NodeRecord } from '../docker/provider.js';
import { messageOf } from '../common/errors.js';
import { composeState, type OrchestratorView } from './compose.js';
import { diffState, type StatePatch } from './diff.js';
import type { DashboardEngine, DashboardState, LabProgress, TimelineEntry, TimelineEvent } from './model.js';
import { TimelineDeriver } from './timeline.js';

/** What an engine contributes: a look at the orchestrator, and hints when it changes. */
export interface OrchestratorSource {
  /** One look; throws when the orchestrator does not answer. */
  read(machines: NodeRecord[], now: Date): Promise<OrchestratorView>;
  /** Starts following the orchestrator's changes until `signal` aborts. */
  follow(hooks: { poke(): void; say(entries: TimelineEntry[]): void }, signal: AbortSignal): void;
}

export type LiveMessage = { type: 'patch'; data: StatePatch } | { type: 'timeline'; data: TimelineEvent[] };

export interface LiveClusterOptions {
  cluster: string;
  engine: DashboardEngine;
  /** The node containers, from the host engine's labels. */
  listMachines: () => Promise<NodeRecord[]>;
  source: OrchestratorSource;
  /** Safety-net look interval. */
  pollMs?: number;
  /** Hints within this window make one look. */
  debounceMs?: number;
  /** How many timeline events are kept (and sent to a new page). */
  timelineLimit?: number;
  now?: () => Date;
}

export class LiveCluster {
  private current: DashboardState;
  private readonly events: TimelineEvent[] = [];
  private seq = 0;
  private readonly listeners = new Set<(message: LiveMessage) => void>();
  private readonly deriver = new TimelineDeriver();
  private readonly controller = new AbortController();
  private machines: NodeRecord[] = [];
  private view: OrchestratorView | undefined;
  private lab: LabProgress | undefined;
  private looking: Promise<void> | undefined;
  private again = false;
  private looked = false;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: LiveClusterOptions) {
    this.now = options.now ?? (() => new Date());
    this.current = composeState({ cluster: options.cluster, engine: options.engine, machines: [], view: undefined, source: { ok: false, message: 'starting' } });
  }

  get state(): DashboardState {
    return this.current;
  }

  get timeline(): TimelineEvent[] {
    return [...this.events];
  }

  /** First look, then follow changes. */
  async start(): Promise<void> {
    await this.refresh();
    this.options.source.follow({ poke: () => this.poke(), say: (entries) => this.say(entries) }, this.controller.signal);
    const pollMs = this.options.pollMs ?? 1_000;
    this.poll = setInterval(() => this.poke(), pollMs);
  }

  stop(): void {
    this.controller.abort();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.listeners.clear();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  subscribe(listener: (message: LiveMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Something may have changed: look soon. */
  poke(): void {
    if (this.controller.signal.aborted || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.refresh();
    }, this.options.debounceMs ?? 100);
  }

  setLab(lab: LabProgress | undefined): void {
    this.lab = lab;
    this.poke();
  }

  /** Adds entries to the timeline (numbered in order) and pushes them. */
  say(entries: TimelineEntry[]): void {
    if (entries.length === 0) return;
    const numbered = entries.map((entry) => ({ seq: ++this.seq, ...entry }));
    this.events.push(...numbered);
    const limit = this.options.timelineLimit ?? 300;
    if (this.events.length > limit) this.events.splice(0, this.events.length - limit);
    this.emit({ type: 'timeline', data: numbered });
  }

  /** Looks now (or after the look in progress, once); resolves when the state is current. */
  refresh(): Promise<void> {
    if (this.looking) {
      this.again = true;
      return this.looking;
    }
    this.looking = (async () => {
      try {
        do {
          this.again = false;
          await this.look();
        } while (this.again && !this.controller.signal.aborted);
      } finally {
        this.looking = undefined;
      }
    })();
    return this.looking;
  }

  private async look(): Promise<void> {
    const now = this.now();
    let source: DashboardState['source'] = { ok: true };
    try {
      this.machines = await this.options.listMachines();
    } catch (err) {
      source = { ok: false, message: `the host's Docker engine did not answer: ${messageOf(err)}` };
    }
    if (source.ok) {
      try {
        this.view = await this.options.source.read(this.machines, now);
      } catch (err) {
        source = { ok: false, message: messageOf(err) };
      }
    }
    if (this.controller.signal.aborted) return;
    const next = composeState({ cluster: this.options.cluster, engine: this.options.engine, machines: this.machines, view: this.view, source, ...(this.lab ? { lab: this.lab } : {}) });
    const previous = this.current;
    const patch = diffState(previous, next);
    this.current = next;
    if (patch) this.emit({ type: 'patch', data: patch });
    // The first look has nothing to compare with.
    this.say(this.deriver.changes(this.looked ? previous : undefined, next, now));
    this.looked = true;
  }

  private emit(message: LiveMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch {
        // A listener's failure (a closed connection) is its own business.
      }
    }
  }
}
