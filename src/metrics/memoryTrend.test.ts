import { describe, expect, it } from 'vitest';
import { memoryTrend } from './memoryTrend.ts';
import type { TimeseriesSample } from './types.ts';

/** One sample a second for `seconds`, 25 flows/s, harness memory from `memoryAt(second)`. */
function run(seconds: number, memoryAt: (s: number) => { rss: number; heap: number }): TimeseriesSample[] {
  return Array.from({ length: seconds }, (_, s) => {
    const { rss, heap } = memoryAt(s);
    return {
      t: 1_700_000_000_000 + s * 1000,
      elapsedS: s,
      started: 25 * s,
      completed: 25 * s,
      succeeded: 25 * s,
      failed: 0,
      dropped: 0,
      startedPerS: 25,
      completedPerS: 25,
      failedPerS: 0,
      inFlight: 200,
      e2e: null,
      rollingE2eP95: null,
      errors: {},
      eventLoopLagMs: { mean: 1, max: 2 },
      processes: [
        { name: 'harness', pid: 1, cpuPercent: 30, rssBytes: rss, heapUsedBytes: heap },
        { name: 'anvil', pid: 2, cpuPercent: 10, rssBytes: 1e9 + s * 1e6 },
      ],
    } as TimeseriesSample;
  });
}

describe('memoryTrend', () => {
  it('finds no slope in memory that only saw-tooths around a level after the warm-up', () => {
    const trend = memoryTrend(run(1200, (s) => ({ rss: (s < 300 ? 250 + s / 3 : 350) * 1e6 + (s % 60) * 1e6, heap: 150e6 + (s % 30) * 1e6 })));
    expect(Math.abs(trend.rssSlopePer1000Flows!)).toBeLessThan(0.2e6);
    expect(Math.abs(trend.heapSlopePer1000Flows!)).toBeLessThan(0.2e6);
    expect(trend.buckets.map((b) => b.fromS)).toEqual([0, 300, 600, 900]);
    expect(trend.buckets[3]).toMatchObject({ completed: 25 * 1199, inFlightMean: 200, heapMeanBytes: expect.any(Number) });
  });

  it('measures a leak as bytes per 1000 flows', () => {
    // 1 KB a flow: 1 MB per 1000 flows.
    const trend = memoryTrend(run(1200, (s) => ({ rss: 300e6 + 25 * s * 1000, heap: 150e6 + 25 * s * 1000 })));
    expect(trend.heapSlopePer1000Flows).toBeCloseTo(1e6, -3);
    expect(trend.rssSlopePer1000Flows).toBeCloseTo(1e6, -3);
  });

  it('reads another process, and has no slope without samples after the warm-up', () => {
    const samples = run(100, () => ({ rss: 1, heap: 1 }));
    const anvil = memoryTrend(samples, { process: 'anvil', bucketS: 50, warmupS: 0 });
    expect(anvil.rssSlopePer1000Flows).toBeCloseTo(1e6 * (1000 / 25), -3);
    expect(anvil.heapSlopePer1000Flows).toBeUndefined();
    expect(memoryTrend(samples).rssSlopePer1000Flows).toBeUndefined();
    expect(() => memoryTrend(samples, { bucketS: 0 })).toThrow(RangeError);
  });

  it('tells what a flow in flight costs from what a finished flow leaves behind', () => {
    // In flight swings between 200 and 1400 (blocks come, flows wait): 30 kB each; 400 B of residue per finished flow.
    const inFlightAt = (s: number) => 800 + 600 * Math.sin(s / 40);
    const samples = run(1200, (s) => {
      const completed = 25 * s;
      const bytes = 100e6 + 30e3 * inFlightAt(s) + 400 * completed;
      return { rss: bytes + 50e6, heap: bytes };
    }).map((sample, s) => ({ ...sample, inFlight: Math.round(inFlightAt(s)) }));
    const trend = memoryTrend(samples);
    expect(trend.heapPerFlow.inFlight).toBeCloseTo(30e3, -2);
    expect(trend.heapPerFlow.finished).toBeCloseTo(400, 0);
    expect(trend.rssPerFlow.inFlight).toBeCloseTo(30e3, -2);
    // The slope alone would blame the swings of flows in flight on the finished ones.
    expect(trend.heapSlopePer1000Flows).not.toBeCloseTo(0.4e6, -4);
  });

  it('fits flows completed alone when flows in flight stay pinned at a cap', () => {
    const samples = run(1200, (s) => ({ rss: 300e6 + 25 * s * 2000, heap: 150e6 + 25 * s * 1000 }));
    const trend = memoryTrend(samples);
    expect(trend.heapPerFlow.inFlight).toBeUndefined();
    expect(trend.heapPerFlow.finished).toBeCloseTo(1000, 0);
    expect(trend.rssPerFlow.finished).toBeCloseTo(2000, 0);
  });

  it('has no per-flow figures with fewer than three samples after the warm-up', () => {
    expect(memoryTrend(run(302, () => ({ rss: 1, heap: 1 }))).heapPerFlow).toEqual({ inFlight: undefined, finished: undefined });
  });
});
