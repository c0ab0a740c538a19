/**
 * The statistics behind `vana-load compare`, as pure functions of sorted samples and a seeded
 * random source: quantiles, a bootstrap of the difference of latency statistics between two runs,
 * the Mann-Whitney rank test, and tests of proportions and of rates.
 *
 * Bootstrap, and why this one. Latency distributions are skewed and multi-modal (polls, blocks,
 * retries), so a normal-theory interval of a p95 is not to be trusted; the percentile bootstrap
 * needs no shape. Each run is resampled on its own (the runs are independent), the statistic
 * recomputed, and the `1 - alpha` interval of the difference read off the resampled differences.
 * The two-sided p-value is twice the smaller share of resampled differences on either side of 0
 * (add-one smoothed), so `p < alpha` exactly when the interval leaves out 0.
 *
 * Cost at 100k flows. A resample's quantile needs only a few order statistics of the resample,
 * and the order statistics of n uniform draws have the Rényi representation
 * U(k) = S_k / S_(n+1), S_k a sum of k unit exponentials, i.e. a Gamma(k) draw. Drawing the
 * few Gamma increments between the ranks needed gives the resample's quantiles exactly in
 * distribution (sorted resample value k = sorted sample[floor(n × U(k))]) in O(1) per resample,
 * whatever n. The mean has no such shortcut (a resample's mean needs all n draws): up to
 * `meanResampleCap` flows it is bootstrapped so; above, where the central limit theorem has long
 * taken over, a replicate is the mean plus a normal draw of its standard error. Either way a
 * 100k-flow comparison costs about the same as a 1k-flow one.
 */
import type { RandomSource } from '../util/seededRandom.ts';

/** Latency statistics compared per step; the names of the thresholds vocabulary. */
export const LATENCY_STATS = ['p50', 'p90', 'p95', 'p99', 'p99.9', 'avg'] as const;
export type LatencyStat = (typeof LATENCY_STATS)[number];
const QUANTILE_OF: Record<Exclude<LatencyStat, 'avg'>, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, 'p99.9': 0.999 };

/** A difference `candidate - baseline` with its `1 - alpha` confidence interval and two-sided p-value. */
export interface DifferenceEstimate {
  baseline: number;
  candidate: number;
  difference: number;
  /** `difference / baseline`, null when the baseline is 0. */
  relative: number | null;
  ci: readonly [number, number];
  pValue: number;
}

/** Type-7 quantile (linear interpolation between order statistics, R's default) of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  return lo + 1 < n ? a + (h - lo) * (sorted[lo + 1]! - a) : a;
}

export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/** Every statistic of `LATENCY_STATS` of an ascending array. */
export function latencyStats(sorted: ArrayLike<number>): Record<LatencyStat, number> {
  const out = { avg: meanOf(sorted) } as Record<LatencyStat, number>;
  for (const [stat, q] of Object.entries(QUANTILE_OF)) out[stat as LatencyStat] = quantileSorted(sorted, q);
  return out;
}

function standardNormal(random: RandomSource): number {
  // Box-Muller; 1 - u is in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, 1) draw for shape >= 1 (Marsaglia and Tsang, 2000). */
export function gammaDraw(shape: number, random: RandomSource): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let z: number;
    let v: number;
    do {
      z = standardNormal(random);
      v = 1 + c * z;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * z ** 4 || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
  }
}

export interface BootstrapOptions {
  resamples: number;
  random: RandomSource;
  /** Above this many values the mean's replicates are normal draws of its standard error. */
  meanResampleCap: number;
}

/**
 * `resamples` bootstrap replicates of every statistic of `LATENCY_STATS` for one run, from its
 * ascending values (see the module comment for how).
 */
