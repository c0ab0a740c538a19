import { describe, expect, it } from 'vitest';
import { createLagRecorder, lagBucket, lagCount, lagQuantile, mergeLagDistributions, type LagDistribution } from './lagDistribution.ts';

describe('lagBucket', () => {
  it('rounds a lag up to two significant digits, everything up to 1 ms in bucket 1', () => {
    expect([0, 0.3, 1, 1.01, 1.5, 7.2, 9.99, 10, 23.4, 99.5, 250, 251, 1_234, 60_001].map(lagBucket)).toEqual([
      1, 1, 1, 1.1, 1.5, 7.2, 10, 10, 24, 100, 250, 260, 1_300, 61_000,
    ]);
  });

  it('never puts a value in a bucket below it, nor more than 10 % above it', () => {
    for (let ms = 1.01; ms < 100_000; ms *= 1.07) {
      const bound = lagBucket(ms);
      expect(bound).toBeGreaterThanOrEqual(ms);
      expect(bound).toBeLessThanOrEqual(ms * 1.1);
    }
  });
});

describe('createLagRecorder', () => {
  it('hands over one interval at a time, with the exact max, and nothing for an empty interval', () => {
    const lag = createLagRecorder();
    for (const ms of [0.2, 0.4, 3.3, 212.25, -1]) lag.record(ms);
    expect(lag.take()).toEqual({ max: 212.25, buckets: [[1, 3], [3.3, 1], [220, 1]] });
    expect(lag.take()).toBeUndefined();
    lag.record(5);
    expect(lag.take()).toEqual({ max: 5, buckets: [[5, 1]] });
  });
});

describe('lagQuantile', () => {
  it('gives the bound under which the rank lies, capped by the max', () => {
    const d: LagDistribution = { max: 212, buckets: [[1, 99], [220, 1]] };
    expect(lagQuantile(d, 0.99)).toBe(1);
    expect(lagQuantile(d, 1)).toBe(212);
    // 2 of 100 above 1 ms: the p99 is in the upper bucket.
    expect(lagQuantile({ max: 480, buckets: [[1, 98], [300, 1], [480, 1]] }, 0.99)).toBe(300);
    expect(lagQuantile({ max: 0, buckets: [] }, 0.99)).toBe(0);
  });

  it('decides "p99 within a two-digit limit" exactly: 250 is within 250ms, 250.5 is not', () => {
    const within = createLagRecorder();
    const over = createLagRecorder();
    for (let i = 0; i < 98; i++) {
      within.record(1);
      over.record(1);
    }
    for (let i = 0; i < 2; i++) {
      within.record(250);
      over.record(250.5);
    }
    expect(lagQuantile(within.take()!, 0.99)).toBe(250);
    expect(lagQuantile(over.take()!, 0.99)).toBeGreaterThan(250);
  });
});

describe('mergeLagDistributions', () => {
  it('adds counts and keeps the larger max; the merge of none is undefined', () => {
    const merged = mergeLagDistributions([{ max: 3, buckets: [[1, 2], [3, 1]] }, undefined, { max: 40, buckets: [[3, 4], [40, 1]] }]);
    expect(merged).toEqual({ max: 40, buckets: [[1, 2], [3, 5], [40, 1]] });
    expect(lagCount(merged!)).toBe(8);
    expect(mergeLagDistributions([undefined])).toBeUndefined();
  });
});
