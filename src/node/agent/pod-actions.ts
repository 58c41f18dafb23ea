/**
 * What to do for a pod now, decided in pure code from the pod and what the runtime reports,
 * as the kubelet's computePodActions does: (re)create the sandbox, run init containers in
 * order, start or restart app containers per restartPolicy and back-off, kill unhealthy ones.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { initContainersDone, instancesByName } from './pod-status.js';
import type { RuntimeContainer } from './runtime.js';

export interface StartAction {
  spec: Container;
  init: boolean;
  attempt: number;
  /** The exited instance this one restarts (back-off is counted from its finish). */
  restartOf?: RuntimeContainer;
}

export interface PodActions {
  /** Create a sandbox with this attempt number (what runs without one is killed first). */
  createSandbox?: { attempt: number };
  kill: { container: RuntimeContainer; reason: 'liveness' | 'startup' | 'sandbox-changed' }[];
  /** In order; init containers one at a time. */
  start: StartAction[];
  /** Exited containers that should restart but wait for their crash back-off. */
  backingOff: { spec: Container; remainingMs: number; lastExit: RuntimeContainer }[];
  /** Instances no longer needed: dead sandboxes, and all but the newest two of each container. */
  remove: RuntimeContainer[];
}

export interface ActionContext {
  /** Remaining crash back-off for a container that exited at finishedAtMs (0 = may restart now). */
  backoffRemainingMs(containerName: string, finishedAtMs: number): number;
  /** Why a running container must be killed (failed probes), if it must. */
  mustRestart(container: RuntimeContainer): 'liveness' | 'startup' | undefined;
}

export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  if (restartPolicy === 'Never') return false;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return true;
}

function finishedMs(container: RuntimeContainer): number {
  const ms = Date.parse(container.finishedAt ?? '');
  return Number.isNaN(ms) ? 0 : ms;
}

export function computePodActions(pod: Pod, containers: RuntimeContainer[], ctx: ActionContext): PodActions {
  const actions: PodActions = { kill: [], start: [], backingOff: [], remove: [] };
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return actions; // finished pods keep their stopped containers
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const byName = instancesByName(containers);
  const sandboxes = byName.get('') ?? [];
  const sandbox = sandboxes[0];
  const appSpecs = pod.spec?.containers ?? [];

  if (sandbox?.state !== 'running') {
    const ranBefore = containers.some((c) => !c.identity.sandbox);
    const allSucceeded = appSpecs.every((spec) => {
      const latest = byName.get(spec.name)?.[0];
      return latest?.state === 'exited' && latest.exitCode === 0;
    });
    // A pod that ran to its end is not brought back (kubelet: no new sandbox for it).
    if (sandbox && ranBefore && (policy === 'Never' || (policy === 'OnFailure' && allSucceeded))) return actions;
    actions.createSandbox = { attempt: sandbox ? sandbox.identity.attempt + 1 : 0 };
    for (const container of containers) {
      if (container.identity.sandbox) {
        if (container.state !== 'running') actions.remove.push(container);
      } else if (container.state === 'running') actions.kill.push({ container, reason: 'sandbox-changed' });
    }
    return actions;
  }

  actions.remove.push(...sandboxes.slice(1).filter((s) => s.state !== 'running'));
  for (const [name, instances] of byName) if (name !== '') actions.remove.push(...instances.slice(2).filter((c) => c.state !== 'running'));

  const restartOrWait = (spec: Container, latest: RuntimeContainer, init: boolean): void => {
    const remainingMs = ctx.backoffRemainingMs(spec.name, finishedMs(latest));
    if (remainingMs > 0) actions.backingOff.push({ spec, remainingMs, lastExit: latest });
    else actions.start.push({ spec, init, attempt: latest.identity.attempt + 1, restartOf: latest });
  };

  if (!initContainersDone(pod, byName)) {
    for (const spec of pod.spec?.initContainers ?? []) {
      const latest = byName.get(spec.name)?.[0];
      if (!latest) {
        actions.start.push({ spec, init: true, attempt: 0 });
        break;
      }
      if (latest.state === 'running') break;
      if (latest.state === 'created') {
        actions.start.push({ spec, init: true, attempt: latest.identity.attempt });
        break;
      }
      if (latest.exitCode === 0) continue;
      if (policy !== 'Never') restartOrWait(spec, latest, true);
      break;
    }
    return actions;
  }

  for (const spec of appSpecs) {
    const latest = byName.get(spec.name)?.[0];
    if (!latest) {
      actions.start.push({ spec, init: false, attempt: 0 });
    } else if (latest.state === 'running') {
      const reason = ctx.mustRestart(latest);
      if (reason) actions.kill.push({ container: latest, reason });
    } else if (latest.state === 'created') {
      actions.start.push({ spec, init: false, attempt: latest.identity.attempt });
    } else if (shouldRestart(policy, latest.exitCode)) {
      restartOrWait(spec, latest, false);
    }
  }
  return actions;
}
