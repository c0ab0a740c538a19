import { describe, expect, it } from 'vitest';
import { createLognormalSampler } from './lognormalSampler.ts';
import { createSeededRandom } from '../../util/seededRandom.ts';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

describe('createSeededRandom', () => {
  it('repeats its sequence for a seed and stays in [0, 1)', () => {
    const a = createSeededRandom(7);
    const b = createSeededRandom(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(createSeededRandom(8)()).not.toBe(xs[0]);
  });
});

describe('createLognormalSampler', () => {
  it('draws samples whose p50 and p95 match the fitted percentiles within 3%', () => {
    const sample = createLognormalSampler({ p50Ms: 800, p95Ms: 3000 }, createSeededRandom(42));
    const xs = Array.from({ length: 100_000 }, sample).sort((x, y) => x - y);
    expect(Math.abs(percentile(xs, 0.5) / 800 - 1)).toBeLessThan(0.03);
    expect(Math.abs(percentile(xs, 0.95) / 3000 - 1)).toBeLessThan(0.03);
    expect(xs[0]!).toBeGreaterThan(0);
  });

  it('draws the same samples for the same seed', () => {
    const a = createLognormalSampler({ p50Ms: 100, p95Ms: 400 }, createSeededRandom(1));
    const b = createLognormalSampler({ p50Ms: 100, p95Ms: 400 }, createSeededRandom(1));
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('returns 0 for zero percentiles and a constant for equal ones', () => {
    expect(createLognormalSampler({ p50Ms: 0, p95Ms: 0 }, createSeededRandom(1))()).toBe(0);
    expect(createLognormalSampler({ p50Ms: 250, p95Ms: 250 }, createSeededRandom(1))()).toBe(250);
  });

  it('error: rejects p95Ms below p50Ms', () => {
    expect(() => createLognormalSampler({ p50Ms: 500, p95Ms: 100 }, createSeededRandom(1))).toThrowErrorMatchingInlineSnapshot(`[ConfigError: Expected latency percentiles with 0 <= p50Ms <= p95Ms, got p50Ms=500 p95Ms=100]`);
  });

  it('error: rejects a zero median with a positive p95Ms', () => {
    expect(() => createLognormalSampler({ p50Ms: 0, p95Ms: 100 }, createSeededRandom(1))).toThrowErrorMatchingInlineSnapshot(`[ConfigError: Expected p95Ms = 0 when p50Ms = 0 (a lognormal has no zero median), got p95Ms=100]`);
  });
});
