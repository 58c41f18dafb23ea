/**
 * State diffing: the server pushes only what changed since the last push, and the page
 * applies it. Lists are keyed (node name, workload id, card id); an item is sent again
 * whole when any field of it changed. Pure, shared by the server and the page.
 */
import type { CardView, DashboardState, LabProgress, NodeView, WorkloadView } from './model.js';

export interface ListPatch<T> {
  upsert: T[];
  /** Keys of items that are gone. */
  remove: string[];
}

export interface StatePatch {
  nodes?: ListPatch<NodeView>;
  workloads?: ListPatch<WorkloadView>;
  cards?: ListPatch<CardView>;
  source?: DashboardState['source'];
  /** null: the lab's progress file is gone. */
  lab?: LabProgress | null;
}

/** Deep equality of JSON-like values; an absent field equals an undefined one. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) if (!sameValue(ra[key], rb[key])) return false;
  return true;
}

function diffList<T>(prev: T[], next: T[], key: (item: T) => string): ListPatch<T> | undefined {
  const before = new Map(prev.map((item) => [key(item), item]));
  const after = new Set(next.map(key));
  const upsert = next.filter((item) => !sameValue(before.get(key(item)), item));
  const remove = [...before.keys()].filter((k) => !after.has(k));
  return upsert.length || remove.length ? { upsert, remove } : undefined;
}

const nodeKey = (n: NodeView) => n.name;
const workloadKey = (w: WorkloadView) => w.id;
const cardKey = (c: CardView) => c.id;

/** What turns `prev` into `next`, or undefined when nothing changed. */
export function diffState(prev: DashboardState, next: DashboardState): StatePatch | undefined {
  const patch: StatePatch = {};
  const nodes = diffList(prev.nodes, next.nodes, nodeKey);
  const workloads = diffList(prev.workloads, next.workloads, workloadKey);
  const cards = diffList(prev.cards, next.cards, cardKey);
  if (nodes) patch.nodes = nodes;
  if (workloads) patch.workloads = workloads;
  if (cards) patch.cards = cards;
  if (!sameValue(prev.source, next.source)) patch.source = next.source;
  if (!sameValue(prev.lab, next.lab)) patch.lab = next.lab ?? null;
  return Object.keys(patch).length ? patch : undefined;
}

function applyList<T>(list: T[], patch: ListPatch<T> | undefined, key: (item: T) => string): T[] {
  if (!patch) return list;
  const gone = new Set([...patch.remove, ...patch.upsert.map(key)]);
  return [...list.filter((item) => !gone.has(key(item))), ...patch.upsert];
}

/** The order every list is kept in, so that equal states are equal arrays. */
export function sortState(state: DashboardState): DashboardState {
  return {
    ...state,
    nodes: [...state.nodes].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name)),
    workloads: [...state.workloads].sort((a, b) => a.id.localeCompare(b.id)),
    cards: [...state.cards].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }) || a.id.localeCompare(b.id)),
  };
}

export function applyPatch(state: DashboardState, patch: StatePatch): DashboardState {
  const next: DashboardState = {
    ...state,
    nodes: applyList(state.nodes, patch.nodes, nodeKey),
    workloads: applyList(state.workloads, patch.workloads, workloadKey),
    cards: applyList(state.cards, patch.cards, cardKey),
    source: patch.source ?? state.source,
  };
  if (patch.lab === null) delete next.lab;
  else if (patch.lab !== undefined) next.lab = patch.lab;
  return sortState(next);
}
