import { describe, expect, it } from 'vitest';
import { applyPatch, diffState, sameValue, sortState } from '../../src/dashboard/diff.js';
import type { LabProgress } from '../../src/dashboard/model.js';
import { cardView, nodeView, stateOf, workloadView } from './dashboard-fixtures.js';

const lab: LabProgress = { lab: 'crash', title: 'Crash recovery', engine: 'swarm', steps: [{ id: 'a', title: 'A', status: 'pending' }], done: false, updatedAt: '2026-01-01T00:00:00Z' };

describe('sameValue', () => {
  it('compares deeply and treats an absent field like an undefined one', () => {
    expect(sameValue({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameValue([1, 2], [1, 2, 3])).toBe(false);
    expect(sameValue([1], { 0: 1 })).toBe(false);
    expect(sameValue(null, {})).toBe(false);
  });
});

describe('diffState / applyPatch', () => {
  const before = sortState(
    stateOf({
      nodes: [nodeView('leader', { order: 0 }), nodeView('worker1', { order: 1 }), nodeView('worker2', { order: 2 })],
      workloads: [workloadView('web')],
      cards: [cardView('t1', { name: 'web.1', node: 'worker1' }), cardView('t2', { name: 'web.2', node: 'worker2' }), cardView('t3', { name: 'web.3', node: 'leader' })],
    }),
  );

  it('is undefined when nothing changed, even for copies built in another order', () => {
    const copy = stateOf({ ...structuredClone(before), cards: [...before.cards].reverse() });
    expect(diffState(before, sortState(copy))).toBeUndefined();
  });

  it('sends only the items that changed and the keys of those that went away', () => {
    const after = sortState({
      ...before,
      nodes: before.nodes.map((n) => (n.name === 'worker2' ? { ...n, health: 'down' as const, status: 'Down' } : n)),
      cards: [...before.cards.filter((c) => c.id !== 't2'), cardView('t4', { name: 'web.2', node: 'worker1' })],
    });
    const patch = diffState(before, after)!;
    expect(patch.nodes).toEqual({ upsert: [after.nodes[2]], remove: [] });
    expect(patch.cards).toEqual({ upsert: [after.cards.find((c) => c.id === 't4')], remove: ['t2'] });
    expect(patch.workloads).toBeUndefined();
    expect(patch.source).toBeUndefined();
    expect(patch).not.toHaveProperty('lab');
    expect(applyPatch(before, patch)).toEqual(after);
  });

  it('carries a changed source, workload and the lab appearing and going away', () => {
    const withLab = { ...before, source: { ok: false, message: 'no manager' }, workloads: [workloadView('web', { desired: 5, ready: 3 })], lab };
    const patch = diffState(before, withLab)!;
    expect(patch.source).toEqual({ ok: false, message: 'no manager' });
    expect(patch.workloads?.upsert[0]?.desired).toBe(5);
    expect(patch.lab).toEqual(lab);
    expect(applyPatch(before, patch)).toEqual(sortState(withLab));

    const gone = diffState(withLab, { ...withLab, lab: undefined })!;
    expect(gone.lab).toBeNull();
    expect(applyPatch(withLab, gone)).not.toHaveProperty('lab');
  });

  it('round-trips through JSON, as the page receives it', () => {
    const after = sortState({ ...before, cards: before.cards.map((c) => (c.id === 't1' ? { ...c, restarts: 1, message: 'exit 137' } : c)) });
    const patch = JSON.parse(JSON.stringify(diffState(before, after)));
    expect(applyPatch(JSON.parse(JSON.stringify(before)), patch)).toEqual(after);
  });

  it('keeps nodes in creation order and cards in natural name order', () => {
    const state = sortState(stateOf({ nodes: [nodeView('b', { order: 2 }), nodeView('a', { order: 1 })], cards: [cardView('x', { name: 'web.10' }), cardView('y', { name: 'web.2' })] }));
    expect(state.nodes.map((n) => n.name)).toEqual(['a', 'b']);
    expect(state.cards.map((c) => c.name)).toEqual(['web.2', 'web.10']);
  });
});
