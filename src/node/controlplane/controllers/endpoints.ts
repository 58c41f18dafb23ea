/**
 * The Endpoints controller: keeps one Endpoints object per Service that has a selector, listing
 * its pods' addresses (ready ones apart from the rest), and removes it with the Service.
 * Services without a selector keep whatever Endpoints their owner writes. The agents' service
 * rules and the cluster DNS read these objects.
 */
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound, objectKey } from '../../shared/api-client.js';
import type { ControllerContext } from './context.js';
import { endpointsUpdate, selectorMatches } from './endpoints-plan.js';
import { WorkQueue } from './work-queue.js';

function hasSelector(service: Service): boolean {
  return Object.keys(service.spec?.selector ?? {}).length > 0;
}

export function setupEndpointsController(ctx: ControllerContext): () => Promise<void> {
  const services = ctx.informer<Service>('/api/v1/services');
  const pods = ctx.informer<Pod>('/api/v1/pods');
  const endpoints = ctx.informer<Endpoints>('/api/v1/endpoints');
  const queue = new WorkQueue('endpoints', { log: ctx.log });

  const enqueueServicesOf = (pod: Pod): void => {
    for (const service of services.list()) {
      if (service.metadata?.namespace !== pod.metadata?.namespace || !hasSelector(service)) continue;
      if (selectorMatches(service.spec!.selector!, pod.metadata?.labels)) queue.add(objectKey(service));
    }
  };
  services
    .onAdd((s) => queue.add(objectKey(s)))
    .onUpdate((s) => queue.add(objectKey(s)))
    .onDelete((s) => queue.add(objectKey(s)));
  pods
    .onAdd(enqueueServicesOf)
    .onUpdate((pod, old) => {
      enqueueServicesOf(pod);
      if (JSON.stringify(pod.metadata?.labels) !== JSON.stringify(old.metadata?.labels)) enqueueServicesOf(old);
    })
    .onDelete(enqueueServicesOf);
  // Someone else edited or deleted a managed Endpoints: put it back.
  endpoints.onUpdate((e) => queue.add(objectKey(e))).onDelete((e) => queue.add(objectKey(e)));

  const sync = async (key: string): Promise<void> => {
    const [namespace, name] = key.split('/') as [string, string];
    const path = `/api/v1/namespaces/${namespace}/endpoints/${name}`;
    const service = services.get(key);
    const current = endpoints.get(key);
    if (!service) {
      // Only Endpoints this controller would have made go with the Service (kube keeps none either).
      if (current) await ctx.client.delete(path).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
      return;
    }
    if (!hasSelector(service) || service.metadata?.deletionTimestamp) return;
    const next = endpointsUpdate(service, pods.list(), current, new Date());
    if (!next) return;
    try {
      if (current) await ctx.client.update(path, next);
      else await ctx.client.create(`/api/v1/namespaces/${namespace}/endpoints`, next);
    } catch (err) {
      // A stale cache: the informer's next event brings the current object and a retry.
      if (isConflict(err)) queue.addAfter(key, 200);
      else throw err;
    }
  };

  return () => queue.run(sync, ctx.signal, 2);
}
