/**
 * `vana-load compare`: what changed from a baseline run to a candidate run, with how sure we can
 * be. A pure function of the two runs read by `readCompareRun`; the statistics are in
 * compareStats.ts, where the module comment says why they are these.
 *
 * - Latency per step and e2e (p50, p90, p95, p99, p99.9, mean): the difference with a percentile
 *   bootstrap interval (seeded per step, so the same inputs print the same figures), and the
 *   Mann-Whitney rank test of the step's whole distribution. A latency difference counts as
 *   significant only when both reject at alpha (an intersection-union test, itself of level
 *   alpha): the p-value shown is the larger of the two. The bootstrap alone is too sure of itself
 *   on a handful of flows (its interval can never be wider than the data); the rank test is not.
 * - Success rates (flows, transactions, uploads) and dropped arrivals: Newcombe's interval and a
 *   two-proportion z-test, Fisher's exact test on small counts.
 * - Throughput (completed flows/s): a conditional Poisson test of the two counts over the two
 *   durations.
 * - Errors by step × class and CPU ms per flow per process: side by side; they have no per-flow
 *   samples to test.
 */
import { STEP_NAMES } from '../flow.ts';
import type { MetricStep } from '../metrics/types.ts';
import { seedFromString } from '../util/seededRandom.ts';
import { createSeededRandom } from '../util/seededRandom.ts';
import { checkComparability, type ComparabilityIssue } from './comparability.ts';
import {
  bootstrapDifference,
  bootstrapLatencyStats,
  compareProportions,
  comparePoissonRates,
  LATENCY_STATS,
  latencyStats,
  mannWhitney,
  type DifferenceEstimate,
  type LatencyStat,
  type MannWhitneyResult,
} from './compareStats.ts';
import type { CompareRun, SuccessCount } from './readCompareRun.ts';

/** A latency difference: `pValue` is the larger of `bootstrapPValue` and the step's Mann-Whitney p. */
export interface LatencyDifference extends DifferenceEstimate {
  bootstrapPValue: number;
}

export interface StepComparison {
  step: MetricStep;
  baselineCount: number;
  candidateCount: number;
  /** Null when a run has fewer than `MIN_FLOWS` times for the step. */
  stats: Record<LatencyStat, LatencyDifference> | null;
  mannWhitney: MannWhitneyResult | null;
}

export type ProportionDifference = DifferenceEstimate & { test: 'z' | 'fisher'; baselineCount: SuccessCount; candidateCount: SuccessCount };

export interface RunFacts {
  dir: string;
  runId: string;
  milestone: string | null;
  startedAt: number;
  durationS: number;
  ok: number;
  failed: number;
  dropped: number;
  seed: number | null;
}

export interface RunComparison {
  alpha: number;
  resamples: number;
  baseline: RunFacts;
  candidate: RunFacts;
  comparability: ComparabilityIssue[];
  /** Steps measured in either run, in flow order, then e2e. */
  steps: StepComparison[];
  /** Null when a run has no flows (or attempts, or arrivals) to judge. */
  successRate: ProportionDifference | null;
  txSuccessRate: ProportionDifference | null;
  uploadSuccessRate: ProportionDifference | null;
  droppedRate: ProportionDifference | null;
  /** Completed flows per second. */
  throughput: DifferenceEstimate | null;
  /** Failed flows by `<step>.<class>`, most frequent first. */
  errors: Array<{ key: string; baseline: number; candidate: number }>;
  cpuMsPerFlow: Array<{ process: string; baseline: number | null; candidate: number | null }>;
}

export interface CompareRunsOptions {
  /** Two-sided significance level; the intervals are `1 - alpha`. Default 0.05. */
  alpha?: number;
  /** Bootstrap resamples per run and step. Default 2000 (p-values resolve down to ~0.0005). */
  resamples?: number;
  /** Above this many flows the mean's replicates are normal (CLT) instead of resampled. Default 2000. */
  meanResampleCap?: number;
}

/** Fewer times than this in either run and a step's statistics are not compared. */
export const MIN_FLOWS = 2;

/**
 * Compares two runs; see the module comment.
 *
 * @example
 * const comparison = compareRuns(await readCompareRun('results/a'), await readCompareRun('results/b'));
 * comparison.steps.find((s) => s.step === 'e2e')?.stats?.p95; // { difference, ci, pValue, ... }
 */
