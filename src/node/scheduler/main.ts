/** `node scheduler.js`: binds pending pods; with 3 control planes one scheduler leads at a time. */
import { ApiClient, clientOptionsFromPki } from '../shared/api-client.js';
import { runWithLeaderElection } from '../shared/leader-election.js';
import { leaderIdentity, log, runProcess } from '../controlplane/process.js';
import { runScheduler } from '../controlplane/scheduler/scheduler.js';

runProcess('scheduler', async (config, signal) => {
  const client = new ApiClient(clientOptionsFromPki('controlplane', config.kube!.apiServers, `clusterlab-scheduler/${config.node}`));
  await runWithLeaderElection(client, { namespace: 'kube-system', name: 'kube-scheduler', identity: leaderIdentity(config), signal }, async (leadership) => {
    log('became the leading scheduler');
    await runScheduler(client, { signal: leadership, log });
  });
});
