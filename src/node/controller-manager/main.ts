/** `node controller-manager.js`: the control loops; with 3 control planes one leads at a time. */
import { ApiClient, clientOptionsFromPki } from '../shared/api-client.js';
import { runWithLeaderElection } from '../shared/leader-election.js';
import { ControllerContext, DEFAULT_CONTROLLER_SETTINGS } from '../controlplane/controllers/context.js';
import { runControllerManager } from '../controlplane/controllers/manager.js';
import { leaderIdentity, log, runProcess } from '../controlplane/process.js';

runProcess('controller-manager', async (config, signal) => {
  const kube = config.kube!;
  const client = new ApiClient(clientOptionsFromPki('controlplane', kube.apiServers, `clusterlab-controller-manager/${config.node}`));
  const settings = {
    nodeMonitorGracePeriodSeconds: kube.nodeMonitorGracePeriodSeconds ?? DEFAULT_CONTROLLER_SETTINGS.nodeMonitorGracePeriodSeconds,
    defaultTolerationSeconds: kube.defaultTolerationSeconds ?? DEFAULT_CONTROLLER_SETTINGS.defaultTolerationSeconds,
    clusterCidr: kube.clusterCidr,
    serviceCidr: kube.serviceCidr,
  };
  await runWithLeaderElection(client, { namespace: 'kube-system', name: 'kube-controller-manager', identity: leaderIdentity(config), signal }, async (leadership) => {
    log('became the leading controller manager');
    await runControllerManager(new ControllerContext(client, leadership, log, settings));
  });
});