export function compareRuns(baseline: CompareRun, candidate: CompareRun, { alpha = 0.05, resamples = 2_000, meanResampleCap = 2_000 }: CompareRunsOptions = {}): RunComparison {
  const order: MetricStep[] = [...STEP_NAMES, 'e2e'];
  const steps = order.flatMap((step): StepComparison[] => {
    const a = baseline.times[step];
    const b = candidate.times[step];
    if (a === undefined && b === undefined) return [];
    const baselineCount = a?.length ?? 0;
    const candidateCount = b?.length ?? 0;
    if (a === undefined || b === undefined || baselineCount < MIN_FLOWS || candidateCount < MIN_FLOWS) {
      return [{ step, baselineCount, candidateCount, stats: null, mannWhitney: null }];
    }
    const rank = mannWhitney(a, b);
    // One stream per run and step: a step's figures do not depend on which other steps ran.
    const boot = (values: Float64Array, which: string) =>
      bootstrapLatencyStats(values, { resamples, meanResampleCap, random: createSeededRandom(seedFromString(`compare:${step}:${which}`)) });
    const [pointA, pointB, bootA, bootB] = [latencyStats(a), latencyStats(b), boot(a, 'baseline'), boot(b, 'candidate')];
    const stats = Object.fromEntries(
      LATENCY_STATS.map((stat) => {
        const estimate = bootstrapDifference(pointA[stat], pointB[stat], bootA[stat], bootB[stat], alpha);
        return [stat, { ...estimate, bootstrapPValue: estimate.pValue, pValue: Math.max(estimate.pValue, rank.pValue) }];
      }),
    ) as Record<LatencyStat, LatencyDifference>;
    return [{ step, baselineCount, candidateCount, stats, mannWhitney: rank }];
  });

  const proportion = (a: SuccessCount, b: SuccessCount): ProportionDifference | null =>
    a.attempts === 0 || b.attempts === 0
      ? null
      : { ...compareProportions(a.successes, a.attempts, b.successes, b.attempts, alpha), baselineCount: a, candidateCount: b };
  const flows = (run: CompareRun): SuccessCount => ({ attempts: run.ok + run.failed, successes: run.ok });
  const arrivals = (run: CompareRun): SuccessCount => ({ attempts: run.ok + run.failed + run.dropped, successes: run.dropped });
  const [sA, sB] = [baseline.summary, candidate.summary];

  return {
    alpha,
    resamples,
    baseline: facts(baseline),
    candidate: facts(candidate),
    comparability: checkComparability(sA, sB),
    steps,
    successRate: proportion(flows(baseline), flows(candidate)),
    txSuccessRate: proportion(baseline.transactions, candidate.transactions),
    uploadSuccessRate: proportion(baseline.uploads, candidate.uploads),
    droppedRate: proportion(arrivals(baseline), arrivals(candidate)),
    throughput:
      sA.durationS > 0 && sB.durationS > 0 ? comparePoissonRates(flows(baseline).attempts, sA.durationS, flows(candidate).attempts, sB.durationS, alpha) : null,
    errors: sideBySide(baseline.errors, candidate.errors),
    cpuMsPerFlow: cpuSideBySide(baseline, candidate),
  };
}

function facts(run: CompareRun): RunFacts {
  const { summary } = run;
  return {
    dir: run.dir,
    runId: summary.runId,
    milestone: summary.milestone,
    startedAt: summary.startedAt,
    durationS: summary.durationS,
    ok: run.ok,
    failed: run.failed,
    dropped: run.dropped,
    seed: summary.environment.seed ?? null,
  };
}

function sideBySide(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): RunComparison['errors'] {
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  return keys
    .map((key) => ({ key, baseline: a.get(key) ?? 0, candidate: b.get(key) ?? 0 }))
    .sort((x, y) => y.baseline + y.candidate - (x.baseline + x.candidate) || x.key.localeCompare(y.key));
}

const PROCESS_ORDER = ['harness', 'stack', 'anvil'];

function cpuSideBySide(a: CompareRun, b: CompareRun): RunComparison['cpuMsPerFlow'] {
  const of = (run: CompareRun, name: string): number | null => run.summary.resources.find((r) => r.name === name)?.cpuMsPerFlow ?? null;
  const names = [...new Set([...a.summary.resources, ...b.summary.resources].map((r) => r.name))];
  const rank = (name: string): number => (PROCESS_ORDER.includes(name) ? PROCESS_ORDER.indexOf(name) : PROCESS_ORDER.length);
  names.sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
  return names.map((process) => ({ process, baseline: of(a, process), candidate: of(b, process) }));
}
