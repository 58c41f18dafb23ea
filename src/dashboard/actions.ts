/**
 * What the page may ask for, validated, and done the same way as the CLI does it: node
 * stop/start through the library call behind `clusterlab node stop|start` (under the
 * cluster's lock), the rest through the engine (see swarm-source.ts, kube-source.ts).
 * Progress and outcome go to the timeline, for every open page to see.
 */
import { z } from 'zod';
import { withClusterLock } from '../cluster/lock.js';
import { nodeAction } from '../cluster/nodes.js';
import type { Reporter } from '../cluster/reporter.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { UserError, messageOf } from '../common/errors.js';
import type { TimelineEntry } from './model.js';

/** What each engine does for the workload actions. */
export interface EngineActions {
  /** Kills the card's container on its node, as a learner would; returns what was done. */
  crash(cardId: string): Promise<string>;
  scale(workload: string, replicas: number): Promise<string>;
  rollout(workload: string, image: string): Promise<string>;
}

const name = z.string().min(1).max(253);

export const actionRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('node-stop'), node: name }).strict(),
  z.object({ action: z.literal('node-start'), node: name }).strict(),
  z.object({ action: z.literal('crash'), card: name }).strict(),
  z.object({ action: z.literal('scale'), workload: name, replicas: z.number().int().min(0).max(100) }).strict(),
  z
    .object({
      action: z.literal('rollout'),
      workload: name,
      image: z.string().trim().min(1).max(300).regex(/^[^\s]+$/, 'an image reference has no spaces'),
    })
    .strict(),
]);

export type ActionRequest = z.infer<typeof actionRequestSchema>;

/** The request, or a UserError (status 400) listing what is wrong with it. */
export function parseActionRequest(body: unknown): ActionRequest {
  const parsed = actionRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`);
  throw new UserError(`invalid action: ${problems.join('; ')}`, { exitCode: 2 });
}

/** The action in words, for the timeline; `cardName` turns a card's id into its name. */
export function describeAction(request: ActionRequest, cardName: (id: string) => string | undefined = () => undefined): string {
  switch (request.action) {
    case 'node-stop':
      return `stop node ${request.node}`;
    case 'node-start':
      return `start node ${request.node}`;
    case 'crash':
      return `crash ${cardName(request.card) ?? request.card}`;
    case 'scale':
      return `scale ${request.workload} to ${request.replicas}`;
    case 'rollout':
      return `roll out ${request.image} to ${request.workload}`;
  }
}

export interface ActionContext {
  rt: ClusterRuntime;
  cluster: string;
  engine: EngineActions;
  say: (entries: TimelineEntry[]) => void;
  /** A card's name by its id, as the page shows it. */
  cardName?: (id: string) => string | undefined;
  signal?: AbortSignal;
}

function entry(severity: TimelineEntry['severity'], text: string): TimelineEntry {
  return { at: new Date().toISOString(), kind: 'action', severity, text };
}

/** Steps of the library call, told on the timeline. */
function timelineReporter(say: ActionContext['say']): Reporter {
  return {
    async step(title, fn) {
      say([entry('info', `${title} …`)]);
      const result = await fn(() => undefined);
      say([entry('ok', `✓ ${title}`)]);
      return result;
    },
    info: (message) => say([entry('info', message)]),
    warn: (message) => say([entry('warning', message)]),
  };
}

/** Runs one action; returns what was done, or throws (UserError: the user's to fix). */
export async function runAction(request: ActionRequest, ctx: ActionContext): Promise<string> {
  const { rt, cluster, engine, say } = ctx;
  const what = describeAction(request, ctx.cardName);
  say([entry('info', `dashboard: ${what}`)]);
  try {
    let done: string;
    switch (request.action) {
      case 'node-stop':
      case 'node-start': {
        const action = request.action === 'node-stop' ? 'stop' : 'start';
        await withClusterLock(cluster, () => nodeAction(rt, cluster, request.node, action, timelineReporter(say), ctx.signal));
        done = `node ${request.node} ${action === 'stop' ? 'stopped' : 'started and rejoined'} (clusterlab node ${action} ${request.node})`;
        break;
      }
      case 'crash':
        done = await engine.crash(request.card);
        break;
      case 'scale':
        done = await engine.scale(request.workload, request.replicas);
        break;
      case 'rollout':
        done = await engine.rollout(request.workload, request.image);
        break;
    }
    say([entry('ok', done)]);
    return done;
  } catch (err) {
    say([entry('error', `${what} failed: ${messageOf(err)}`)]);
    throw err;
  }
}
