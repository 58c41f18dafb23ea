/**
 * Follows a Docker engine's /events stream: each event is a hint that something changed.
 * The stream ends when the engine stops or the connection drops; it is opened again after a
 * pause, until the signal aborts.
 */
import type Docker from 'dockerode';
import { LABELS } from '../cluster/labels.js';
import { jsonLineSplitter } from './json-lines.js';

export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export interface FollowOptions {
  /** Opens the stream (a new client may be picked each time). */
  open: (signal: AbortSignal) => Promise<NodeJS.ReadableStream>;
  onEvent: (event: DockerEvent) => void;
  /** Called when the stream was (re)opened: events may have been missed meanwhile. */
  onOpen?: () => void;
  signal: AbortSignal;
  retryMs?: number;
}

export function followDockerEvents(options: FollowOptions): void {
  const retryMs = options.retryMs ?? 2_000;
  const loop = async () => {
    while (!options.signal.aborted) {
      try {
        const stream = await options.open(options.signal);
        options.onOpen?.();
        await new Promise<void>((resolve) => {
          const split = jsonLineSplitter<DockerEvent>(options.onEvent);
          const done = () => {
            options.signal.removeEventListener('abort', abort);
            resolve();
          };
          const abort = () => {
            (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
            done();
          };
          options.signal.addEventListener('abort', abort, { once: true });
          stream.on('data', split);
          stream.on('end', done);
          stream.on('close', done);
          stream.on('error', done);
        });
      } catch {
        // The engine did not answer; try again after the pause.
      }
      if (options.signal.aborted) return;
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
  void loop();
}

/** The host engine's events about one cluster's node containers (start, die, pause, network). */
export function hostEventsFilter(cluster: string): Docker.GetEventsOptions['filters'] {
  return { type: ['container', 'network'], label: [`${LABELS.cluster}=${cluster}`] };
}
