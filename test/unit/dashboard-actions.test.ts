import { describe, expect, it } from 'vitest';
import { browserOpener } from '../../src/cli/dashboard.js';
import type { ClusterRuntime } from '../../src/cluster/runtime.js';
import { UserError } from '../../src/common/errors.js';
import { describeAction, parseActionRequest, runAction, type EngineActions } from '../../src/dashboard/actions.js';
import type { TimelineEntry } from '../../src/dashboard/model.js';

describe('parseActionRequest', () => {
  it('accepts the five actions', () => {
    expect(parseActionRequest({ action: 'node-stop', node: 'worker1' })).toEqual({ action: 'node-stop', node: 'worker1' });
    expect(parseActionRequest({ action: 'node-start', node: 'worker1' })).toEqual({ action: 'node-start', node: 'worker1' });
    expect(parseActionRequest({ action: 'crash', card: 'abc' })).toEqual({ action: 'crash', card: 'abc' });
    expect(parseActionRequest({ action: 'scale', workload: 'default/web', replicas: 0 })).toEqual({ action: 'scale', workload: 'default/web', replicas: 0 });
    expect(parseActionRequest({ action: 'rollout', workload: 'web', image: ' busybox:1.36 ' })).toEqual({ action: 'rollout', workload: 'web', image: 'busybox:1.36' });
  });

  it('refuses anything else with every problem named, as a usage error', () => {
    const refuse = (body: unknown) => {
      try {
        parseActionRequest(body);
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        expect((err as UserError).exitCode).toBe(2);
        return (err as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(body)}`);
    };
    expect(refuse({ action: 'rm-rf' })).toContain('action');
    expect(refuse({ action: 'scale', workload: 'web', replicas: 1.5 })).toContain('replicas');
    expect(refuse({ action: 'scale', workload: 'web', replicas: 101 })).toContain('replicas');
    expect(refuse({ action: 'rollout', workload: 'web', image: 'busybox 1' })).toContain('image');
    expect(refuse({ action: 'node-stop', node: '' })).toContain('node');
    expect(refuse({ action: 'node-stop', node: 'worker1', extra: true })).toContain('extra');
    expect(refuse(null)).toContain('invalid action');
  });
});

describe('runAction', () => {
  function fakeEngine(): EngineActions & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      crash: async (id) => (calls.push(`crash ${id}`), `killed ${id}`),
      scale: async (w, n) => (calls.push(`scale ${w} ${n}`), `scaled ${w} to ${n}`),
      rollout: async (w, image) => {
        calls.push(`rollout ${w} ${image}`);
        throw new UserError(`no service named "${w}"`);
      },
    };
  }
  // Node actions need a Docker engine (the e2e test does them); these never touch it.
  const rt = {} as ClusterRuntime;

  it('does workload actions through the engine and tells the timeline', async () => {
    const engine = fakeEngine();
    const said: TimelineEntry[] = [];
    const ctx = { rt, cluster: 'lab', engine, say: (e: TimelineEntry[]) => said.push(...e), cardName: (id: string) => (id === 't1' ? 'web.1' : undefined) };
    expect(await runAction({ action: 'crash', card: 't1' }, ctx)).toBe('killed t1');
    expect(await runAction({ action: 'scale', workload: 'web', replicas: 5 }, ctx)).toBe('scaled web to 5');
    await expect(runAction({ action: 'rollout', workload: 'api', image: 'x:2' }, ctx)).rejects.toThrow('no service named "api"');
    expect(engine.calls).toEqual(['crash t1', 'scale web 5', 'rollout api x:2']);
    expect(said.map((e) => `${e.kind}/${e.severity}: ${e.text}`)).toEqual([
      'action/info: dashboard: crash web.1',
      'action/ok: killed t1',
      'action/info: dashboard: scale web to 5',
      'action/ok: scaled web to 5',
      'action/info: dashboard: roll out x:2 to api',
      'action/error: roll out x:2 to api failed: no service named "api"',
    ]);
  });

  it('describes actions in words', () => {
    expect(describeAction({ action: 'node-stop', node: 'worker2' })).toBe('stop node worker2');
    expect(describeAction({ action: 'crash', card: 'abc' })).toBe('crash abc');
  });
});

describe('browserOpener', () => {
  it("uses the platform's opener, and none on a Linux without a desktop", () => {
    expect(browserOpener('darwin', {})).toEqual(['open']);
    expect(browserOpener('linux', { DISPLAY: ':0' })).toEqual(['xdg-open']);
    expect(browserOpener('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toEqual(['xdg-open']);
    expect(browserOpener('linux', {})).toBeUndefined();
    expect(browserOpener('win32', {})?.[0]).toBe('cmd');
  });
});
