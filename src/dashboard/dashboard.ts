/**
 * `clusterlab dashboard` as a library call: the live state of one cluster (its engine's
 * source, the host's events about its nodes, the lab's progress file) served to a page.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { requireCluster } from '../cluster/nodes.js';
import type { ClusterRuntime } from '../cluster/runtime.js';
import { UserError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import { newAccessToken } from './access.js';
import { runAction } from './actions.js';
import { followDockerEvents, hostEventsFilter } from './docker-events.js';
import { KubeSource } from './kube-source.js';
import { labProgressFile, watchLabProgress } from './lab-progress.js';
import { LiveCluster } from './live.js';
import { startDashboardServer } from './server.js';
import { SwarmSource } from './swarm-source.js';

export interface DashboardOptions {
  /** 0 or undefined: any free port. */
  port?: number;
  /** Defaults to a new random token. */
  token?: string;
  /** Where the built page is (default: dist/dashboard/page of the package). */
  assetsDir?: string;
}

export interface RunningDashboard {
  url: string;
  port: number;
  token: string;
  engine: 'swarm' | 'kube';
  live: LiveCluster;
  close(): Promise<void>;
}

/** The built page: dist/dashboard/page (scripts/bundle-dashboard.mjs). */
export function dashboardAssetsDir(): string {
  return path.join(packageRoot(), 'dist', 'dashboard', 'page');
}

export async function startDashboard(rt: ClusterRuntime, clusterName: string, options: DashboardOptions = {}): Promise<RunningDashboard> {
  const cluster = await requireCluster(rt, clusterName);
  const assetsDir = options.assetsDir ?? dashboardAssetsDir();
  await access(path.join(assetsDir, 'index.html')).catch((err: unknown) => {
    throw new UserError(`the dashboard's page is not built (no ${path.join(assetsDir, 'index.html')})`, { hint: 'run npm run build', cause: err });
  });

  const source = cluster.engine === 'swarm' ? new SwarmSource(rt, cluster.name) : new KubeSource(rt, cluster.name);
  const live = new LiveCluster({ cluster: cluster.name, engine: cluster.engine, listMachines: () => rt.provider.listNodes(cluster.name), source });
  await live.start();
  // A node container stopping or pausing shows at once, before the orchestrator notices.
  followDockerEvents({ open: () => rt.docker.getEvents({ filters: hostEventsFilter(cluster.name) }), onEvent: () => live.poke(), signal: live.signal });
  const stopLab = watchLabProgress(labProgressFile(cluster.name), (progress) => live.setLab(progress));

  const token = options.token ?? newAccessToken();
  try {
    const server = await startDashboardServer({
      live,
      token,
      port: options.port ?? 0,
      assetsDir,
      runAction: (request) =>
        runAction(request, {
          rt,
          cluster: cluster.name,
          engine: source,
          say: (entries) => live.say(entries),
          cardName: (id) => live.state.cards.find((c) => c.id === id)?.name,
          signal: live.signal,
        }),
    });
    return {
      url: server.url,
      port: server.port,
      token,
      engine: cluster.engine,
      live,
      async close() {
        stopLab();
        live.stop();
        await server.close();
      },
    };
  } catch (err) {
    stopLab();
    live.stop();
    throw err;
  }
}
