/**
 * The agent's network duties, driven by the API: once the controller manager has given this
 * node its range, make the pods' bridge; keep a route to every other node's range; keep the
 * Service rules in step with Services and Endpoints (kube-proxy's job); write each pod's
 * resolv.conf. Syncs are coalesced (a burst of endpoint changes is one iptables write) and
 * repeated periodically, which also repairs rules someone flushed by hand.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Endpoints, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { type ApiClient, Informer, objectKey } from '../shared/api-client.js';
import { CLUSTER_DOMAIN, dnsServiceIp } from '../shared/cluster-dns.js';
import type { DockerClient } from './docker-client.js';
import { desiredRoutes, PodNetwork, POD_NETWORK, runCommand, type CommandRunner } from './pod-network.js';
import type { PodNetworkAccess } from './pod-syncer.js';
import { podResolvConf } from './resolv-conf.js';
import { ServiceProxy } from './service-proxy.js';

export interface NodeNetworkOptions {
  client: ApiClient;
  docker: DockerClient;
  nodeName: string;
  clusterCidr: string;
  serviceCidr: string;
  /** Pod directories live here (the volume manager's stateDir/pods/UID). */
  podDir(uid: string): string;
  log(line: string): void;
  run?: CommandRunner;
  /** The node's own resolver config, for dnsPolicy Default. */
  nodeResolvConfPath?: string;
}

/** kube-proxy's defaults: at most one sync per second, and a full one every 30 s. */
const MIN_SYNC_INTERVAL_MS = 1_000;
const PERIODIC_SYNC_MS = 30_000;
const RETRY_MS = 2_000;

export class NodeNetwork implements PodNetworkAccess {
  private readonly nodes: Informer<Node>;
  private readonly services: Informer<Service>;
  private readonly endpoints: Informer<Endpoints>;
  private readonly podNetwork: PodNetwork;
  private readonly proxy: ServiceProxy;
  private readonly run: CommandRunner;
  private podCidr: string | undefined;
  private bridgeFilter: boolean | undefined;
  private readonly bridgeReady: Promise<string>;
  private resolveBridge!: (network: string) => void;
  private syncTimer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private syncing = false;
  private syncAgain = false;
  private lastSyncAt = 0;
  private stopped = false;

  constructor(private readonly opts: NodeNetworkOptions) {
    this.run = opts.run ?? runCommand;
    this.podNetwork = new PodNetwork(opts.docker, this.run, opts.log);
    this.proxy = new ServiceProxy(this.run, opts.log);
    this.bridgeReady = new Promise((resolve) => (this.resolveBridge = resolve));
    const log = opts.log;
    this.nodes = new Informer<Node>(opts.client, '/api/v1/nodes', { log });
    this.services = new Informer<Service>(opts.client, '/api/v1/services', { log });
    this.endpoints = new Informer<Endpoints>(opts.client, '/api/v1/endpoints', { log });
    const onNode = (node: Node, old?: Node): void => {
      const facts = (n: Node | undefined) => JSON.stringify([n?.spec?.podCIDR, n?.status?.addresses]);
      if (old === undefined || facts(node) !== facts(old)) this.requestSync();
    };
    this.nodes.onAdd((n) => onNode(n)).onUpdate(onNode).onDelete(() => this.requestSync());
    for (const informer of [this.services, this.endpoints] as Array<Informer<Service | Endpoints>>) {
      informer.onAdd(() => this.requestSync()).onUpdate(() => this.requestSync()).onDelete(() => this.requestSync());
    }
  }

  async start(): Promise<void> {
    await Promise.all([this.nodes.start(), this.services.start(), this.endpoints.start()]);
    this.periodic = setInterval(() => this.requestSync(), PERIODIC_SYNC_MS);
    this.requestSync();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.syncTimer);
    clearInterval(this.periodic);
    this.nodes.stop();
    this.services.stop();
    this.endpoints.stop();
  }

  /** Resolves once the pods' bridge exists on this node's range. */
  ready(): Promise<string> {
    return this.bridgeReady;
  }

  resolvConfPath(pod: Pod): string {
    return path.join(this.opts.podDir(pod.metadata?.uid ?? ''), 'resolv.conf');
  }

  async writeResolvConf(pod: Pod): Promise<string> {
    const file = this.resolvConfPath(pod);
    const nodeResolvConf = await fs.readFile(this.opts.nodeResolvConfPath ?? '/etc/resolv.conf', 'utf8').catch(() => '');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, podResolvConf(pod, { nameserver: dnsServiceIp(this.opts.serviceCidr), domain: CLUSTER_DOMAIN }, nodeResolvConf));
    return file;
  }

  private requestSync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (this.syncTimer) return;
    const wait = Math.max(0, this.lastSyncAt + MIN_SYNC_INTERVAL_MS - Date.now());
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      void this.sync();
    }, wait);
  }

  private async sync(): Promise<void> {
    this.syncing = true;
    this.lastSyncAt = Date.now();
    try {
      await this.syncBridge();
      await this.podNetwork.syncRoutes(desiredRoutes(this.nodes.list(), this.opts.nodeName), this.opts.clusterCidr);
      await this.proxy.sync({
        services: this.services.list(),
        endpoints: new Map(this.endpoints.list().map((e) => [objectKey(e), e])),
        clusterCidr: this.opts.clusterCidr,
        ...(this.bridgeFilter === false && this.podCidr ? { localPodCidrWithoutBridgeFilter: this.podCidr } : {}),
      });
    } catch (err) {
      this.opts.log(`agent: network sync failed (retrying): ${err instanceof Error ? err.message : String(err)}`);
      setTimeout(() => this.requestSync(), RETRY_MS);
    } finally {
      this.syncing = false;
      if (this.syncAgain) {
        this.syncAgain = false;
        this.requestSync();
      }
    }
  }

  private async syncBridge(): Promise<void> {
    const range = this.nodes.get(this.opts.nodeName)?.spec?.podCIDR;
    if (!range || range === this.podCidr) return;
    await this.podNetwork.ensureBridge(range);
    this.bridgeFilter ??= await this.podNetwork.enableBridgeFilter();
    if (!this.bridgeFilter) this.opts.log('agent: bridged traffic does not pass iptables here; same-node Service connections are masqueraded');
    this.podCidr = range;
    this.resolveBridge(POD_NETWORK);
  }
}
