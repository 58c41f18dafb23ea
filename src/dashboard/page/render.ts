/**
 * The board: the lab's progress, the workloads, and one column per node with its cards.
 * Rebuilt from the state on every change (a few dozen elements); cards that are new since
 * the last render fade in, so that what moved catches the eye.
 */
import { formatAge, formatBytes, formatClock, formatCpus } from '../format.js';
import type { CardView, DashboardState, NodeView, TimelineEvent, WorkloadView } from '../model.js';
import { byId, el } from './dom.js';

const seenCards = new Set<string>();
let firstRender = true;

function age(iso: string): HTMLElement {
  return el('span', { class: 'age', 'data-since': iso, title: `since ${formatClock(iso)}` }, formatAge(Date.now() - Date.parse(iso)));
}

/** Ages move on without new data. */
export function tickAges(): void {
  for (const node of document.querySelectorAll<HTMLElement>('[data-since]')) {
    node.textContent = formatAge(Date.now() - Date.parse(node.dataset.since ?? ''));
  }
}

function card(view: CardView): HTMLElement {
  const fresh = !firstRender && !seenCards.has(view.id);
  const crashable = view.tone === 'ok' || view.tone === 'warning';
  return el(
    'li',
    {
      class: `card tone-${view.tone}${fresh ? ' fresh' : ''}`,
      'data-card': view.id,
      'data-node': view.node,
      'data-workload': view.workload,
      'data-tone': view.tone,
      'data-state': view.state,
      title: view.message,
    },
    el('div', { class: 'card-head' }, el('span', { class: 'card-name' }, view.name), el('span', { class: 'state' }, view.state)),
    el(
      'div',
      { class: 'card-meta' },
      el('span', { class: 'image' }, view.image),
      view.restarts > 0 && el('span', { class: 'restarts', title: 'restarts' }, `↻ ${view.restarts}`),
      age(view.since),
      crashable &&
        el('button', { type: 'button', class: 'small danger', 'data-action': 'crash', 'data-card': view.id, 'data-name': view.name, 'data-node': view.node, 'aria-label': `Crash ${view.name}` }, 'Crash'),
    ),
    view.message && el('div', { class: 'card-message' }, view.message),
  );
}

function nodeColumn(node: NodeView, cards: CardView[], engine: DashboardState['engine']): HTMLElement {
  const facts = [node.address, node.cpus !== undefined ? formatCpus(node.cpus) : undefined, node.memoryBytes !== undefined ? formatBytes(node.memoryBytes) : undefined, node.version].filter(Boolean).join(' · ');
  const powered = node.machine === 'running' || node.machine === 'disconnected' || node.machine === 'paused';
  return el(
    'article',
    { class: `node health-${node.health} machine-${node.machine}`, 'data-node': node.name, 'data-state': node.health, 'data-machine': node.machine, 'aria-label': `node ${node.name}` },
    el(
      'header',
      {},
      el('h3', {}, node.name, node.leader ? el('span', { class: 'leader', title: engine === 'swarm' ? 'swarm leader' : 'control plane' }, ' ★') : undefined),
      el('div', { class: 'node-tags' }, el('span', { class: 'badge role' }, node.role), el('span', { class: 'badge status', 'data-status': node.status }, node.status), node.machine !== 'running' && el('span', { class: 'badge machine' }, node.machine)),
      el('div', { class: 'facts' }, facts),
      el(
        'div',
        { class: 'node-actions' },
        powered
          ? el('button', { type: 'button', class: 'small danger', 'data-action': 'node-stop', 'data-node': node.name, 'aria-label': `Stop ${node.name}` }, 'Stop')
          : el('button', { type: 'button', class: 'small', 'data-action': 'node-start', 'data-node': node.name, 'aria-label': `Start ${node.name}` }, 'Start'),
      ),
    ),
    el('ul', { class: 'cards' }, ...cards.map(card)),
    cards.length === 0 && el('p', { class: 'empty' }, engine === 'swarm' ? 'no tasks' : 'no pods'),
  );
}

