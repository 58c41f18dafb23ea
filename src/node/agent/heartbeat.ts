/**
 * The node's presence in the API: registration (create or update the Node), the Lease in
 * kube-node-lease renewed every 10 s, and the node status (Ready's lastHeartbeatTime) written
 * at once when it changes and at least every 40 s. API outages are retried, never fatal.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../shared/api-client.js';
import { ApiError, isConflict, isNotFound } from '../shared/api-client.js';
import { microTime } from '../shared/leader-election.js';
import type { MachineInfo } from './machine-info.js';
import { buildNodeStatus, nodeStatusChanged, registrationNode, reregistrationPatch, type NodeIdentity } from './node-status.js';
import type { NodeRuntimeInfo } from './runtime.js';

export const LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;
export const LEASE_RENEW_MS = 10_000;

/**
 * How often the Lease is renewed: every 10 s as the kubelet does against kube's 40 s grace
 * period, and a quarter of the grace period when a lab shortens it, so a busy but healthy
 * node never looks silent to the node lifecycle controller.
 */
export function leaseRenewMs(nodeMonitorGracePeriodSeconds: number | undefined): number {
  if (nodeMonitorGracePeriodSeconds === undefined) return LEASE_RENEW_MS;
  return Math.max(500, Math.min(LEASE_RENEW_MS, (nodeMonitorGracePeriodSeconds * 1000) / 4));
}
/** How often the status is computed; written when changed or when the last write is this old. */
export const STATUS_CHECK_MS = 10_000;
export const STATUS_REPORT_MS = 40_000;

export type HeartbeatClient = Pick<ApiClient, 'getOrUndefined' | 'create' | 'update' | 'patch'>;

export interface HeartbeatDeps {
  client: HeartbeatClient;
  node: NodeIdentity;
  machine: MachineInfo;
  runtime: NodeRuntimeInfo;
  log(line: string): void;
  signal: AbortSignal;
}

/** Retries fn until it resolves or the signal aborts: 0.5 s doubling to 10 s. */
export async function retryUntilDone<T>(what: string, fn: () => Promise<T>, signal: AbortSignal, log: (line: string) => void): Promise<T | undefined> {
  let delayMs = 500;
  while (!signal.aborted) {
    try {
      return await fn();
    } catch (err) {
      log(`agent: ${what} failed, retrying in ${delayMs / 1000}s: ${(err as Error).message}`);
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, 10_000);
    }
  }
  return undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'AlreadyExists';
}

export class NodeHeartbeat {
  private lastStatus: NodeStatus | undefined;
  private lastReportMs = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly deps: HeartbeatDeps) {}

  private get nodePath(): string {
    return `/api/v1/nodes/${this.deps.node.name}`;
  }

  private get leasePath(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${this.deps.node.name}`;
  }

  /** Creates or updates the Node and writes its first status; retries until done (or aborted). */
  async register(): Promise<boolean> {
    const done = await retryUntilDone(
      'registering the node',
      async () => {
        const { client, node, machine } = this.deps;
        const existing = await client.getOrUndefined<Node>(this.nodePath);
        if (existing) {
          await client.patch(this.nodePath, reregistrationPatch(node, machine), 'merge');
          this.deps.log(`agent: node ${node.name} already registered; labels updated`);
        } else {
          await client.create('/api/v1/nodes', registrationNode(node, machine));
          this.deps.log(`agent: registered node ${node.name}`);
        }
        await this.reportStatus(true);
        return true;
      },
      this.deps.signal,
      this.deps.log,
    );
    return done === true;
  }

  /** Starts the lease and status loops (until the signal aborts). */
  start(): void {
    const every = (ms: number, fn: () => Promise<void>): void => {
      let running = false;
      const timer = setInterval(() => {
        if (running || this.deps.signal.aborted) return;
        running = true;
        fn().finally(() => (running = false));
      }, ms);
      this.timers.push(timer);
    };
    void this.renewLease();
    every(leaseRenewMs(this.deps.node.kube.nodeMonitorGracePeriodSeconds), () => this.renewLease());
    every(STATUS_CHECK_MS, () => this.reportStatus(false));
    this.deps.signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Renews (or creates) the node's Lease; failures are logged and retried next period. */
  async renewLease(nowMs: number = Date.now()): Promise<void> {
    const { client, node } = this.deps;
    const spec = { holderIdentity: node.name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(nowMs) };
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const current = await client.getOrUndefined<Lease>(this.leasePath);
        try {
          if (!current) {
            await client.create<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name: node.name, namespace: LEASE_NAMESPACE },
              spec,
            });
          } else {
            await client.update<Lease>(this.leasePath, { ...current, spec: { ...current.spec, ...spec } });
          }
          return;
        } catch (err) {
          // Someone else wrote it meanwhile (or created it): read again and retry.
          if (!isConflict(err) && !isAlreadyExists(err)) throw err;
        }
      }
    } catch (err) {
      this.deps.log(`agent: renewing lease failed: ${(err as Error).message}`);
    }
  }

  /** Writes the node status when it changed, or when `force`, or when the last report is getting old. */
  async reportStatus(force: boolean, now: Date = new Date()): Promise<void> {
    let runtimeVersion: string | undefined;
    let images: Awaited<ReturnType<NodeRuntimeInfo['listImages']>> = [];
    try {
      runtimeVersion = await this.deps.runtime.version();
      images = await this.deps.runtime.listImages();
    } catch (err) {
      this.deps.log(`agent: container runtime does not answer: ${(err as Error).message}`);
    }
    const status = buildNodeStatus({
      node: this.deps.node,
      machine: this.deps.machine,
      runtimeVersion,
      images,
      previous: this.lastStatus?.conditions ?? [],
      now,
    });
    const due = now.getTime() - this.lastReportMs >= STATUS_REPORT_MS - STATUS_CHECK_MS / 2;
    if (!force && !due && !nodeStatusChanged(this.lastStatus, status)) return;
    try {
      await this.deps.client.patch(`${this.nodePath}/status`, { status }, 'merge');
      const readyNow = status.conditions?.find((c) => c.type === 'Ready')?.status;
      const readyBefore = this.lastStatus?.conditions?.find((c) => c.type === 'Ready')?.status;
      if (readyNow !== readyBefore) this.deps.log(`agent: node ${this.deps.node.name} Ready=${readyNow}`);
      this.lastStatus = status;
      this.lastReportMs = now.getTime();
    } catch (err) {
      if (isNotFound(err)) {
        // Someone deleted the Node: register it again, as the kubelet does after a restart.
        this.deps.log(`agent: node ${this.deps.node.name} is gone from the API; registering again`);
        await this.deps.client.create('/api/v1/nodes', registrationNode(this.deps.node, this.deps.machine)).catch(() => undefined);
        return;
      }
      if (force) throw err;
      this.deps.log(`agent: updating node status failed: ${(err as Error).message}`);
    }
  }
}