export function bootstrapLatencyStats(sorted: ArrayLike<number>, { resamples, random, meanResampleCap }: BootstrapOptions): Record<LatencyStat, Float64Array> {
  const n = sorted.length;
  const out = Object.fromEntries(LATENCY_STATS.map((s) => [s, new Float64Array(resamples)])) as Record<LatencyStat, Float64Array>;
  // 1-based ranks of the order statistics each quantile interpolates between.
  const quantiles = Object.entries(QUANTILE_OF).map(([stat, q]) => {
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    return { stat: stat as LatencyStat, rank: lo + 1, frac: h - lo };
  });
  const ranks = [...new Set(quantiles.flatMap(({ rank, frac }) => (frac > 0 && rank < n ? [rank, rank + 1] : [rank])))].sort((a, b) => a - b);
  const valueAtRank = new Map<number, number>();
  const mean = meanOf(sorted);
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i]! - mean) ** 2;
  const standardError = n > 1 ? Math.sqrt(squares / (n - 1) / n) : 0;

  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    let previous = 0;
    const partial: number[] = [];
    for (const rank of ranks) {
      sum += gammaDraw(rank - previous, random);
      partial.push(sum);
      previous = rank;
    }
    if (n + 1 > previous) sum += gammaDraw(n + 1 - previous, random);
    ranks.forEach((rank, i) => valueAtRank.set(rank, sorted[Math.min(n - 1, Math.floor((n * partial[i]!) / sum))]!));
    for (const { stat, rank, frac } of quantiles) {
      const a = valueAtRank.get(rank)!;
      out[stat][b] = frac > 0 && rank < n ? a + frac * (valueAtRank.get(rank + 1)! - a) : a;
    }
    if (n <= meanResampleCap) {
      let total = 0;
      for (let i = 0; i < n; i++) total += sorted[Math.floor(random() * n)]!;
      out.avg[b] = total / n;
    } else out.avg[b] = mean + standardError * standardNormal(random);
  }
  return out;
}

/**
 * The estimate of `candidate - baseline` from the point values and the two runs' bootstrap
 * replicates (independent runs, so replicate i of each is paired freely).
 */
export function bootstrapDifference(baseline: number, candidate: number, baselineReplicates: Float64Array, candidateReplicates: Float64Array, alpha: number): DifferenceEstimate {
  const count = Math.min(baselineReplicates.length, candidateReplicates.length);
  const differences = new Float64Array(count);
  let below = 0;
  let above = 0;
  for (let i = 0; i < count; i++) {
    const d = candidateReplicates[i]! - baselineReplicates[i]!;
    differences[i] = d;
    if (d <= 0) below++;
    if (d >= 0) above++;
  }
  differences.sort();
  const difference = candidate - baseline;
  return {
    baseline,
    candidate,
    difference,
    relative: baseline === 0 ? null : difference / baseline,
    ci: [quantileSorted(differences, alpha / 2), quantileSorted(differences, 1 - alpha / 2)],
    pValue: Math.min(1, (2 * Math.min(below, above) + 1) / (count + 1)),
  };
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 for erf: absolute error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Standard normal quantile (Acklam's rational approximation: relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

const twoSided = (z: number): number => Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));

export interface MannWhitneyResult {
  /** Two-sided, normal approximation with tie and continuity corrections. */
  pValue: number;
  /** P(candidate value > baseline value) + P(tie) / 2: 0.5 = no shift, 1 = every candidate value is larger. */
  probabilityCandidateLarger: number;
}

/** Mann-Whitney U test of two ascending samples: did the distribution shift? O((n + m) log(n + m)). */
export function mannWhitney(baseline: ArrayLike<number>, candidate: ArrayLike<number>): MannWhitneyResult {
  const nA = baseline.length;
  const nB = candidate.length;
  const total = nA + nB;
  // Merge the two sorted samples, giving tied values their mean rank.
  let i = 0;
  let j = 0;
  let rankSumB = 0;
  let tieTerm = 0;
  let rank = 0;
  while (i < nA || j < nB) {
    const value = j >= nB || (i < nA && baseline[i]! <= candidate[j]!) ? baseline[i]! : candidate[j]!;
    let fromA = 0;
    let fromB = 0;
    for (; i < nA && baseline[i] === value; i++) fromA++;
    for (; j < nB && candidate[j] === value; j++) fromB++;
    const tied = fromA + fromB;
    rankSumB += fromB * (rank + (tied + 1) / 2);
    tieTerm += tied ** 3 - tied;
    rank += tied;
  }
  const u = rankSumB - (nB * (nB + 1)) / 2;
  const meanU = (nA * nB) / 2;
  const variance = ((nA * nB) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  const pValue = variance <= 0 ? 1 : twoSided(Math.max(0, Math.abs(u - meanU) - 0.5) / Math.sqrt(variance));
  return { pValue, probabilityCandidateLarger: u / (nA * nB) };
}

/** Wilson score interval of a proportion. */
function wilson(successes: number, n: number, z: number): [number, number] {
  const p = successes / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** log(k!) for k = 0..n. */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) out[k] = out[k - 1]! + Math.log(k);
  return out;
}