function workloadChip(view: WorkloadView): HTMLElement {
  const replicas = view.desired === undefined ? `${view.ready} running (global)` : `${view.ready}/${view.desired} ready`;
  const complete = view.desired === undefined || view.ready >= view.desired;
  return el(
    'div',
    { class: `workload ${complete ? 'complete' : 'short'}`, 'data-workload': view.id },
    el('div', { class: 'workload-head' }, el('strong', {}, view.name), el('span', { class: 'badge' }, view.kind)),
    el('div', { class: 'workload-meta' }, el('span', { class: 'image' }, view.image), el('span', { class: 'replicas' }, replicas)),
    view.rollout && el('div', { class: 'rollout' }, view.rollout),
    el(
      'div',
      { class: 'workload-actions' },
      view.desired !== undefined &&
        el('button', { type: 'button', class: 'small', 'data-action': 'scale', 'data-workload': view.id, 'data-name': view.name, 'data-replicas': String(view.desired), 'aria-label': `Scale ${view.name}` }, 'Scale…'),
      el('button', { type: 'button', class: 'small', 'data-action': 'rollout', 'data-workload': view.id, 'data-name': view.name, 'data-image': view.image, 'aria-label': `Roll out ${view.name}` }, 'Roll out…'),
    ),
  );
}

function labPanel(state: DashboardState): void {
  const panel = byId('lab');
  const lab = state.lab;
  panel.hidden = !lab;
  if (!lab) return panel.replaceChildren();
  const current = lab.steps.find((s) => s.id === lab.currentStep);
  panel.replaceChildren(
    el('h2', {}, `Lab: ${lab.title}`, lab.done ? el('span', { class: 'badge tone-ok' }, ' done') : undefined),
    el('p', { class: 'current-step' }, ...(current ? ['Now: ', el('strong', {}, current.title)] : lab.done ? ['All steps checked.'] : [])),
    el(
      'ol',
      { class: 'steps' },
      ...lab.steps.map((step) =>
        el(
          'li',
          { class: `step step-${step.status}${step.id === lab.currentStep ? ' current' : ''}`, 'data-step': step.id, 'data-status': step.status },
          el('span', { class: 'step-mark', 'aria-hidden': 'true' }, { passed: '✓', failed: '✗', skipped: '–', pending: '○' }[step.status]),
          el('span', { class: 'step-title' }, step.title),
          step.message && el('span', { class: 'step-message' }, step.message),
        ),
      ),
    ),
  );
}

export function renderState(state: DashboardState): void {
  byId('engine').textContent = state.engine === 'swarm' ? 'Docker Swarm' : 'Kubernetes';
  const banner = byId('banner');
  banner.hidden = state.source.ok;
  banner.textContent = state.source.ok ? '' : `The ${state.engine === 'swarm' ? 'swarm' : 'API server'} does not answer (showing the last known view): ${state.source.message ?? ''}`;

  labPanel(state);
  const workloads = byId('workloads');
  workloads.replaceChildren(...(state.workloads.length ? state.workloads.map(workloadChip) : [el('p', { class: 'empty' }, state.engine === 'swarm' ? 'No services yet.' : 'No deployments yet.')]));

  const byNode = new Map<string, CardView[]>();
  for (const c of state.cards) byNode.set(c.node ?? '', [...(byNode.get(c.node ?? '') ?? []), c]);
  const columns = state.nodes.map((n) => nodeColumn(n, byNode.get(n.name) ?? [], state.engine));
  const unplaced = byNode.get('') ?? [];
  if (unplaced.length) {
    columns.push(
      el('article', { class: 'node unplaced', 'data-node': '', 'aria-label': 'not scheduled' }, el('header', {}, el('h3', {}, 'Not scheduled')), el('ul', { class: 'cards' }, ...unplaced.map(card))),
    );
  }
  byId('nodes').replaceChildren(...columns);
  for (const c of state.cards) seenCards.add(c.id);
  firstRender = false;
}

const KIND_MARK: Record<TimelineEvent['kind'], string> = { node: '▣', task: '■', pod: '■', scale: '⇅', rollout: '⟳', lab: '✎', action: '▶', event: '•' };

export function renderTimeline(events: TimelineEvent[], replace: boolean, limit = 300): void {
  const list = byId('timeline');
  if (replace) list.replaceChildren();
  for (const event of events) {
    list.prepend(
      el(
        'li',
        { class: `event severity-${event.severity}`, 'data-kind': event.kind, 'data-severity': event.severity },
        el('time', { datetime: event.at }, formatClock(event.at)),
        el('span', { class: 'kind', title: event.kind, 'aria-hidden': 'true' }, KIND_MARK[event.kind]),
        el('span', { class: 'text' }, event.text),
      ),
    );
  }
  while (list.children.length > limit) list.lastElementChild?.remove();
}
