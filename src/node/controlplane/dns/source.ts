/**
 * Where the zone's Services and Endpoints come from: two informers over all namespaces in the
 * daemon, any fake in tests (ClusterObjects is the seam). ZoneCache turns them into the Zone,
 * rebuilt on the first question after a change rather than on every watch event.
 */
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import { Informer, type ApiClient } from '../../shared/api-client.js';
import { buildZone, type Zone } from './records.js';

export interface ClusterObjects {
  /** True once Services and Endpoints have both been listed. */
  synced(): boolean;
  /** Changes whenever a Service or an Endpoints object is added, changed or removed. */
  generation(): number;
  services(): Service[];
  endpoints(): Endpoints[];
}

/** ClusterObjects from the API server: list + watch of /api/v1/services and /api/v1/endpoints. */
export class InformerObjects implements ClusterObjects {
  private readonly serviceInformer: Informer<Service>;
  private readonly endpointsInformer: Informer<Endpoints>;
  private changes = 0;
  private bothListed = false;

  constructor(
    client: ApiClient,
    private readonly log: (line: string) => void,
  ) {
    this.serviceInformer = this.watched(new Informer<Service>(client, '/api/v1/services', { log }));
    this.endpointsInformer = this.watched(new Informer<Endpoints>(client, '/api/v1/endpoints', { log }));
  }

  /** Resolves once both are listed (the informers retry until then); rejects if stopped first. */
  async start(): Promise<void> {
    await Promise.all([this.serviceInformer.start(), this.endpointsInformer.start()]);
    this.bothListed = true;
    this.changes++;
    this.log(`dns: synced ${this.serviceInformer.list().length} services and ${this.endpointsInformer.list().length} endpoints`);
  }

  stop(): void {
    this.serviceInformer.stop();
    this.endpointsInformer.stop();
  }

  synced(): boolean {
    return this.bothListed;
  }

  generation(): number {
    return this.changes;
  }

  services(): Service[] {
    return this.serviceInformer.list();
  }

  endpoints(): Endpoints[] {
    return this.endpointsInformer.list();
  }

  private watched<T extends Service | Endpoints>(informer: Informer<T>): Informer<T> {
    const changed = (): void => void this.changes++;
    return informer.onAdd(changed).onUpdate(changed).onDelete(changed);
  }
}

/** The current Zone of a ClusterObjects: undefined until it has synced. */
export class ZoneCache {
  private zone: Zone | undefined;
  private builtFrom = -1;
  private serial = 0;

  constructor(
    private readonly objects: ClusterObjects,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  current(): Zone | undefined {
    if (!this.objects.synced()) return undefined;
    const generation = this.objects.generation();
    if (this.zone === undefined || generation !== this.builtFrom) {
      // The SOA serial (CoreDNS: the time of the last change) only ever grows.
      this.serial = Math.max(this.serial + 1, this.nowSeconds()) >>> 0;
      this.zone = buildZone(this.objects.services(), this.objects.endpoints(), this.serial);
      this.builtFrom = generation;
    }
    return this.zone;
  }
}
