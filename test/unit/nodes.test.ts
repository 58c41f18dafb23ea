import { describe, expect, it } from 'vitest';
import { currentSpec, nextNodeName } from '../../src/cluster/nodes.js';
import { specFromFlags } from '../../src/cluster/spec.js';
import { clusterState } from '../../src/cluster/describe.js';
import { demuxBuffer } from '../../src/cluster/export-logs.js';
import type { ClusterRecord, NodeRecord } from '../../src/docker/provider.js';

function node(name: string, role: 'manager' | 'worker', state: NodeRecord['state'] = 'running'): NodeRecord {
  return { cluster: 'lab', name, role, index: 0, ip: '', containerId: name, containerName: `lab-${name}`, state, status: '', image: '', dockerPort: undefined, apiPort: undefined, connected: true };
}

describe('node naming', () => {
  it('names nodes like a classroom: leader, manager2…, worker1…', () => {
    expect(specFromFlags('lab', 'swarm', 5, 2).nodes.map((n) => `${n.name}:${n.role}`)).toEqual([
      'leader:manager', 'manager2:manager', 'worker1:worker', 'worker2:worker', 'worker3:worker',
    ]);
  });
  it('gives an added node the next free name of its role', () => {
    expect(nextNodeName('worker', ['leader', 'worker1', 'worker2'])).toBe('worker3');
    expect(nextNodeName('worker', ['leader', 'worker2'])).toBe('worker1');
    expect(nextNodeName('manager', ['leader', 'worker1'])).toBe('manager2');
  });
});

describe('currentSpec', () => {
  it('keeps the created spec and adds nodes that joined later', () => {
    const spec = specFromFlags('lab', 'swarm', 2, 1);
    const cluster: ClusterRecord = { name: 'lab', engine: 'swarm', subnet: '', runMode: 'capabilities', spec, networkId: '' };
    const result = currentSpec(cluster, [node('leader', 'manager'), node('worker1', 'worker'), node('worker2', 'worker')]);
    expect(result.nodes.map((n) => n.name)).toEqual(['leader', 'worker1', 'worker2']);
  });
});

describe('clusterState', () => {
  it('is running, degraded or stopped', () => {
    expect(clusterState([node('a', 'manager'), node('b', 'worker')])).toBe('running');
    expect(clusterState([node('a', 'manager'), node('b', 'worker', 'exited')])).toBe('degraded');
    expect(clusterState([node('a', 'manager', 'exited')])).toBe('stopped');
  });
});

describe('demuxBuffer', () => {
  it('strips Docker log frame headers', () => {
    const frame = (type: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = type;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    expect(demuxBuffer(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    expect(demuxBuffer(Buffer.from('plain text from a tty'))).toBe('plain text from a tty');
  });
});
