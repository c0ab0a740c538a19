/**
 * A lag distribution small enough to write into every line of `timeseries.jsonl` and exact enough
 * to judge: counts per bucket whose bound is the value rounded *up* to two significant digits
 * (1, 1.1, …, 9.9, 10, 11, …, 99, 100, 110, …, 250, 260, …; everything up to 1 ms in bucket 1).
 * A percentile read from the buckets is never below the true one and at most 10 % above it, and
 * for a limit of two significant digits (100ms, 250ms, 1s) "p99 ≤ limit" is decided exactly.
 * Intervals merge by adding counts, so a run's p99 is the same whether the live run or
 * `vana-load report` computes it from the samples.
 */

/** One interval's lag values: the exact max and `[bound in ms, count]` pairs, by bound. */
export interface LagDistribution {
  max: number;
  buckets: Array<[bound: number, count: number]>;
}

/** The bucket bound of a lag in ms: rounded up to two significant digits, at least 1. */
export function lagBucket(ms: number): number {
  if (!(ms > 1)) return 1;
  const step = 10 ** (Math.floor(Math.log10(ms)) - 1);
  // toPrecision removes float noise (1.5000000000000002); the small epsilon keeps 250 in bucket 250.
  return Number((Math.ceil(ms / step - 1e-9) * step).toPrecision(2));
}

/** Collects lag values until `take()` hands them over as one interval's distribution. */
export interface LagRecorder {
  record(ms: number): void;
  /** The values since the last `take()`, then starts afresh; undefined when there were none. */
  take(): LagDistribution | undefined;
}

const round3 = (value: number): number => Math.round(value * 1_000) / 1_000;
const sortedPairs = (counts: ReadonlyMap<number, number>): Array<[number, number]> => [...counts].sort((a, b) => a[0] - b[0]);

/**
 * @example
 * const lag = createLagRecorder();
 * lag.record(0.4); lag.record(212);
 * lag.take(); // { max: 212, buckets: [[1, 1], [220, 1]] }
 */
export function createLagRecorder(): LagRecorder {
  let counts = new Map<number, number>();
  let max = 0;
  return {
    record(ms) {
      const value = Number.isFinite(ms) ? Math.max(0, ms) : 0;
      const bound = lagBucket(value);
      counts.set(bound, (counts.get(bound) ?? 0) + 1);
      if (value > max) max = value;
    },
    take() {
      if (counts.size === 0) return undefined;
      const taken: LagDistribution = { max: round3(max), buckets: sortedPairs(counts) };
      counts = new Map();
      max = 0;
      return taken;
    },
  };
}

/** Adds distributions up (the intervals of a window, or of the whole run); undefined for none. */
export function mergeLagDistributions(parts: ReadonlyArray<LagDistribution | undefined>): LagDistribution | undefined {
  const counts = new Map<number, number>();
  let max = 0;
  let any = false;
  for (const part of parts) {
    if (part === undefined) continue;
    any = true;
    max = Math.max(max, part.max);
    for (const [bound, count] of part.buckets) counts.set(bound, (counts.get(bound) ?? 0) + count);
  }
  return any ? { max, buckets: sortedPairs(counts) } : undefined;
}

/** Values in the distribution. */
export function lagCount(distribution: LagDistribution): number {
  return distribution.buckets.reduce((sum, [, count]) => sum + count, 0);
}

/**
 * The `q` quantile (0 < q ≤ 1) as a bucket bound: the smallest bound under which at least
 * ceil(q × count) values lie, capped by the exact max. 0 for an empty distribution.
 *
 * @example
 * lagQuantile({ max: 212, buckets: [[1, 99], [220, 1]] }, 0.99); // 1
 */
export function lagQuantile(distribution: LagDistribution, q: number): number {
  const total = lagCount(distribution);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total - 1e-9));
  let seen = 0;
  // Sorted when written; sorted again for a hand-edited file.
  for (const [bound, count] of [...distribution.buckets].sort((a, b) => a[0] - b[0])) {
    seen += count;
    if (seen >= rank) return Math.min(bound, distribution.max);
  }
  return distribution.max;
}
