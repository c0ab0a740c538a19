import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../util/seededRandom.ts';
import {
  bootstrapDifference,
  bootstrapLatencyStats,
  compareProportions,
  comparePoissonRates,
  fisherExact,
  LATENCY_STATS,
  latencyStats,
  mannWhitney,
  normalCdf,
  normalQuantile,
  quantileSorted,
} from './compareStats.ts';

const lognormalSample = (n: number, seed: number): Float64Array => {
  const random = createSeededRandom(seed);
  return Float64Array.from({ length: n }, () => Math.exp(3 * random())).sort();
};

describe('quantileSorted and latencyStats', () => {
  it('interpolate between order statistics (type 7, as R and numpy by default)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    expect(quantileSorted([7], 0.99)).toBe(7);
    expect(latencyStats(Float64Array.from([10, 20, 30, 40, 50]))).toEqual({ p50: 30, p90: 46, p95: 48, p99: 49.6, 'p99.9': 49.96, avg: 30 });
  });
});

describe('bootstrapLatencyStats', () => {
  it('draws the same replicates as resampling the flows one by one, for quantiles and the mean', () => {
    const sample = lognormalSample(300, 1);
    const resamples = 4_000;
    const fast = bootstrapLatencyStats(sample, { resamples, random: createSeededRandom(2), meanResampleCap: 10_000 });
    const random = createSeededRandom(3);
    const slow = { p50: [] as number[], p95: [] as number[], p99: [] as number[], avg: [] as number[] };
    const resample = new Float64Array(sample.length);
    for (let b = 0; b < resamples; b++) {
      for (let i = 0; i < sample.length; i++) resample[i] = sample[Math.floor(random() * sample.length)]!;
      resample.sort();
      const stats = latencyStats(resample);
      for (const stat of ['p50', 'p95', 'p99', 'avg'] as const) slow[stat].push(stats[stat]);
    }
    for (const stat of ['p50', 'p95', 'p99', 'avg'] as const) {
      const a = Float64Array.from(fast[stat]).sort();
      const b = Float64Array.from(slow[stat]).sort();
      // Two independent Monte Carlo runs of the same distribution: the 2.5/50/97.5 % points agree to ~2 %.
      for (const q of [0.025, 0.5, 0.975]) expect(quantileSorted(a, q) / quantileSorted(b, q)).toBeCloseTo(1, 1);
    }
  });

  it('replicates a large run’s mean from its standard error, centred on the mean', () => {
    const sample = lognormalSample(50_000, 4);
    const { avg } = bootstrapLatencyStats(sample, { resamples: 2_000, random: createSeededRandom(5), meanResampleCap: 1_000 });
    const point = latencyStats(sample).avg;
    const sorted = Float64Array.from(avg).sort();
    let squares = 0;
    for (const v of sample) squares += (v - point) ** 2;
    const standardError = Math.sqrt(squares / (sample.length - 1) / sample.length);
    expect(quantileSorted(sorted, 0.5)).toBeCloseTo(point, 1);
    expect((quantileSorted(sorted, 0.975) - quantileSorted(sorted, 0.025)) / (2 * 1.96 * standardError)).toBeCloseTo(1, 1);
  });

  it('is reproducible: the same seed gives the same replicates', () => {
    const sample = lognormalSample(100, 6);
    const run = () => bootstrapLatencyStats(sample, { resamples: 50, random: createSeededRandom(9), meanResampleCap: 2_000 });
    expect(run()).toEqual(run());
    expect(Object.keys(run())).toEqual([...LATENCY_STATS]);
  });
});

describe('bootstrapDifference', () => {
  it('finds no difference between identical replicates: p 1 and an interval around 0', () => {
    const replicates = Float64Array.from({ length: 999 }, (_, i) => 100 + (i % 7));
    const estimate = bootstrapDifference(103, 103, replicates, replicates, 0.05);
    expect(estimate).toEqual({ baseline: 103, candidate: 103, difference: 0, relative: 0, ci: [0, 0], pValue: 1 });
  });

  it('gives the smallest p it can resolve when every replicate difference is on one side', () => {
    const base = Float64Array.from({ length: 999 }, (_, i) => 100 + (i % 10));
    const cand = base.map((v) => v + 50);
    const estimate = bootstrapDifference(104, 154, base, cand, 0.05);
    expect(estimate.pValue).toBe(1 / 1000);
    expect(estimate.relative).toBeCloseTo(50 / 104, 12);
    expect(estimate.ci[0]).toBeGreaterThan(0);
  });
});

describe('mannWhitney', () => {
  it('matches the exact test closely on small samples and finds no shift between equal ones', () => {
    // Exact two-sided p for complete separation: 3 v 3 = 0.1, 4 v 4 = 0.0286.
    expect(mannWhitney([1, 2, 3], [4, 5, 6]).pValue).toBeCloseTo(0.081, 3);
    expect(mannWhitney([1, 2, 3, 4], [5, 6, 7, 8])).toEqual({ pValue: expect.closeTo(0.0304, 4), probabilityCandidateLarger: 1 });
    expect(mannWhitney([1, 2, 3], [1, 2, 3])).toEqual({ pValue: expect.closeTo(1, 6), probabilityCandidateLarger: 0.5 });
  });

  it('gives ties their mean rank', () => {
    // Over the 9 pairs, candidate above baseline counts 1 and a tie 1/2: 2 → 1.5, 3 → 2.5, 5 → 3.
    expect(mannWhitney([1, 2, 3], [2, 3, 5]).probabilityCandidateLarger).toBeCloseTo(7 / 9, 12);
  });
});

describe('tests of proportions and rates', () => {
  it("compares proportions with Newcombe's hybrid score interval (his example: 56/70 vs 48/80 → 0.0524 to 0.3339)", () => {
    const estimate = compareProportions(48, 80, 56, 70, 0.05);
    expect(estimate.difference).toBeCloseTo(0.2, 12);
    expect(estimate.ci[0]).toBeCloseTo(0.0524, 4);
    expect(estimate.ci[1]).toBeCloseTo(0.3339, 4);
    expect(estimate.test).toBe('z');
    expect(estimate.pValue).toBeCloseTo(0.008, 3);
  });

  it("uses Fisher's exact test when an expected count is below 5", () => {
    expect(fisherExact(10, 10, 7, 10)).toBeCloseTo(0.2105, 4);
    expect(fisherExact(3, 3, 0, 3)).toBeCloseTo(0.1, 12);
    expect(compareProportions(10, 10, 7, 10, 0.05)).toMatchObject({ test: 'fisher', pValue: expect.closeTo(0.2105, 4), difference: expect.closeTo(-0.3, 12) });
    expect(compareProportions(300, 300, 300, 300, 0.05)).toMatchObject({ test: 'fisher', pValue: 1, difference: 0 });
  });

  it('compares rates of events over durations', () => {
    expect(comparePoissonRates(100, 50, 100, 50, 0.05)).toMatchObject({ difference: 0, pValue: expect.closeTo(1, 6) });
    const slower = comparePoissonRates(150, 50, 100, 50, 0.05);
    expect(slower).toMatchObject({ baseline: 3, candidate: 2, difference: -1, relative: expect.closeTo(-1 / 3, 12) });
    expect(slower.pValue).toBeLessThan(0.01);
  });

  it('has the normal distribution right to 6 digits', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3.090232)).toBeCloseTo(0.001, 6);
  });
});
