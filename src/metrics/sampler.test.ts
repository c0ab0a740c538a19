import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { createMetricsCollector } from './collector.ts';
import { flowResultFixture } from '../../test/fixtures/flowResultFixture.ts';
import { startSampler, type Sampler } from './sampler.ts';
import type { TimeseriesSample } from './types.ts';

const T0 = 1_800_000_000_000;
let sampler: Sampler | undefined;
afterEach(async () => {
  await sampler?.stop();
  sampler = undefined;
});

/** Resolves with the first sample (from now on) that satisfies `predicate`. */
function nextSample(samples: TimeseriesSample[], predicate: (sample: TimeseriesSample) => boolean): Promise<TimeseriesSample> {
  const from = samples.length;
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error('no matching sample within 3 s')), 3_000);
    const poll = setInterval(() => {
      const match = samples.slice(from).find(predicate);
      if (!match) return;
      clearTimeout(deadline);
      clearInterval(poll);
      resolve(match);
    }, 10);
  });
}

describe('startSampler', () => {
  it('samples another process and keeps sampling after it exits, reporting it missing', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const samples: TimeseriesSample[] = [];
    sampler = startSampler(createMetricsCollector(), {
      logger: silentLogger(),
      intervalMs: 50,
      processes: [{ name: 'child', pid }],
      onSample: (sample) => samples.push(sample),
    });

    const alive = await nextSample(samples, (sample) => sample.processes.some((p) => p.name === 'child' && p.rssBytes > 0));
    expect(alive.processes.map((p) => p.name)).toEqual(['harness', 'child']);
    for (const p of alive.processes) {
      expect(p.rssBytes).toBeGreaterThan(1_000_000);
      if (process.platform === 'linux') expect(p.fds).toBeGreaterThan(2);
    }
    expect(alive.processes[1]?.pid).toBe(pid);

    child.kill('SIGKILL');
    await once(child, 'exit');
    const gone = await nextSample(samples, (sample) => sample.missingProcesses !== undefined);
    expect(gone.missingProcesses).toEqual(['child']);
    expect(gone.processes.map((p) => p.name)).toEqual(['harness']);
    const later = await nextSample(samples, () => true);
    expect(later.processes.map((p) => p.name)).toEqual(['harness']);
    expect(later.t).toBeGreaterThan(gone.t);
  });

  it('turns the collector interval into counts, rates, in-flight and the load model extras', async () => {
    let now = T0;
    const collector = createMetricsCollector({ now: () => now });
    const samples: TimeseriesSample[] = [];
    sampler = startSampler(collector, {
      logger: silentLogger(),
      intervalMs: 60_000,
      startedAt: T0,
      now: () => now,
      extras: () => ({ targetRate: 4, schedulerLagMs: 1.5, schedulerLag: { max: 1.5, buckets: [[1, 3], [1.5, 1]] }, phase: 'sustain' }),
      onSample: (sample) => samples.push(sample),
    });
    for (let id = 0; id < 5; id++) collector.flowStarted(id, T0);
    collector.flowFinished(flowResultFixture({ flowId: 0, e2eMs: 300 }));
    collector.flowFinished(flowResultFixture({ flowId: 1, failAt: { step: 'relay', errorClass: 'nonce' } }));
    collector.flowDropped(T0);
    collector.breakerChanged('open');
    collector.stepRetried('relay');
    now = T0 + 2_000;

    const { processes, eventLoopLagMs, generator, ...sample } = await sampler.stop();
    sampler = undefined;
    expect(samples).toHaveLength(1);
    expect(processes.map((p) => p.name)).toEqual(['harness']);
    expect(eventLoopLagMs.max).toBeGreaterThanOrEqual(eventLoopLagMs.mean);
    // The generator's own figures: the scheduler lags of the interval as the load model gave them.
    expect(generator?.schedulerLag).toEqual({ max: 1.5, buckets: [[1, 3], [1.5, 1]] });
    expect(generator?.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(generator?.eventLoopLag.max).toBe(eventLoopLagMs.max);
    // The machine's load against its CPUs, to tell a starved harness from a saturated one.
    expect(generator?.cpus).toBe(availableParallelism());
    expect(generator?.loadAvg1).toEqual(expect.any(Number));
    expect(generator!.loadAvg1!).toBeGreaterThanOrEqual(0);
    expect(sample).toEqual({
      t: T0 + 2_000,
      elapsedS: 2,
      started: 5,
      completed: 2,
      succeeded: 1,
      failed: 1,
      dropped: 1,
      startedPerS: 2.5,
      completedPerS: 1,
      failedPerS: 0.5,
      inFlight: 3,
      e2e: { p50: 300, p95: 300, p99: 300 },
      rollingE2eP95: 300,
      errors: { 'relay.nonce': 1 },
      targetRate: 4,
      schedulerLagMs: 1.5,
      breaker: 'open',
      phase: 'sustain',
      retriesByStep: { relay: 1 },
      breakerTransitions: { opened: 1, halfOpened: 0, closed: 0 },
    });
  });

  it('measures event-loop lag: a 60 ms stall right after a sample shows up in the next one', async () => {
    const samples: TimeseriesSample[] = [];
    let stallCpuMs = 0;
    sampler = startSampler(createMetricsCollector(), {
      logger: silentLogger(),
      intervalMs: 100,
      onSample: (sample) => {
        samples.push(sample);
        if (samples.length !== 1) return;
        const cpuBefore = process.cpuUsage();
        const stalledUntil = performance.now() + 60;
        while (performance.now() < stalledUntil) {
          // busy: nothing else runs
        }
        const used = process.cpuUsage(cpuBefore);
        stallCpuMs = (used.user + used.system) / 1_000;
      },
    });
    await nextSample(samples, () => samples.length >= 2);
    expect(samples[1]?.eventLoopLagMs.max).toBeGreaterThanOrEqual(45);
    // The same stall, in the distribution the generator-health check reads, and as harness CPU.
    const stalled = samples[1]!.generator!;
    expect(stalled.eventLoopLag.buckets.some(([bound]) => bound >= 45)).toBe(true);
    // CPU time of the interval covers at least the stall's (on a busy machine the stall may get less CPU than wall time).
    const intervalMs = (samples[1]!.elapsedS - samples[0]!.elapsedS) * 1_000;
    expect((stalled.cpuPercent / 100) * intervalMs).toBeGreaterThanOrEqual(stallCpuMs * 0.9);
  });

  it('stops, also in the middle of a tick: no sample after the final one, and stop() is idempotent', async () => {
    const samples: TimeseriesSample[] = [];
    let stopped: Promise<TimeseriesSample> | undefined;
    const running: Sampler = startSampler(createMetricsCollector(), {
      logger: silentLogger(),
      intervalMs: 20,
      onSample: (sample) => {
        samples.push(sample);
        stopped ??= running.stop();
      },
    });
    sampler = running;
    await nextSample(samples, () => true);
    const final = await stopped;
    expect(await running.stop()).toBe(final);
    expect(samples).toHaveLength(2);
    expect(samples.at(-1)).toBe(final);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(samples).toHaveLength(2);
  });

  it('error: rejects a non-positive interval', () => {
    expect(() => startSampler(createMetricsCollector(), { logger: silentLogger(), intervalMs: 0 })).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: Expected intervalMs > 0, got 0]`,
    );
  });
});
