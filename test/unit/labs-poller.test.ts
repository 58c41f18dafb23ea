import { describe, expect, it } from 'vitest';
import { pollChecks, prepareCheck } from '../../src/labs/evaluate.js';
import { pollUntilStable } from '../../src/labs/poller.js';
import { FakeClock, FakeView, replica, workload } from './labs-fakes.js';

/** An evaluation whose answers follow a script: one `ok` per round, the last repeated. */
function scripted(clock: FakeClock, answers: boolean[], roundMs = 0) {
  const rounds: { at: number; confirming: boolean }[] = [];
  const evaluate = async (confirming: boolean) => {
    rounds.push({ at: clock.now(), confirming });
    clock.advance(roundMs);
    const ok = answers[Math.min(rounds.length - 1, answers.length - 1)]!;
    return [{ ok }];
  };
  return { evaluate, rounds };
}

describe('pollUntilStable', () => {
  it('passes only after the pass held for the confirmation window', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const { evaluate, rounds } = scripted(clock, [false, false, true]);
    const outcome = await pollUntilStable(evaluate, { timeoutMs: 60_000, intervalMs: 1_000, confirmMs: 3_000, clock });
    expect(outcome.passed).toBe(true);
    // Rounds at 0 s, 1 s (failing), 2 s (first pass), then 3, 4, 5 s confirming.
    expect(rounds.map((r) => r.at - start)).toEqual([0, 1_000, 2_000, 3_000, 4_000, 5_000]);
    expect(rounds.map((r) => r.confirming)).toEqual([false, false, false, true, true, true]);
    expect(outcome.elapsedMs).toBe(5_000);
    // Since when it held: the first passing round (what a measured step times).
    expect(outcome.okSince! - start).toBe(2_000);
  });

  it('starts the confirmation over when the state flaps', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const { evaluate, rounds } = scripted(clock, [true, true, false, true, true, true, true]);
    const outcome = await pollUntilStable(evaluate, { timeoutMs: 60_000, intervalMs: 1_000, confirmMs: 2_000, clock });
    expect(outcome.passed).toBe(true);
    // ok at 0,1; fails at 2; ok again from 3: confirmed at 5.
    expect(outcome.elapsedMs).toBe(5_000);
    expect(outcome.okSince! - start).toBe(3_000);
    expect(rounds).toHaveLength(6);
  });

  it('fails at the timeout with the last results, when the state never holds', async () => {
    const clock = new FakeClock();
    const { evaluate, rounds } = scripted(clock, [false]);
    const outcome = await pollUntilStable(evaluate, { timeoutMs: 10_000, intervalMs: 1_000, confirmMs: 3_000, clock });
    expect(outcome).toMatchObject({ passed: false, aborted: false, results: [{ ok: false }] });
    expect(outcome.elapsedMs).toBe(10_000);
    expect(rounds).toHaveLength(11);
  });

  it('lets a confirmation that began before the timeout finish after it, and no longer', async () => {
    const clock = new FakeClock();
    const { evaluate } = scripted(clock, [false, false, false, false, true]);
    const outcome = await pollUntilStable(evaluate, { timeoutMs: 4_000, intervalMs: 1_000, confirmMs: 3_000, clock });
    expect(outcome.passed).toBe(true);
    expect(outcome.elapsedMs).toBe(7_000);

    const flapping = new FakeClock();
    const late = scripted(flapping, [false, false, false, false, true, true, false, false]);
    const failed = await pollUntilStable(late.evaluate, { timeoutMs: 4_000, intervalMs: 1_000, confirmMs: 3_000, clock: flapping });
    expect(failed.passed).toBe(false);
    expect(failed.elapsedMs).toBe(6_000);
  });

  it('passes at once with no confirmation window', async () => {
    const clock = new FakeClock();
    const { evaluate, rounds } = scripted(clock, [true]);
    const outcome = await pollUntilStable(evaluate, { timeoutMs: 10_000, intervalMs: 1_000, confirmMs: 0, clock });
    expect(outcome).toMatchObject({ passed: true, attempts: 1, elapsedMs: 0 });
    expect(rounds).toHaveLength(1);
  });

  it('counts slow rounds against the timeout', async () => {
    const clock = new FakeClock();
    const { rounds, evaluate } = scripted(clock, [false], 4_000);
    const outcome = await pollUntilStable(evaluate, { timeoutMs: 10_000, intervalMs: 1_000, confirmMs: 0, clock });
    expect(outcome.passed).toBe(false);
    // 0 → 4 s, sleep 1 → 5 → 9 s, sleep 1 → 10 → 14 s: over.
    expect(rounds).toHaveLength(3);
    expect(outcome.elapsedMs).toBe(14_000);
  });

  it('stops when aborted and says so', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let calls = 0;
    const outcome = await pollUntilStable(
      async () => {
        if (++calls === 2) controller.abort();
        return [{ ok: false }];
      },
      { timeoutMs: 60_000, intervalMs: 1_000, confirmMs: 0, clock, signal: controller.signal },
    );
    expect(outcome).toMatchObject({ passed: false, aborted: true, attempts: 2 });
  });

  it('reports each round (remaining time while waiting, then while confirming)', async () => {
    const clock = new FakeClock();
    const { evaluate } = scripted(clock, [false, true]);
    const seen: [boolean, number][] = [];
    await pollUntilStable(evaluate, {
      timeoutMs: 5_000,
      intervalMs: 1_000,
      confirmMs: 2_000,
      clock,
      onRound: (r) => seen.push([r.allOk, r.remainingMs]),
    });
    expect(seen).toEqual([
      [false, 5_000],
      [true, 2_000],
      [true, 1_000],
      [true, 0],
    ]);
  });
});

