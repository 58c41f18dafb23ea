/**
 * The dashboard page: follows the server's event stream (a snapshot, then patches and
 * timeline events), renders, and wires the actions. No framework, nothing from the network
 * but this server.
 */
import { applyPatch, type StatePatch } from '../diff.js';
import type { DashboardState, PushMessages, TimelineEvent } from '../model.js';
import { setupActions } from './actions.js';
import { byId } from './dom.js';
import { renderState, renderTimeline, tickAges } from './render.js';

const token = document.querySelector<HTMLMetaElement>('meta[name="clusterlab-token"]')?.content ?? '';
let state: DashboardState | undefined;
let lastSeq = 0;

function setConnection(kind: 'live' | 'connecting' | 'lost', text: string): void {
  const node = byId('connection');
  node.dataset.connection = kind;
  node.textContent = text;
}

function parse<K extends keyof PushMessages>(event: Event): PushMessages[K] {
  return JSON.parse((event as MessageEvent<string>).data) as PushMessages[K];
}

function addTimeline(events: TimelineEvent[], replace: boolean): void {
  // After a reconnect the snapshot repeats what was shown: draw it anew.
  const fresh = replace ? events : events.filter((e) => e.seq > lastSeq);
  if (fresh.length) lastSeq = Math.max(lastSeq, ...fresh.map((e) => e.seq));
  renderTimeline(fresh, replace);
}

function connect(): void {
  const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  source.addEventListener('open', () => setConnection('live', 'live'));
  source.addEventListener('error', () => setConnection(source.readyState === EventSource.CLOSED ? 'lost' : 'connecting', source.readyState === EventSource.CLOSED ? 'disconnected: reload the page' : 'reconnecting…'));
  source.addEventListener('snapshot', (event) => {
    const snapshot = parse<'snapshot'>(event);
    state = snapshot.state;
    renderState(state);
    addTimeline(snapshot.timeline, true);
    document.body.dataset.ready = 'true';
  });
  source.addEventListener('patch', (event) => {
    if (!state) return;
    state = applyPatch(state, parse<'patch'>(event) as StatePatch);
    renderState(state);
  });
  source.addEventListener('timeline', (event) => addTimeline(parse<'timeline'>(event), false));
}

function setupLargeText(): void {
  const button = byId('large-text');
  const apply = (on: boolean) => {
    document.documentElement.classList.toggle('large', on);
    button.setAttribute('aria-pressed', String(on));
  };
  const fromUrl = new URLSearchParams(location.search).get('large');
  apply(fromUrl !== null ? fromUrl !== '0' : localStorage.getItem('clusterlab-dashboard-large') === '1');
  button.addEventListener('click', () => {
    const on = !document.documentElement.classList.contains('large');
    localStorage.setItem('clusterlab-dashboard-large', on ? '1' : '0');
    apply(on);
  });
}

setupLargeText();
setupActions(token, () => state?.engine ?? 'swarm');
connect();
window.setInterval(tickAges, 1_000);
