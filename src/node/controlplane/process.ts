/**
 * What every control-plane process shares: its node config, a timestamped log on stdout
 * (the supervisor keeps it), and a main that stops on SIGTERM/SIGINT and exits non-zero
 * on failure so the supervisor restarts it. Each process is its own bundle (apiserver.js,
 * scheduler.js, controller-manager.js): one can be killed in a lab without the others, and
 * none carries the others' code in memory.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { NODE_CONFIG_PATH, type NodeConfig } from '../../common/node-config.js';

export function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

export function readControlPlaneConfig(): NodeConfig {
  const file = process.env.CLUSTERLAB_NODE_CONFIG || NODE_CONFIG_PATH;
  const config = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
  if (!config.kube?.controlPlane) throw new Error(`${file}: this node is not a kube control plane`);
  return config;
}

/** This process's identity in leader election: node, host and pid, as kube's components use. */
export function leaderIdentity(config: NodeConfig): string {
  return `${config.node}_${os.hostname()}_${process.pid}`;
}

/** Runs a control-plane process until SIGTERM/SIGINT. */
export function runProcess(name: string, main: (config: NodeConfig, signal: AbortSignal) => Promise<void>): void {
  const controller = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => controller.abort());
  process.on('uncaughtException', (err) => {
    log(`${name}: uncaught exception: ${err.stack ?? String(err)}`);
    process.exit(1);
  });
  Promise.resolve()
    .then(() => main(readControlPlaneConfig(), controller.signal))
    .then(
      () => process.exit(0),
      (err: unknown) => {
        log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exit(1);
      },
    );
}
