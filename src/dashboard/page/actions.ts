/**
 * The page's actions: a button names what it acts on (data-*), a dialog says what will
 * happen and which command does the same, and only a confirmation sends it to the server.
 */
import { byId } from './dom.js';

interface Pending {
  body: Record<string, unknown>;
  /** Reads the dialog's input into the request, or returns a problem to show. */
  field?: { label: string; value: string; type: 'number' | 'text'; apply: (value: string) => string | undefined };
}

let pending: Pending | undefined;

function toast(text: string, kind: 'ok' | 'error' | 'info'): void {
  const node = byId('toast');
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  window.clearTimeout(Number(node.dataset.timer ?? 0));
  node.dataset.timer = String(window.setTimeout(() => (node.hidden = true), kind === 'error' ? 10_000 : 5_000));
}

async function send(token: string, body: Record<string, unknown>): Promise<void> {
  toast('Working…', 'info');
  try {
    const res = await fetch('/api/actions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Clusterlab-Token': token },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { ok: boolean; message?: string; error?: string; hint?: string };
    if (answer.ok) toast(answer.message ?? 'done', 'ok');
    else toast(`${answer.error ?? 'failed'}${answer.hint ? ` (${answer.hint})` : ''}`, 'error');
  } catch (err) {
    toast(`the dashboard did not answer: ${err instanceof Error ? err.message : String(err)}`, 'error');
  }
}

function ask(title: string, text: string, command: string, next: Pending, confirmLabel: string): void {
  pending = next;
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  byId('confirm-command').textContent = command;
  byId('confirm-ok').textContent = confirmLabel;
  const field = byId('confirm-field');
  const input = byId<HTMLInputElement>('confirm-input');
  field.hidden = !next.field;
  if (next.field) {
    byId('confirm-label').textContent = next.field.label;
    input.type = next.field.type;
    input.value = next.field.value;
    input.min = '0';
    input.max = '100';
  }
  const dialog = byId<HTMLDialogElement>('confirm');
  dialog.showModal();
  if (next.field) input.select();
  else byId('confirm-cancel').focus();
}

/** What a click on an action button asks. */
function onAction(button: HTMLElement, engine: string): void {
  const d = button.dataset;
  const swarm = engine === 'swarm';
  switch (d.action) {
    case 'node-stop':
      return ask(
        `Stop node ${d.node}?`,
        `Powers the node off, like a machine losing power gracefully. The ${swarm ? 'swarm marks it Down and reschedules its tasks' : 'node turns NotReady and its pods are evicted after the toleration time'} on the other nodes.`,
        `clusterlab node stop ${d.node}`,
        { body: { action: 'node-stop', node: d.node } },
        'Stop node',
      );
    case 'node-start':
      return ask(`Start node ${d.node}?`, 'Powers the node on and waits until it has rejoined the cluster.', `clusterlab node start ${d.node}`, { body: { action: 'node-start', node: d.node } }, 'Start node');
    case 'crash':
      return ask(
        `Crash ${d.name}?`,
        `Kills its container on ${d.node ?? 'its node'}, as if the process died. The ${swarm ? 'swarm starts a new task for it' : 'agent restarts the container'}.`,
        `clusterlab exec ${d.node ?? 'NODE'} -- docker kill …`,
        { body: { action: 'crash', card: d.card } },
        'Crash it',
      );
    case 'scale':
      return ask(
        `Scale ${d.name}`,
        'How many replicas should run?',
        swarm ? `docker service scale ${d.name}=N` : `kubectl scale deployment/${d.name} --replicas=N`,
        {
          body: { action: 'scale', workload: d.workload },
          field: {
            label: 'Replicas',
            value: d.replicas ?? '1',
            type: 'number',
            apply: (value) => {
              const n = Number(value);
              if (!Number.isInteger(n) || n < 0 || n > 100) return 'a whole number from 0 to 100';
              pending!.body.replicas = n;
              return undefined;
            },
          },
        },
        'Scale',
      );
    case 'rollout':
      return ask(
        `Roll out a new image to ${d.name}`,
        'Replaces the replicas one by one with the new image. The image must be in the nodes already (clusterlab image load IMAGE).',
        swarm ? `docker service update --image IMAGE ${d.name}` : `kubectl set image deployment/${d.name} '*=IMAGE'`,
        {
          body: { action: 'rollout', workload: d.workload },
          field: {
            label: 'Image',
            value: d.image ?? '',
            type: 'text',
            apply: (value) => {
              if (!/^\S+$/.test(value.trim())) return 'an image reference, like busybox:1.36';
              pending!.body.image = value.trim();
              return undefined;
            },
          },
        },
        'Roll out',
      );
  }
}

export function setupActions(token: string, engine: () => string): void {
  document.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest<HTMLElement>('button[data-action]');
    if (button) onAction(button, engine());
  });
  const dialog = byId<HTMLDialogElement>('confirm');
  byId('confirm-cancel').addEventListener('click', () => dialog.close('cancel'));
  byId('confirm-form').addEventListener('submit', (event) => {
    const next = pending;
    if (!next) return;
    if (next.field) {
      const problem = next.field.apply(byId<HTMLInputElement>('confirm-input').value);
      if (problem) {
        event.preventDefault();
        toast(problem, 'error');
        return;
      }
    }
    pending = undefined;
    void send(token, next.body);
  });
  dialog.addEventListener('close', () => (pending = undefined));
}
