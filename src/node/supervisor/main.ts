/**
 * The node supervisor: PID 1's only child (under tini) in every node container.
 *
 * Reads the NodeConfig the host copied in, starts the node's daemons (dockerd; on kube nodes
 * also etcd, the API server, the scheduler and the agent: see kube.ts), logs each daemon to
 * NODE_LOG_DIR/<daemon>.log, prints SupervisorEvent JSON lines on stdout (the container log
 * the host watches), restarts daemons that exit, and on SIGTERM/SIGINT stops them all and
 * exits 0.
 *
 * Runs on Debian's Node.js 18, bundled by scripts/bundle-node.mjs; imports only src/common.
 */
import { existsSync, readFileSync } from 'node:fs';
import { NODE_CONFIG_PATH, NODE_LOG_DIR, type NodeConfig } from '../../common/node-config.js';
import { parseNodeConfig } from './config.js';
import { detectCgroupParent, dockerdDaemon } from './dockerd.js';
import { jsonLinesEmitter, type Emit } from './events.js';
import { kubeDaemons } from './kube.js';
import { CGROUP_ROOT, delegateCgroupV2 } from './node-setup.js';
import { Supervisor } from './supervisor.js';

async function main(emit: Emit, stopRequested: Promise<NodeJS.Signals>): Promise<number> {
  const configPath = process.env.CLUSTERLAB_NODE_CONFIG || NODE_CONFIG_PATH;
  let config: NodeConfig;
  try {
    config = parseNodeConfig(readFileSync(configPath, 'utf8'));
  } catch (err) {
    emit({ event: 'error', message: `cannot read ${configPath}: ${err instanceof Error ? err.message : String(err)}` });
    return 1;
  }
  const logDir = process.env.CLUSTERLAB_NODE_LOG_DIR || NODE_LOG_DIR;

  let procSelfCgroup = '';
  try {
    procSelfCgroup = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    // not Linux: no cgroup parent
  }
  const plan = detectCgroupParent(procSelfCgroup, { unified: existsSync(`${CGROUP_ROOT}/cgroup.controllers`) });
  emit({ event: 'info', message: `node ${config.node} (${config.role}) of cluster ${config.cluster}; ${plan.reason}` });
  if (plan.v2Delegate !== undefined) emit({ event: 'info', message: await delegateCgroupV2(plan.v2Delegate) });

  const daemons = [dockerdDaemon(config, plan.parent, (message) => emit({ event: 'info', daemon: 'dockerd', message }))];
  if (config.engine === 'kube') daemons.push(...kubeDaemons(config));
  const supervisor = new Supervisor(daemons, { emit, logDir });
  supervisor.start();
  const signal = await stopRequested;
  emit({ event: 'stopping', message: `${signal} received` });
  await supervisor.shutdown();
  return 0;
}

const emit = jsonLinesEmitter((line) => process.stdout.write(line));
// Handlers first, so a stop during start-up is never lost; a second signal changes nothing.
const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
  process.on('SIGTERM', () => resolve('SIGTERM'));
  process.on('SIGINT', () => resolve('SIGINT'));
});
process.on('SIGHUP', () => {});
process.on('uncaughtException', (err) => {
  emit({ event: 'error', message: `supervisor bug: ${err.stack ?? String(err)}` });
  process.exit(1);
});

main(emit, stopRequested).then(
  (code) => process.exit(code),
  (err: unknown) => {
    emit({ event: 'error', message: `supervisor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` });
    process.exit(1);
  },
);
