import { describe, expect, it } from 'vitest';
import { nodeStatesFromRows, parseNodeLs } from '../../src/engines/swarm/swarm.js';

const row = (Hostname: string, Status: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ID: `id-${Hostname}-${Status}`, Hostname, Status, Availability: 'Active', ManagerStatus: '', Self: false, ...extra });

describe('swarm node listing', () => {
  it('parses docker node ls JSON lines', () => {
    const rows = parseNodeLs(`${row('leader', 'Ready', { ManagerStatus: 'Leader' })}\n${row('worker1', 'Down')}\n\n`);
    expect(rows.map((r) => [r.Hostname, r.Status, r.ManagerStatus])).toEqual([['leader', 'Ready', 'Leader'], ['worker1', 'Down', '']]);
  });

  it('lets a Ready row speak for a hostname that also has stale Down rows', () => {
    const states = nodeStatesFromRows(parseNodeLs([row('worker1', 'Ready'), row('worker1', 'Down'), row('worker2', 'Down')].join('\n')));
    expect(states.get('worker1')?.state).toBe('Ready');
    expect(states.get('worker2')?.state).toBe('Down');
  });
});
