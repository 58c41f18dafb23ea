/**
 * How each engine is made to go through the events. The application is the swarm-vs-k8s
 * lab's (its setup script, run by compare too): the sample web app (3 replicas of
 * clusterlab/web, health-checked, updated one at a time with the new replica ready before
 * an old one goes) and the probe on the first manager / control plane, sending 10 requests
 * a second to the app through the cluster's own service discovery. Actions are the
 * commands a person would type (bash with docker / kubectl / clusterlab pointed at the
 * cluster); everything measured is read through the APIs (the cluster view) and the
 * probe's /stats.
 */
import type { LabEngine } from '../labs/engines.js';
import type { Replica } from '../labs/view.js';

export const WEB_V1 = 'clusterlab/web:v1';
export const WEB_V2 = 'clusterlab/web:v2';
/** The lab whose app (setup script and images) the comparison runs. */
export const COMPARE_LAB = 'swarm-vs-k8s';
export const APP_REPLICAS = 3;
export const PROBE_RATE = 10;
/** The workload's name on both engines. */
export const WORKLOAD = 'web';

export interface EngineDriver {
  engine: LabEngine;
  /** Node whose address serves the probe's /stats, and the port there. */
  statsNode: string;
  statsPort: number;
  /** Kills one replica's container on its node, as a crash would. */
  crash(replica: Replica): string;
  rollout(image: string): string;
  scale(replicas: number): string;
}

/** Single-quoted for bash. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export const swarmDriver: EngineDriver = {
  engine: 'swarm',
  statsNode: 'leader',
  statsPort: 8082,
  crash: (replica) =>
    `clusterlab exec ${quote(replica.node)} -- sh -c 'docker kill $(docker ps -q --filter label=com.docker.swarm.service.name=web | head -n 1)' >/dev/null`,
  rollout: (image) => `docker service update --detach --image ${quote(image)} web >/dev/null`,
  scale: (replicas) => `docker service scale --detach web=${replicas} >/dev/null`,
};

export const kubeDriver: EngineDriver = {
  engine: 'kube',
  statsNode: 'leader',
  statsPort: 30091,
  crash: (replica) =>
    `clusterlab exec ${quote(replica.node)} -- sh -c ${quote(
      `docker kill $(docker ps -q --filter label=io.kubernetes.pod.name=${replica.name} --filter label=io.kubernetes.container.name=web | head -n 1)`,
    )} >/dev/null`,
  rollout: (image) => `kubectl set image deployment/web web=${quote(image)} >/dev/null`,
  scale: (replicas) => `kubectl scale deployment/web --replicas=${replicas} >/dev/null`,
};

export function driverFor(engine: LabEngine): EngineDriver {
  return engine === 'swarm' ? swarmDriver : kubeDriver;
}
