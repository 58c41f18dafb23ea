/**
 * The kubelet's GET /containerLogs/{namespace}/{pod}/{container}: which container instance a
 * request means (the current one, or with previous=true the last one that terminated, as the
 * kubelet's validateContainerLogStatus decides), its options, and the streamed answer.
 */
import type { ServerResponse } from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { KubeletApiError } from './kubelet-errors.js';
import { shouldRestart } from './pod-actions.js';
import { instancesByName } from './pod-status.js';
import type { ContainerStreams, LogRequest, LogSession, OutputStream, RuntimeContainer } from './runtime.js';

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** From sinceSeconds (relative to `now`) or sinceTime. */
  since?: Date;
}

/** The client is slower than the log: stop reading docker above this much unsent output. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * The kubelet's PodLogOptions from a query: 400 when a value cannot be decoded, 422 when the
 * options are invalid together (same answers and messages as the kubelet).
 */
export function parseLogOptions(query: URLSearchParams, now: Date = new Date()): LogOptions {
  const undecodable = (): KubeletApiError => new KubeletApiError(400, '{"message": "Unable to decode query."}');
  const invalid = (): KubeletApiError => new KubeletApiError(422, '{"message": "Invalid request."}');
  const bool = (name: string): boolean => {
    const value = query.get(name);
    if (value === null || value === '') return false;
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
    throw undecodable();
  };
  const int = (name: string): number | undefined => {
    const value = query.get(name);
    if (value === null || value === '') return undefined;
    if (!/^[+-]?\d+$/.test(value)) throw undecodable();
    return Number.parseInt(value, 10);
  };
  // The kubelet still takes the old `tail` parameter ("all" = everything).
  const legacyTail = query.get('tail');
  const tailLines = legacyTail !== null && legacyTail !== '' ? (legacyTail === 'all' ? undefined : int('tail')) : int('tailLines');
  const limitBytes = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  const sinceTimeText = query.get('sinceTime');
  let sinceTime: Date | undefined;
  if (sinceTimeText !== null && sinceTimeText !== '') {
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(sinceTimeText)) throw undecodable();
    sinceTime = new Date(sinceTimeText);
    if (Number.isNaN(sinceTime.getTime())) throw undecodable();
  }
  const options: LogOptions = { follow: bool('follow'), previous: bool('previous'), timestamps: bool('timestamps') };
  if (tailLines !== undefined) {
    if (tailLines < 0) throw invalid();
    options.tailLines = tailLines;
  }
  if (limitBytes !== undefined) {
    if (limitBytes < 1) throw invalid();
    options.limitBytes = limitBytes;
  }
  if (sinceSeconds !== undefined && sinceTime !== undefined) throw invalid();
  if (sinceSeconds !== undefined) {
    if (sinceSeconds < 1) throw invalid();
    options.since = new Date(now.getTime() - sinceSeconds * 1000);
  }
  if (sinceTime) options.since = sinceTime;
  return options;
}

/**
 * The container instance whose log a request means, from the pod and its containers in the
 * runtime; KubeletApiError with the kubelet's status and message when there is none.
 */
export function selectLogContainer(pod: Pod, containers: RuntimeContainer[], containerName: string, previous: boolean): RuntimeContainer {
  const podName = pod.metadata?.name ?? '';
  const specs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  if (!specs.some((spec) => spec.name === containerName)) {
    throw new KubeletApiError(404, `container "${containerName}" not found in pod "${podName}"`);
  }
  const instances = (instancesByName(containers).get(containerName) ?? []).filter((c) => !c.identity.sandbox);
  const [latest] = instances;

  if (previous) {
    // The pod status's lastState: the newest exit when it is followed by a restart (running,
    // being created or backing off), the one before it when it is the container's final state.
    const lastTerminated = latest?.state === 'exited' && willRestart(pod, latest) ? latest : instances.slice(1).find((c) => c.state === 'exited');
    if (!lastTerminated) throw new KubeletApiError(400, `previous terminated container "${containerName}" in pod "${podName}" not found`);
    return lastTerminated;
  }
  if (latest && (latest.state === 'running' || latest.state === 'exited')) return latest;
  // Not started yet: the instance before it still has a log.
  const earlier = instances.find((c) => c.state === 'exited');
  if (earlier) return earlier;
  throw new KubeletApiError(400, waitingMessage(pod, containerName));
}

function willRestart(pod: Pod, exited: RuntimeContainer): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  // An init container that succeeded is done; one that failed runs again unless the policy is Never.
  if (exited.identity.init) return exited.exitCode !== 0 && policy !== 'Never';
  return shouldRestart(policy, exited.exitCode);
}

function waitingMessage(pod: Pod, containerName: string): string {
  const podName = pod.metadata?.name ?? '';
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const reason = statuses.find((s) => s.name === containerName)?.state?.waiting?.reason || 'ContainerCreating';
  const prefix = `container "${containerName}" in pod "${podName}" is waiting to start`;
  if (reason === 'ErrImagePull') return `${prefix}: image can't be pulled`;
  if (reason === 'ImagePullBackOff') return `${prefix}: trying and failing to pull image`;
  return `${prefix}: ${reason}`;
}

/**
 * Streams one container's log as the answer: 200 text/plain, each piece written (and so sent)
 * as docker delivers it, until the log ends, limitBytes is reached or the client goes away.
 * A runtime refusal before any output is a 400 with its message, as the kubelet answers.
 */
export async function serveContainerLogs(res: ServerResponse, streams: ContainerStreams, container: RuntimeContainer, options: LogOptions): Promise<void> {
  const request: LogRequest = {
    follow: options.follow,
    timestamps: options.timestamps,
    tty: container.tty === true,
    ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
    ...(options.since ? { since: options.since } : {}),
  };
  let remaining = options.limitBytes ?? Number.POSITIVE_INFINITY;
  let session: LogSession | undefined;
  let paused = false;
  const sendHeaders = (): void => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'text/plain' });
  };
  const onOutput = (_stream: OutputStream, data: Buffer): void => {
    if (remaining <= 0 || res.destroyed) return;
    const piece = data.length > remaining ? data.subarray(0, remaining) : data;
    remaining -= piece.length;
    sendHeaders();
    res.write(piece);
    if (remaining <= 0) session?.close();
    else if (res.writableLength > HIGH_WATER_BYTES && !paused) {
      paused = true;
      session?.pause();
    }
  };
  try {
    session = await streams.logs(container.id, request, onOutput);
  } catch (err) {
    throw new KubeletApiError(400, (err as Error).message);
  }
  const open = session;
  // Headers now, not at the first line: a quiet container followed must not look like a hung kubelet.
  sendHeaders();
  res.flushHeaders();
  res.on('drain', () => {
    if (!paused) return;
    paused = false;
    open.resume();
  });
  // The client went away: stop reading docker (with follow it would go on forever).
  res.once('close', () => open.close());
  if (res.destroyed || remaining <= 0) open.close();
  await open.finished;
  res.end();
}