describe('pollChecks', () => {
  it('polls real check kinds against a changing cluster and keeps what each saw', async () => {
    const clock = new FakeClock();
    const view = new FakeView();
    view.workloads.set('web', workload('web', [replica('web.1', 'leader')], { desired: 3 }));
    const checks = [prepareCheck({ replicas: { workload: 'web', running: 3 }, transient: false }, 0, 'swarm')];
    let round = 0;
    const outcome = await pollChecks(checks, { view, engine: 'swarm', env: {}, cwd: '.', clock }, {
      timeoutMs: 30_000,
      intervalMs: 1_000,
      confirmMs: 2_000,
      clock,
      onRound: () => {
        // The third round sees the service converge.
        if (++round === 3) view.workloads.set('web', workload('web', [replica('web.1', 'leader'), replica('web.2', 'worker1'), replica('web.3', 'worker2')]));
      },
    });
    expect(outcome.passed).toBe(true);
    expect(outcome.results[0]).toMatchObject({ kind: 'replicas', ok: true, status: 'passed', expected: 'service web: 3 replicas running' });
    expect(outcome.results[0]?.observed).toBe('3 desired; 3 running (web.1 on leader, web.2 on worker1, web.3 on worker2)');
  });

  it('does not repeat a measured check while confirming', async () => {
    const clock = new FakeClock();
    const view = new FakeView();
    const measured = { ...prepareCheck({ nodes: { ready: 3 }, transient: false }, 0, 'swarm'), measured: true };
    const outcome = await pollChecks([measured], { view, engine: 'swarm', env: {}, cwd: '.', clock }, { timeoutMs: 10_000, intervalMs: 1_000, confirmMs: 3_000, clock });
    expect(outcome.passed).toBe(true);
    expect(outcome.attempts).toBe(4);
    expect(view.calls).toBe(1);
  });

  it('turns an API failure into a failed observation that says what went wrong', async () => {
    const clock = new FakeClock();
    const view = new FakeView();
    view.nodes = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:2376');
    };
    const checks = [prepareCheck({ nodes: { ready: 3 }, transient: false }, 0, 'swarm')];
    const outcome = await pollChecks(checks, { view, engine: 'swarm', env: {}, cwd: '.', clock }, { timeoutMs: 2_000, intervalMs: 1_000, confirmMs: 0, clock });
    expect(outcome.passed).toBe(false);
    expect(outcome.results[0]?.observed).toBe('could not look: connect ECONNREFUSED 127.0.0.1:2376');
  });
});
