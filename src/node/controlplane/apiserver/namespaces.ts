/**
 * Namespaces' lifecycle: the ones every cluster starts with (and the `kubernetes` Service),
 * and the namespace finalizer (kube's namespace controller): a Terminating namespace has its
 * content deleted, then loses its `kubernetes` finalizer and leaves the store.
 */
import type { ObjectRegistry } from './objects.js';
import { findResource, RESOURCES } from './resources.js';
import type { ServiceAllocator } from './service-allocator.js';
import { ApiStatusError } from './status.js';
import type { KubeObject } from './strategy.js';

export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const NAMESPACES = findResource('', 'v1', 'namespaces')!;
const SERVICES = findResource('', 'v1', 'services')!;
const FINALIZE_POLL_MS = 500;

/** Spec finalizers without the namespace controller's own. */
export function withoutKubernetesFinalizer(ns: KubeObject): KubeObject | undefined {
  const spec = (ns.spec ?? {}) as { finalizers?: string[] };
  if (!(spec.finalizers ?? []).includes('kubernetes')) return undefined;
  return { ...ns, spec: { ...spec, finalizers: (spec.finalizers ?? []).filter((f) => f !== 'kubernetes') } };
}

export class NamespaceLifecycle {
  private readonly finalizing = new Set<string>();
  private stopped = false;

  constructor(
    private readonly registry: ObjectRegistry,
    private readonly allocator: ServiceAllocator,
  ) {
    registry.onNamespaceTerminating = (name) => this.startFinalizing(name);
  }

  /** Creates what a new cluster has (idempotent; every API server runs it at start). */
  async bootstrap(): Promise<void> {
    for (const name of INITIAL_NAMESPACES) {
      await ignoreAlreadyExists(this.registry.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
      await this.registry.ensureDefaultServiceAccount(name);
    }
    await ignoreAlreadyExists(
      this.registry.create(SERVICES, 'default', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: {
          type: 'ClusterIP',
          clusterIP: this.allocator.kubernetesServiceIp,
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
          sessionAffinity: 'None',
        },
      }).catch((err: unknown) => {
        // Another API server created it at the same moment.
        if (err instanceof ApiStatusError && err.code === 422) return undefined;
        throw err;
      }),
    );
    // Terminations an earlier API server did not finish.
    const { items } = await this.registry.list(NAMESPACES, undefined);
    for (const ns of items) if (ns.metadata.deletionTimestamp !== undefined) this.startFinalizing(ns.metadata.name!);
  }

  startFinalizing(name: string): void {
    if (this.finalizing.has(name) || this.stopped) return;
    this.finalizing.add(name);
    this.registry.background(`finalizing namespace ${name}`, async () => {
      try {
        await this.finalize(name);
      } finally {
        this.finalizing.delete(name);
      }
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private async finalize(name: string): Promise<void> {
    while (!this.stopped) {
      const remaining = await this.deleteContent(name);
      if (remaining === 0) break;
      await new Promise((resolve) => setTimeout(resolve, FINALIZE_POLL_MS));
    }
    if (this.stopped) return;
    try {
      await this.registry.guaranteedUpdate(NAMESPACES, undefined, name, (ns) => (ns.metadata.deletionTimestamp ? withoutKubernetesFinalizer(ns) : undefined));
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }

  /** Deletes what is left in the namespace; returns how many objects are still there. */
  private async deleteContent(namespace: string): Promise<number> {
    let remaining = 0;
    for (const res of RESOURCES) {
      if (!res.namespaced) continue;
      const { items } = await this.registry.list(res, namespace);
      remaining += items.length;
      for (const obj of items) {
        if (obj.metadata.deletionTimestamp !== undefined) continue;
        try {
          await this.registry.delete(res, namespace, obj.metadata.name!, { propagationPolicy: 'Background' });
        } catch (err) {
          if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
        }
      }
    }
    return remaining;
  }
}

async function ignoreAlreadyExists(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (!(err instanceof ApiStatusError && err.status.reason === 'AlreadyExists')) throw err;
  }
}
