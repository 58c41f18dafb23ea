/**
 * clusterlab's kube-controller-manager: every controller registers its informer handlers on
 * one shared ControllerContext, the informers start once (one watch per resource for all),
 * then every controller runs until the context's signal aborts (leadership lost, or SIGTERM).
 */
import type { ControllerContext } from './context.js';
import { setupClusterEndpointsController } from './cluster-endpoints.js';
import { setupCronJobController } from './cronjob.js';
import { setupDaemonSetController } from './daemonset.js';
import { setupDeploymentController } from './deployment.js';
import { setupDisruptionController } from './disruption.js';
import { setupEndpointsController } from './endpoints.js';
import { setupJobController } from './job.js';
import { setupNodeIpamController } from './node-ipam.js';
import { setupNodeLifecycleController } from './node-lifecycle.js';
import { setupReplicaSetController } from './replicaset.js';

type ControllerSetup = (ctx: ControllerContext) => () => Promise<void>;

/** Every controller, by the name kube-controller-manager gives it. A new controller goes here. */
export const CONTROLLERS: Readonly<Record<string, ControllerSetup>> = {
  replicaset: setupReplicaSetController,
  deployment: setupDeploymentController,
  daemonset: setupDaemonSetController,
  job: setupJobController,
  cronjob: setupCronJobController,
  'node-lifecycle': setupNodeLifecycleController,
  disruption: setupDisruptionController,
  endpoint: setupEndpointsController,
  'node-ipam': setupNodeIpamController,
  'cluster-endpoints': setupClusterEndpointsController,
};

export async function runControllerManager(ctx: ControllerContext, controllers: Readonly<Record<string, ControllerSetup>> = CONTROLLERS): Promise<void> {
  // Handlers first, so the informers' first lists reach every controller.
  const runs = Object.entries(controllers).map(([name, setup]) => ({ name, run: setup(ctx) }));
  await ctx.startInformers();
  ctx.log(`controller manager: started ${runs.map((r) => r.name).join(', ')}`);
  await Promise.all(
    runs.map(({ name, run }) =>
      run().catch((err: unknown) => {
        throw new Error(`controller ${name} stopped: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }),
    ),
  );
}
