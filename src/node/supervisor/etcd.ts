/**
 * etcd on a control-plane node: its flags (pure, unit-tested) and the daemon entry the
 * supervisor runs. Debian bookworm's etcd-server (3.4) serves clients on 127.0.0.1 and the node
 * ip, and its peers on the node ip. Peer and client traffic is plain HTTP: it stays on the
 * cluster's private Docker network (TLS between members is future work).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ETCD_CLIENT_PORT, ETCD_DATA_DIR, ETCD_PEER_PORT, type NodeConfig } from '../../common/node-config.js';
import type { DaemonSpec } from './daemon.js';
import { httpProbe } from './probes.js';

/**
 * Keep the last 10,000 revisions. Bounded by writes rather than time, so a burst of writes
 * (a failure lab hammering the API) cannot grow the database, while a quiet lab cluster keeps
 * hours of history for watches that resume after a restart.
 */
export const ETCD_COMPACTION_RETENTION_REVISIONS = 10_000;
/**
 * 512 MiB instead of etcd's 2 GiB: a lab cluster's data is a few MiB; the quota bounds the data
 * volume's disk use and makes a runaway writer fail loudly (NOSPACE alarm). RSS is unaffected.
 */
export const ETCD_QUOTA_BACKEND_BYTES = 512 * 1024 * 1024;
/**
 * Snapshot (and drop the in-memory raft log) every 10,000 entries instead of 100,000: the raft
 * log held in memory is the largest part of an idle etcd's RSS after many writes.
 */
export const ETCD_SNAPSHOT_COUNT = 10_000;

/** Go's GC target for etcd (default 100): see etcdLaunchPlan. */
export const ETCD_GOGC = 50;

export interface EtcdLaunchPlan {
  args: string[];
  env: Record<string, string>;
}

/**
 * etcd's command line and environment for this node.
 *
 * `hasMember`: the data dir already holds a member (`member/` exists). etcd then ignores the
 * initial-cluster flags and restarts as that member, so the state flag only matters the first
 * time, when it must be "new" (every control plane of a new cluster starts together).
 */
export function etcdLaunchPlan(config: NodeConfig, opts: { hasMember: boolean; arch: string }): EtcdLaunchPlan {
  const etcd = config.kube?.etcd;
  if (!etcd) throw new Error(`node ${config.node} runs etcd but its config has no kube.etcd section`);
  const nodeClientUrl = `http://${config.ip}:${ETCD_CLIENT_PORT}`;
  const peerUrl = `http://${config.ip}:${ETCD_PEER_PORT}`;
  const args = [
    '--name',
    etcd.name,
    '--data-dir',
    ETCD_DATA_DIR,
    '--listen-client-urls',
    `http://127.0.0.1:${ETCD_CLIENT_PORT},${nodeClientUrl}`,
    '--advertise-client-urls',
    nodeClientUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    etcd.initialCluster,
    '--initial-cluster-token',
    config.cluster,
  ];
  if (!opts.hasMember) args.push('--initial-cluster-state', 'new');
  args.push(
    '--auto-compaction-mode',
    'revision',
    '--auto-compaction-retention',
    String(ETCD_COMPACTION_RETENTION_REVISIONS),
    '--quota-backend-bytes',
    String(ETCD_QUOTA_BACKEND_BYTES),
    '--snapshot-count',
    String(ETCD_SNAPSHOT_COUNT),
    // Structured logs; capnslog is deprecated in 3.4 and warns about it on every start.
    '--logger',
    'zap',
    '--log-outputs',
    'stderr',
  );
  // A tighter Go GC: after 20,000 writes etcd held 80 MiB RSS instead of 97 MiB, for CPU a lab
  // cluster's write rate does not notice.
  const env: Record<string, string> = { GOGC: String(ETCD_GOGC) };
  // etcd 3.4 refuses to start on arm64 unless told this unsupported platform is fine.
  if (opts.arch === 'arm64') env.ETCD_UNSUPPORTED_ARCH = 'arm64';
  return { args, env };
}

/** The supervisor's entry for etcd: ready when GET /health on the local client URL says healthy. */
export function etcdDaemon(config: NodeConfig): DaemonSpec {
  const plan = etcdLaunchPlan(config, { hasMember: existsSync(path.join(ETCD_DATA_DIR, 'member')), arch: process.arch });
  return {
    name: 'etcd',
    command: 'etcd',
    args: plan.args,
    env: plan.env,
    probe: httpProbe({ host: '127.0.0.1', port: ETCD_CLIENT_PORT, path: '/health', expectBody: '{"health":"true"}' }),
    // A member of a new multi-node cluster is not healthy until a quorum of its peers started.
    notReadyWarningMs: 60_000,
  };
}