/** Two-sided Fisher exact test of a 2×2 table (sum of the tables no likelier than the observed one). */
export function fisherExact(successesA: number, nA: number, successesB: number, nB: number): number {
  const successes = successesA + successesB;
  const total = nA + nB;
  const lf = logFactorials(total);
  const logP = (x: number): number =>
    lf[successes]! + lf[total - successes]! + lf[nA]! + lf[nB]! - lf[total]! - lf[x]! - lf[successes - x]! - lf[nA - x]! - lf[nB - successes + x]!;
  const observed = logP(successesA);
  let p = 0;
  for (let x = Math.max(0, successes - nB); x <= Math.min(successes, nA); x++) {
    const lp = logP(x);
    if (lp <= observed + 1e-7) p += Math.exp(lp);
  }
  return Math.min(1, p);
}

/**
 * Difference of two proportions (`candidate - baseline`): Newcombe's hybrid score interval (good
 * near 0 and 1, where success rates live), and the pooled two-proportion z-test, or Fisher's exact
 * test when an expected cell count is below 5 (small runs).
 */
export function compareProportions(successesA: number, nA: number, successesB: number, nB: number, alpha: number): DifferenceEstimate & { test: 'z' | 'fisher' } {
  const pA = successesA / nA;
  const pB = successesB / nB;
  const z = normalQuantile(1 - alpha / 2);
  const [lA, uA] = wilson(successesA, nA, z);
  const [lB, uB] = wilson(successesB, nB, z);
  const difference = pB - pA;
  const ci: [number, number] = [difference - Math.sqrt((pB - lB) ** 2 + (uA - pA) ** 2), difference + Math.sqrt((uB - pB) ** 2 + (pA - lA) ** 2)];
  const pooled = (successesA + successesB) / (nA + nB);
  const expected = [pooled * nA, (1 - pooled) * nA, pooled * nB, (1 - pooled) * nB];
  const base = { baseline: pA, candidate: pB, difference, relative: pA === 0 ? null : difference / pA, ci };
  if (expected.some((e) => e < 5)) return { ...base, pValue: fisherExact(successesA, nA, successesB, nB), test: 'fisher' };
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  return { ...base, pValue: se === 0 ? 1 : twoSided(difference / se), test: 'z' };
}

/**
 * Difference of two event rates (events per second), e.g. completed flows over the run: the
 * conditional test (given k_A + k_B events, k_B is binomial with p = t_B / (t_A + t_B) when the
 * rates are equal; normal approximation) and a normal interval of the difference. It assumes
 * Poisson-like counts; a closed model's completions are more regular, so the test is cautious there.
 */
export function comparePoissonRates(countA: number, secondsA: number, countB: number, secondsB: number, alpha: number): DifferenceEstimate {
  const rateA = countA / secondsA;
  const rateB = countB / secondsB;
  const difference = rateB - rateA;
  const half = normalQuantile(1 - alpha / 2) * Math.sqrt(countA / secondsA ** 2 + countB / secondsB ** 2);
  const k = countA + countB;
  const p0 = secondsB / (secondsA + secondsB);
  const se = Math.sqrt(k * p0 * (1 - p0));
  return {
    baseline: rateA,
    candidate: rateB,
    difference,
    relative: rateA === 0 ? null : difference / rateA,
    ci: [difference - half, difference + half],
    pValue: se === 0 ? 1 : twoSided(Math.max(0, Math.abs(countB - k * p0) - 0.5) / se),
  };
}
