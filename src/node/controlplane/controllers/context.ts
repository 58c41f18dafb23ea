/**
 * What every controller of the controller manager gets: the API client, one shared informer
 * per resource path (so five controllers watching pods cost one watch and one cache), the
 * stop signal and the log, and the node-lifecycle timings from the cluster config.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { type ApiClient, Informer } from '../../shared/api-client.js';

export interface ControllerSettings {
  /** A node whose agent has not renewed its Lease for this long turns Unknown (kube: 40 s). */
  nodeMonitorGracePeriodSeconds: number;
  /** tolerationSeconds of the not-ready/unreachable tolerations added to pods (kube: 300 s). */
  defaultTolerationSeconds: number;
  /** The pods' address range, split into one /24 per node (kube: --cluster-cidr). */
  clusterCidr: string;
  /** The ClusterIP range; the kube-dns Service takes its tenth address. */
  serviceCidr: string;
}

export const DEFAULT_CONTROLLER_SETTINGS: ControllerSettings = {
  nodeMonitorGracePeriodSeconds: 40,
  defaultTolerationSeconds: 300,
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/12',
};

export class ControllerContext {
  private readonly informers = new Map<string, Informer<{ metadata?: ObjectMeta }>>();

  constructor(
    readonly client: ApiClient,
    readonly signal: AbortSignal,
    readonly log: (line: string) => void,
    readonly settings: ControllerSettings = DEFAULT_CONTROLLER_SETTINGS,
  ) {
    signal.addEventListener('abort', () => {
      for (const informer of this.informers.values()) informer.stop();
    });
  }

  /**
   * The shared informer of a collection path such as '/api/v1/pods' or
   * '/apis/apps/v1/replicasets' (all namespaces). Register handlers before calling
   * `startInformers`; handlers added later still see every later change.
   */
  informer<T extends { metadata?: ObjectMeta }>(apiPath: string): Informer<T> {
    let informer = this.informers.get(apiPath);
    if (!informer) {
      informer = new Informer<{ metadata?: ObjectMeta }>(this.client, apiPath, { log: this.log });
      this.informers.set(apiPath, informer);
    }
    // One cache per path, shared by every controller that asks for it with its own T.
    return informer as unknown as Informer<T>;
  }

  /** Starts every informer asked for so far; resolves once each has its first list. */
  async startInformers(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.start()));
  }
}
