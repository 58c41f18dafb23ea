/** Fakes shared by the labs unit tests: a clock that never waits, and a cluster view from data. */
import type { Clock } from '../../src/labs/poller.js';
import type { ClusterView, LabNode, Replica, Workload } from '../../src/labs/view.js';

/** Time moves only when someone sleeps (or `advance` is called). */
export class FakeClock implements Clock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export function node(name: string, extra: Partial<LabNode> = {}): LabNode {
  return {
    name,
    role: name === 'leader' ? 'manager' : 'worker',
    ready: true,
    state: 'ready',
    schedulable: true,
    availability: 'active',
    address: '',
    ...extra,
  };
}

export function replica(name: string, nodeName: string, extra: Partial<Replica> = {}): Replica {
  return { name, node: nodeName, state: 'running', running: true, image: 'clusterlab/web:v1', ...extra };
}

export function workload(name: string, replicas: Replica[], extra: Partial<Workload> = {}): Workload {
  return { kind: 'service', name, desired: replicas.length, image: 'clusterlab/web:v1', replicas, restarts: 0, revisions: 1, ...extra };
}

/** A view whose state a test sets (and changes) directly. */
export class FakeView implements ClusterView {
  readonly engine: 'swarm' | 'kube';
  nodeList: LabNode[];
  workloads = new Map<string, Workload>();
  calls = 0;

  constructor(engine: 'swarm' | 'kube' = 'swarm', nodes: LabNode[] = [node('leader'), node('worker1'), node('worker2')]) {
    this.engine = engine;
    this.nodeList = nodes;
  }
  async nodes(): Promise<LabNode[]> {
    this.calls++;
    return this.nodeList;
  }
  async workload(name: string): Promise<Workload | undefined> {
    this.calls++;
    return this.workloads.get(name);
  }
  async close(): Promise<void> {}
}
