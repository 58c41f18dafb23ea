/**
 * Records core/v1 Events the way client-go's recorder does: a new Event the first time,
 * then count + lastTimestamp bumps on the same Event while an identical one recurs.
 */
import type { Event } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from './api-client.js';
import { isNotFound } from './api-error.js';

export interface InvolvedObject {
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  apiVersion?: string;
}

/** An identical event within this window bumps the existing one instead of creating another. */
const AGGREGATE_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED_EVENTS = 4096;

interface RememberedEvent {
  namespace: string;
  name: string;
  count: number;
  lastSeenMs: number;
}

/** What each client recorded recently (per client: no global state shared between clients). */
const recentByClient = new WeakMap<ApiClient, Map<string, RememberedEvent>>();

/** Posts a core/v1 Event (or bumps count/lastTimestamp of an identical recent one). Never throws. */
export async function recordEvent(
  client: ApiClient,
  involved: InvolvedObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
  host?: string,
): Promise<void> {
  const recent = recentByClient.get(client) ?? new Map<string, RememberedEvent>();
  recentByClient.set(client, recent);
  const identity = JSON.stringify([involved.kind, involved.namespace, involved.name, involved.uid, type, reason, message, component, host]);
  const now = new Date();
  const nowText = now.toISOString().replace(/\.\d{3}Z$/, 'Z'); // Event timestamps are whole seconds
  try {
    const previous = recent.get(identity);
    if (previous !== undefined && now.getTime() - previous.lastSeenMs < AGGREGATE_WINDOW_MS) {
      try {
        await client.patch(`/api/v1/namespaces/${previous.namespace}/events/${previous.name}`, { count: previous.count + 1, lastTimestamp: nowText }, 'merge');
        previous.count += 1;
        previous.lastSeenMs = now.getTime();
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The event expired or was deleted: create a fresh one below.
      }
    }
    const namespace = involved.namespace || 'default';
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(involved.name, now), namespace },
      involvedObject: {
        kind: involved.kind,
        name: involved.name,
        ...(involved.namespace ? { namespace: involved.namespace } : {}),
        ...(involved.uid ? { uid: involved.uid } : {}),
        ...(involved.apiVersion ? { apiVersion: involved.apiVersion } : {}),
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: nowText,
      lastTimestamp: nowText,
      source: { component, ...(host ? { host } : {}) },
      reportingComponent: component,
      reportingInstance: host ?? '',
    };
    const created = await client.create<Event>(`/api/v1/namespaces/${namespace}/events`, event);
    recent.delete(identity);
    recent.set(identity, { namespace, name: created?.metadata?.name ?? event.metadata.name!, count: 1, lastSeenMs: now.getTime() });
    if (recent.size > MAX_REMEMBERED_EVENTS) {
      const oldest = recent.keys().next().value;
      if (oldest !== undefined) recent.delete(oldest);
    }
  } catch {
    // Events are best effort: losing one must never break the caller.
  }
}

/** Kubernetes names events OBJECT.<unix nanoseconds in hex>. */
function eventName(objectName: string, now: Date): string {
  const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  return `${objectName}.${nanos.toString(16)}`;
}
