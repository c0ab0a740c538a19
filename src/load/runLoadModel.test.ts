import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FlowResult } from '../flow.ts';
import { ConfigError } from '../errors.ts';
import { createSeededRandom } from '../util/seededRandom.ts';
import { createCircuitBreaker } from './circuitBreaker.ts';
import { runLoadModel, startLoadRun } from './runLoadModel.ts';
import { poissonSchedule } from './schedules.ts';
import type { DropReason, FlowTask, LoadPhase, LoadRunHooks, RunFlow } from './types.ts';

function resultOf(task: FlowTask, startedAt: number, success: boolean): FlowResult {
  const endedAt = Date.now();
  return {
    flowId: task.flowId,
    userIndex: task.userIndex,
    userAddress: '0x0000000000000000000000000000000000000001',
    testId: 'load-test',
    dataSize: 'small',
    dataBytes: 0,
    scheduledAt: task.scheduledAt,
    startedAt,
    endedAt,
    success,
    steps: {},
    e2eMs: endedAt - task.scheduledAt,
    retries: 0,
    ...(task.phase !== undefined && { phase: task.phase }),
  };
}

/** A flow that takes `ms` (fake or real time) and ends as failed as soon as its signal aborts. */
function flowTaking(ms: number | ((task: FlowTask) => number), success = true): RunFlow {
  return (task, signal) =>
    new Promise((resolve) => {
      const startedAt = Date.now();
      const onAbort = () => {
        clearTimeout(timer);
        resolve(resultOf(task, startedAt, false));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(resultOf(task, startedAt, success));
      }, typeof ms === 'number' ? ms : ms(task));
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

/** Records starts (offset from t0), drops and peak concurrency through the hooks. */
function recorder(t0: number) {
  const starts: Array<FlowTask & { offset: number }> = [];
  const drops: Array<{ task: FlowTask; reason: DropReason }> = [];
  const phases: string[] = [];
  let inFlight = 0;
  let peak = 0;
  const hooks: LoadRunHooks = {
    onFlowStarted: (task) => {
      starts.push({ ...task, offset: Date.now() - t0 });
      peak = Math.max(peak, ++inFlight);
    },
    onFlowFinished: () => void inFlight--,
    onDropped: (task, reason) => void drops.push({ task, reason }),
    onPhase: (name) => void phases.push(name),
  };
  return { hooks, starts, drops, phases, peak: () => peak };
}

describe('runLoadModel with fake time', () => {
  let t0: number;
  const now = () => Date.now();
  beforeEach(() => {
    vi.useFakeTimers();
    t0 = Date.now();
  });
  afterEach(() => void vi.useRealTimers());

  it('closed: runs users × iterations flows, at most `users` at once, each user with its own userIndex', async () => {
    const record = recorder(t0);
    const done = runLoadModel({ kind: 'closed', users: 5, iterations: 3 }, { runFlow: flowTaking(100), hooks: record.hooks, now });
    await vi.advanceTimersByTimeAsync(300);
    const stats = await done;
    expect([stats.started, stats.succeeded, stats.dropped, stats.peakInFlight, record.peak()]).toEqual([15, 15, 0, 5, 5]);
    expect(record.starts.map((task) => task.userIndex)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    // A user's next flow is scheduled when it was ready for it: when its previous flow ended.
    expect(record.starts.filter((task) => task.userIndex === 2).map((task) => task.scheduledAt - t0)).toEqual([0, 100, 200]);
    expect(stats.targetRate).toBe(null);
  });

  it('closed: staggers user i to start at i × staggerMs', async () => {
    const record = recorder(t0);
    const done = runLoadModel({ kind: 'closed', users: 4, staggerMs: 250 }, { runFlow: flowTaking(1_000), hooks: record.hooks, now });
    await vi.advanceTimersByTimeAsync(2_000);
    await done;
    expect(record.starts.map((task) => [task.userIndex, task.offset, task.scheduledAt - t0])).toEqual([
      [0, 0, 0],
      [1, 250, 250],
      [2, 500, 500],
      [3, 750, 750],
    ]);
    expect(record.peak()).toBe(4);
  });

  it('closed: with iterations 0, repeats until durationMs and starts nothing after it', async () => {
    const record = recorder(t0);
    const done = runLoadModel({ kind: 'closed', users: 2, iterations: 0, durationMs: 1_000 }, { runFlow: flowTaking(100), hooks: record.hooks, now });
    await vi.advanceTimersByTimeAsync(1_500);
    const stats = await done;
    expect(stats.started).toBe(20);
    expect(Math.max(...record.starts.map((task) => task.offset))).toBe(900);
    expect(stats.scheduleMs).toBe(1_000);
  });

  it('poisson: schedules exactly `users` arrivals at the seeded planned times', async () => {
    const record = recorder(t0);
    const model = { kind: 'poisson', rate: 100, users: 200, maxInFlight: 1_000, seed: 42 } as const;
    const done = runLoadModel(model, { runFlow: flowTaking(5), hooks: record.hooks, now });
    await vi.advanceTimersByTimeAsync(10_000);
    const stats = await done;
    const planned = [...poissonSchedule(model, createSeededRandom(42))].filter((event) => event.kind === 'arrival');
    expect(stats.started).toBe(200);
    expect(record.starts.map((task) => task.scheduledAt)).toEqual(planned.map((event) => t0 + event.at));
    // Fake timers fire on the ms; the lag is the rounding up of fractional planned times.
    expect(stats.schedulerLagMs.max).toBeLessThan(1);
    expect(record.starts.map((task) => [task.flowId, task.userIndex])).toEqual(planned.map((_, i) => [i, i]));
    expect(stats.seed).toBe(42);
    expect(stats.achievedRate).toBeCloseTo(200 / (planned.at(-1)!.at / 1_000), 2);
  });

  it('poisson: drops arrivals beyond maxInFlight and never starts them later', async () => {
    const record = recorder(t0);
    const done = runLoadModel(
      { kind: 'poisson', rate: 100, users: 200, maxInFlight: 5, seed: 1 },
      { runFlow: flowTaking(60_000), hooks: record.hooks, now },
    );
    await vi.advanceTimersByTimeAsync(120_000);
    const stats = await done;
    expect([stats.scheduled, stats.started, stats.dropped, stats.droppedBy.max_in_flight]).toEqual([200, 5, 195, 195]);
    expect(record.starts.map((task) => task.flowId)).toEqual([0, 1, 2, 3, 4]);
    expect(record.drops.map((drop) => drop.task.flowId)).toEqual(Array.from({ length: 195 }, (_, i) => i + 5));
    expect(new Set(record.drops.map((drop) => drop.reason))).toEqual(new Set(['max_in_flight']));
  });

  it('poisson: a late timer catches up every due arrival in one tick and keeps their planned times', async () => {
    const record = recorder(t0);
    const model = { kind: 'poisson', rate: 100, users: 50, maxInFlight: 100, seed: 9 } as const;
    const run = startLoadRun(model, { runFlow: flowTaking(1), hooks: record.hooks, now });
    const planned = [...poissonSchedule(model, createSeededRandom(9))].filter((event) => event.kind === 'arrival');
    const firstTimer = Math.ceil(planned[0]!.at);
    // The clock jumps 300 ms before the first timer fires: as if the event loop had been blocked.
    vi.setSystemTime(t0 + 300);
    await vi.advanceTimersByTimeAsync(firstTimer);
    const firedAt = 300 + firstTimer;
    const due = planned.filter((event) => event.at <= firedAt).length;
    expect(due).toBeGreaterThan(20);
    expect(record.starts).toHaveLength(due);
    expect(new Set(record.starts.map((task) => task.offset))).toEqual(new Set([firedAt]));
    expect(record.starts.map((task) => task.scheduledAt)).toEqual(planned.slice(0, due).map((event) => t0 + event.at));
    expect(run.stats().schedulerLagMs.max).toBeCloseTo(firedAt - planned[0]!.at, 2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await run.done).started).toBe(50);
  });

  it('phased: rate ramps get the expected arrivals per phase, in phase order', async () => {
    const phases: LoadPhase[] = [
      { name: 'ramp_up', durationMs: 5_000, from: 0, to: 20, unit: 'rate' },
      { name: 'sustain', durationMs: 5_000, from: 20, to: 20, unit: 'rate' },
      { name: 'ramp_down', durationMs: 5_000, from: 20, to: 0, unit: 'rate' },
    ];
    const record = recorder(t0);
    const run = startLoadRun({ kind: 'phased', phases, maxInFlight: 100 }, { runFlow: flowTaking(50), hooks: record.hooks, now });
    await vi.advanceTimersByTimeAsync(2_500);
    expect(run.extras()).toMatchObject({ phase: 'ramp_up', targetRate: 10 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(run.extras()).toMatchObject({ phase: 'sustain', targetRate: 20 });
    await vi.advanceTimersByTimeAsync(10_000);
    const stats = await run.done;
    const perPhase = (name: string) => record.starts.filter((task) => task.phase === name).length;
    for (const [name, expected] of [['ramp_up', 50], ['sustain', 100], ['ramp_down', 50]] as const) {
      expect(Math.abs(perPhase(name) - expected)).toBeLessThanOrEqual(expected * 0.05);
    }
    expect(record.phases).toEqual(['ramp_up', 'sustain', 'ramp_down']);
    expect([stats.started, stats.dropped, stats.scheduleMs]).toEqual([200, 0, 15_000]);
    expect(stats.targetRate).toBeCloseTo(200 / 15, 9);
    expect(run.extras()).toEqual({ phase: undefined, targetRate: undefined, schedulerLagMs: expect.any(Number) });
  });

  it('phased: a users ramp holds round(users(t)) users, each with a fresh userIndex', async () => {
    const phases: LoadPhase[] = [
      { name: 'ramp_up', durationMs: 4_000, from: 0, to: 4, unit: 'users' },
      { name: 'sustain', durationMs: 2_000, from: 4, to: 4, unit: 'users' },
      { name: 'ramp_down', durationMs: 4_000, from: 4, to: 0, unit: 'users' },
    ];
    const record = recorder(t0);
    const run = startLoadRun({ kind: 'phased', phases, maxInFlight: 10 }, { runFlow: flowTaking(100), hooks: record.hooks, now });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(run.stats().inFlight).toBe(3);
    await vi.advanceTimersByTimeAsync(8_000);
    const stats = await run.done;
    // 8 user-seconds per phase at 100 ms per flow.
    for (const name of ['ramp_up', 'sustain', 'ramp_down']) {
      expect(Math.abs(record.starts.filter((task) => task.phase === name).length - 80)).toBeLessThanOrEqual(4);
    }
    expect(record.peak()).toBe(4);
    expect(stats.started).toBe(record.starts.length);
    expect(new Set(record.starts.map((task) => task.userIndex))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('phased: totalUsers caps the flows scheduled over the run', async () => {
    const phases: LoadPhase[] = [{ name: 'sustain', durationMs: 10_000, from: 10, to: 10, unit: 'rate' }];
    const done = runLoadModel({ kind: 'phased', phases, maxInFlight: 100, totalUsers: 30 }, { runFlow: flowTaking(10), now });
    await vi.advanceTimersByTimeAsync(11_000);
    const stats = await done;
    expect([stats.scheduled, stats.started]).toEqual([30, 30]);
    expect(stats.scheduleMs).toBe(3_050);
  });

  it('batched: starts batchSize flows together and the next batch delayMs after the last one finished', async () => {
    const record = recorder(t0);
    const done = runLoadModel(
      { kind: 'batched', users: 10, batchSize: 4, delayMs: 500 },
      { runFlow: flowTaking((task) => ((task.flowId % 4) + 1) * 100), hooks: record.hooks, now },
    );
    await vi.advanceTimersByTimeAsync(5_000);
    const stats = await done;
    expect(record.starts.map((task) => task.offset)).toEqual([0, 0, 0, 0, 900, 900, 900, 900, 1_800, 1_800]);
    expect(record.starts.map((task) => task.userIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([stats.started, stats.peakInFlight]).toEqual([10, 4]);
  });

  it('abort: starts no new flow and lets flows in flight finish within drainTimeoutMs', async () => {
    const record = recorder(t0);
    const controller = new AbortController();
    const run = startLoadRun(
      { kind: 'poisson', rate: 10, users: 100, maxInFlight: 50, seed: 5 },
      { runFlow: flowTaking(1_000), hooks: record.hooks, signal: controller.signal, drainTimeoutMs: 5_000, now },
    );
    await vi.advanceTimersByTimeAsync(2_000);
    const inFlight = run.stats().inFlight;
    const started = run.stats().started;
    expect(inFlight).toBeGreaterThan(0);
    controller.abort();
    await vi.advanceTimersByTimeAsync(1_000);
    const stats = await run.done;
    expect([stats.interrupted, stats.started, stats.succeeded, stats.abortedAfterDrain, stats.inFlight]).toEqual([true, started, started, 0, 0]);
    expect(stats.endedAt! - t0).toBeLessThanOrEqual(3_000);
    expect(stats.scheduleMs).toBe(2_000);
  });

  it('abort: aborts flows still in flight when drainTimeoutMs expires', async () => {
    const controller = new AbortController();
    const run = startLoadRun(
      { kind: 'closed', users: 3 },
      { runFlow: flowTaking(60_000), signal: controller.signal, drainTimeoutMs: 1_000, now },
    );
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    await vi.advanceTimersByTimeAsync(999);
    expect(run.stats().inFlight).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    const stats = await run.done;
    expect([stats.interrupted, stats.abortedAfterDrain, stats.failed, stats.endedAt! - t0]).toEqual([true, 3, 3, 1_100]);
  });

  it('gate: an open breaker drops poisson arrivals as circuit_open', async () => {
    const breaker = createCircuitBreaker({ minRequests: 5, failureRateToOpen: 0.5, openMs: 60_000, now });
    const failing: RunFlow = async (task) => resultOf(task, Date.now(), false);
    const done = runLoadModel({ kind: 'poisson', rate: 100, users: 100, maxInFlight: 100, seed: 2 }, { runFlow: failing, gate: breaker, now });
    await vi.advanceTimersByTimeAsync(5_000);
    const stats = await done;
    expect([stats.started, stats.failed, stats.dropped, stats.droppedBy.circuit_open]).toEqual([5, 5, 95, 95]);
    expect(breaker.stats()).toMatchObject({ state: 'open', opened: 1 });
  });

  it('gate: closed users wait for the breaker instead of dropping flows', async () => {
    const breaker = createCircuitBreaker({ minRequests: 2, openMs: 1_000, halfOpenProbes: 1, now });
    const record = recorder(t0);
    const done = runLoadModel({ kind: 'closed', users: 2, iterations: 2 }, { runFlow: flowTaking(10, false), gate: breaker, hooks: record.hooks, now });
    await vi.advanceTimersByTimeAsync(5_000);
    const stats = await done;
    expect([stats.started, stats.dropped]).toEqual([4, 0]);
    // User 0 goes on after the first failure; the second (user 1's) opens the breaker, so user 1
    // waits the open second and runs its last flow as the half-open probe.
    expect(record.starts.map((task) => [task.userIndex, task.offset])).toEqual([[0, 0], [1, 0], [0, 10], [1, 1_010]]);
    expect(record.starts.at(-1)!.scheduledAt - t0).toBe(1_010);
    expect(breaker.stats()).toMatchObject({ opened: 2 });
  });

  it('error: a runFlow that rejects fails the run once flows in flight have settled', async () => {
    let calls = 0;
    const runFlow: RunFlow = (task, signal) => (++calls === 3 ? Promise.reject(new Error('harness bug')) : flowTaking(1_000)(task, signal));
    const done = runLoadModel({ kind: 'closed', users: 3 }, { runFlow, now });
    const settled = expect(done).rejects.toThrow('harness bug');
    await vi.advanceTimersByTimeAsync(0);
    await settled;
  });

  it('error: rejects a bad model before scheduling anything', () => {
    const runFlow = flowTaking(1);
    const bad = () => runLoadModel({ kind: 'poisson', rate: 0, users: 10, maxInFlight: 5 }, { runFlow });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow('poisson.rate: Expected a finite number > 0, got 0');
    expect(() => runLoadModel({ kind: 'closed', users: 2, iterations: 0 }, { runFlow })).toThrow(
      'closed.durationMs: Expected a duration when iterations is 0 (repeat until the duration ends), got none',
    );
  });
});

describe('runLoadModel with real time', () => {
  it('keeps a 50/s poisson schedule without drift over 2 s', async () => {
    const model = { kind: 'poisson', rate: 50, durationMs: 2_000, maxInFlight: 1_000, seed: 11 } as const;
    const planned = [...poissonSchedule(model, createSeededRandom(11))].filter((event) => event.kind === 'arrival').map((event) => event.at);
    // How late each flow really started against the seeded plan, on the wall clock.
    const lateness: number[] = [];
    const t0 = Date.now();
    const runFlow: RunFlow = async (task) => {
      lateness.push(Date.now() - t0 - planned[task.flowId]!);
      return resultOf(task, Date.now(), true);
    };
    const stats = await runLoadModel(model, { runFlow });
    const elapsed = Date.now() - t0;
    expect(stats.started).toBe(planned.length);
    expect(Math.abs(stats.started - 100)).toBeLessThan(30);
    // A scheduler sleeping relative gaps loses >= 1 ms per arrival: ~100 ms by the end here.
    const tail = lateness.slice(-10);
    expect(tail.reduce((sum, ms) => sum + ms, 0) / tail.length).toBeLessThan(40);
    expect(stats.schedulerLagMs.mean).toBeLessThan(15);
    expect(elapsed).toBeGreaterThanOrEqual(1_990);
    expect(elapsed).toBeLessThan(2_300);
  });
});
