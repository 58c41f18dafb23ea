/** A running control plane for the controller tests: the API server in process and controllers on it. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient } from '../../src/node/shared/api-client.js';
import { ControllerContext, DEFAULT_CONTROLLER_SETTINGS, type ControllerSettings } from '../../src/node/controlplane/controllers/context.js';
import { startTestServer, type TestServer } from './apiserver-helpers.js';

export interface ControlPlane {
  server: TestServer;
  client: ApiClient;
  ctx: ControllerContext;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * An in-process API server and a ControllerContext on it; `setup` registers controllers,
 * then the informers start and the controllers run until stop().
 */
export async function startControlPlane(
  setup: Array<(ctx: ControllerContext) => () => Promise<void>>,
  settings: ControllerSettings = DEFAULT_CONTROLLER_SETTINGS,
): Promise<ControlPlane> {
  const server = await startTestServer();
  const client = new ApiClient({ servers: [server.url], ca: '', cert: '', key: '', userAgent: 'controller-test' });
  const abort = new AbortController();
  const logs: string[] = [];
  const ctx = new ControllerContext(client, abort.signal, (line) => logs.push(line), settings);
  const runs = setup.map((fn) => fn(ctx));
  await ctx.startInformers();
  const running = runs.map((run) => run());
  return {
    server,
    client,
    ctx,
    logs,
    stop: async () => {
      abort.abort();
      await Promise.allSettled(running);
      await server.close();
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after timeoutMs. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Plays the scheduler and the node agents for the controller tests: binds unbound pods to
 * the node their required matchFields affinity names (or `defaultNode`), turns new pods
 * Running and Ready, and finishes graceful deletions. `phaseFor` can end pods instead.
 */
export function startFakeNodes(
  client: ApiClient,
  opts: { defaultNode?: string; phaseFor?: (pod: Pod) => 'Running' | 'Succeeded' | 'Failed'; periodMs?: number } = {},
): { stop(): Promise<void> } {
  let stopped = false;
  const tick = async (): Promise<void> => {
    const { items } = await client.list<Pod>('/api/v1/pods');
    for (const pod of items) {
      const path = `/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}`;
      try {
        if (pod.metadata?.deletionTimestamp) {
          await client.delete(path, { gracePeriodSeconds: 0 });
          continue;
        }
        if (!pod.spec?.nodeName) {
          const target =
            pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? opts.defaultNode;
          if (!target) continue;
          await client.create(`${path}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata?.name }, target: { kind: 'Node', name: target } });
          continue;
        }
        if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
        const phase = opts.phaseFor?.(pod) ?? 'Running';
        const alreadyRunning = pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready');
        if (phase === 'Running' && alreadyRunning) continue;
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const ready = phase === 'Running' ? 'True' : 'False';
        await client.patch(
          `${path}/status`,
          {
            status: {
              phase,
              conditions: [
                { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
                { type: 'Ready', status: ready, lastTransitionTime: now },
              ],
              containerStatuses: [
                {
                  name: pod.spec.containers[0]?.name ?? 'main',
                  image: pod.spec.containers[0]?.image ?? '',
                  imageID: '',
                  ready: phase === 'Running',
                  restartCount: 0,
                  state: phase === 'Running' ? { running: { startedAt: now } } : { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: now } },
                },
              ],
            },
          },
          'merge',
        );
      } catch {
        // Raced with a controller (gone, or changed): the next tick sees the new state.
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, opts.periodMs ?? 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
