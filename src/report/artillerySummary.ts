/**
 * `summary.json` of an Artillery run: Artillery's `--output` JSON (the aggregate and one
 * intermediate report per 10 s period, merged across workers) read back through the metric names
 * of artilleryMetrics.ts into the collector's totals, then built by the same `buildSummary` as a
 * run of our own runner, so thresholds, verdict and report read it the same way.
 *
 * What such a run cannot give, and the summary says so in `runner.limitations`: exact percentiles
 * (Artillery merges DDSketches of 1 % relative accuracy, rounded to 0.1 ms), 1 s resolution (its
 * periods are 10 s), per-process CPU and memory of the workers, per-flow records (flows.jsonl),
 * phases and a circuit breaker.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { STEP_NAMES, type ErrorClass, type StepName } from '../flow.ts';
import type { CollectorTotals, ErrorCount } from '../metrics/collector.ts';
import { buildSummary, type ThresholdsInput } from '../metrics/summary.ts';
import type { MetricStep, Percentiles, RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { ARTILLERY_METRICS as M, parseArtilleryErrorCounter, parseErrorMetric, stepMetric } from './artilleryMetrics.ts';

const summarySchema = z.looseObject({
  min: z.number(),
  max: z.number(),
  count: z.number(),
  mean: z.number(),
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  p999: z.number().optional(),
});
const reportSchema = z.looseObject({
  counters: z.record(z.string(), z.number()).default({}),
  summaries: z.record(z.string(), summarySchema).default({}),
  firstMetricAt: z.number().optional(),
  lastMetricAt: z.number().optional(),
  firstCounterAt: z.number().optional(),
  lastCounterAt: z.number().optional(),
  period: z.union([z.number(), z.string()]).optional(),
});
const outputSchema = z.looseObject({ aggregate: reportSchema, intermediate: z.array(reportSchema) });

export type ArtilleryReport = z.infer<typeof reportSchema>;
export type ArtilleryOutput = z.infer<typeof outputSchema>;

/** Artillery's reporting period. */
export const ARTILLERY_PERIOD_MS = 10_000;

/** What a summary built from Artillery's output adds to `RunSummary`. */
export interface ArtilleryRunnerInfo {
  kind: 'artillery';
  /** The `--output` file read. */
  output: string;
  /** Workers that ran flows (each reports itself once), or null when the output does not say. */
  workers: number | null;
  periodS: number;
  periods: number;
  /** Virtual users that arrived before their worker was ready; their e2e includes the wait. */
  startupWaits: number;
  /** What this summary cannot say that a single-process run's does. */
  limitations: string[];
}

export type ArtilleryRunSummary = RunSummary & { runner: ArtilleryRunnerInfo };

export const ARTILLERY_LIMITATIONS: readonly string[] = [
  'Percentiles are estimates: Artillery merges DDSketches (1 % relative accuracy, rounded to 0.1 ms) across workers, where our runner keeps exact HDR histograms.',
  'The timeline has 10 s resolution (Artillery periods), where our runner samples every second.',
  'No per-process CPU or memory of the workers (remote ones especially): resources are empty and process thresholds (harness.*, stack.*, anvil.*) read n/a.',
  'No per-flow record (flows.jsonl) and no phases or circuit breaker: counts, latency and errors come from merged counters and histograms.',
];

/**
 * Reads Artillery's `--output` JSON; a `ConfigError` (exit 2) names what is wrong with it.
 *
 * @example
 * const output = parseArtilleryOutput(JSON.parse(await readFile('out.json', 'utf8')), 'out.json');
 */
export function parseArtilleryOutput(json: unknown, source: string): ArtilleryOutput {
  const result = outputSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`Not an Artillery --output report: ${source}`, {
      code: 'ARTILLERY_OUTPUT_INVALID',
      metaMessages: [`field: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`, 'expected: the JSON of `artillery run --output <file>` (aggregate and intermediate)'],
    });
  }
  if (counter(result.data.aggregate, M.flowsStarted) === 0 && counter(result.data.aggregate, M.flowsCompleted) === 0) {
    throw new ConfigError(`No vana flow in the Artillery report ${source}`, {
      code: 'ARTILLERY_OUTPUT_NO_FLOWS',
      metaMessages: [`expected: counters ${M.flowsStarted} and ${M.flowsCompleted} (written by artillery-engine-vana)`],
    });
  }
  return result.data;
}

export interface BuildArtillerySummaryParameters {
  output: ArtilleryOutput;
  /** Path of the output file, for the summary. */
  source: string;
  runId: string;
  milestone: string | null;
  thresholds?: ThresholdsInput;
}

/**
 * The run's summary and its timeline (one sample per Artillery period).
 *
 * @example
 * const { summary, samples } = buildArtillerySummary({ output, source: 'out.json', runId, milestone: null });
 */
export function buildArtillerySummary({ output, source, runId, milestone, thresholds = [] }: BuildArtillerySummaryParameters): {
  summary: ArtilleryRunSummary;
  samples: TimeseriesSample[];
} {
  const { aggregate } = output;
  const periods = output.intermediate
    .map((report) => ({ report, start: periodStart(report) }))
    .filter((p): p is { report: ArtilleryReport; start: number } => p.start !== undefined)
    .sort((a, b) => a.start - b.start);
  const firstPeriod = periods[0]?.start;
  // Counters mark flows (the first arrival, the last completion); histograms include the workers'
  // lag samples, which go on until each worker is done.
  const startedAt = aggregate.firstCounterAt ?? Math.min(aggregate.firstMetricAt ?? Infinity, firstPeriod ?? Infinity);
  const endedAt = aggregate.lastCounterAt ?? Math.max(aggregate.lastMetricAt ?? -Infinity, ...periods.map((p) => p.report.lastMetricAt ?? p.start));
  if (!Number.isFinite(startedAt) || !Number.isFinite(endedAt)) {
    throw new ConfigError(`The Artillery report ${source} has no timestamps (firstMetricAt, lastMetricAt, period)`, { code: 'ARTILLERY_OUTPUT_INVALID' });
  }

  const totals = totalsOf(aggregate);
  const samples = timelineOf(periods, firstPeriod ?? startedAt);
  const lag = aggregate.summaries[M.eventLoopLagMs];
  const planArrivals = counter(aggregate, M.planArrivals);
  const planDurationMs = aggregate.summaries[M.planDurationMs]?.max;
  const planS = planDurationMs !== undefined && planDurationMs > 0 ? planDurationMs / 1_000 : undefined;
  const targetRate = planS !== undefined && planArrivals > 0 ? planArrivals / planS : null;
  const workers = workersOf(aggregate);

  const built = buildSummary({
    totals,
    samples,
    runId,
    milestone,
    startedAt,
    endedAt,
    config: { artilleryOutput: source },
    environment: { chainId: workers.chainId, target: workers.target ?? 'local', loadModel: 'artillery' },
    targetRate: targetRate === null ? null : Math.round(targetRate * 1_000) / 1_000,
    achievedRate: planS !== undefined ? totals.counts.started / planS : null,
    thresholds,
  });
  // Only the workers' own lag sampler knows the lag: the samples carry one value per period.
  built.eventLoopLagMs = lag ? { mean: lag.mean, max: lag.max } : { mean: 0, max: 0 };
  const summary: ArtilleryRunSummary = {
    ...built,
    runner: {
      kind: 'artillery',
      output: source,
      workers: workers.count,
      periodS: ARTILLERY_PERIOD_MS / 1_000,
      periods: periods.length,
      startupWaits: counter(aggregate, M.startupWaits),
      limitations: [...ARTILLERY_LIMITATIONS],
    },
  };
  return { summary, samples };
}

function counter(report: ArtilleryReport, name: string): number {
  return report.counters[name] ?? 0;
}

function periodStart(report: ArtilleryReport): number | undefined {
  const period = Number(report.period);
  return Number.isFinite(period) ? period : report.firstMetricAt;
}

function percentiles(summary: z.infer<typeof summarySchema>): Percentiles {
  return {
    count: summary.count,
    min: summary.min,
    mean: summary.mean,
    p50: summary.p50,
    p90: summary.p90,
    p95: summary.p95,
    p99: summary.p99,
    p999: summary.p999 ?? summary.p99,
    max: summary.max,
  };
}

/** The collector's totals, from merged counters and histograms. */
function totalsOf(report: ArtilleryReport): CollectorTotals {
  const steps: Partial<Record<MetricStep, Percentiles>> = {};
  for (const step of STEP_NAMES) {
    const summary = report.summaries[stepMetric(step)];
    if (summary && summary.count > 0) steps[step] = percentiles(summary);
  }
  const e2e = report.summaries[M.e2e];
  if (e2e && e2e.count > 0) steps.e2e = percentiles(e2e);

  const examples = new Map<string, Array<{ code: string; count: number }>>();
  for (const [name, count] of Object.entries(report.counters)) {
    const parsed = parseArtilleryErrorCounter(name);
    if (!parsed || count === 0) continue;
    const key = `${parsed.step}.${parsed.errorClass}`;
    examples.set(key, [...(examples.get(key) ?? []), { code: parsed.code, count }]);
  }
  const errors: ErrorCount[] = [];
  const retriesByStep: Partial<Record<StepName, number>> = {};
  for (const [name, count] of Object.entries(report.counters)) {
    const parsed = parseErrorMetric(name);
    if (parsed && count > 0) {
      const codes = (examples.get(`${parsed.step}.${parsed.errorClass}`) ?? []).sort((a, b) => b.count - a.count);
      const example = codes.length > 0 ? `codes: ${codes.map((c) => `${c.code} ×${c.count}`).join(', ')} (Artillery keeps no messages)` : 'no example (Artillery keeps no messages)';
      errors.push({ step: parsed.step, errorClass: parsed.errorClass as ErrorClass, count, example });
    }
    if (name.startsWith(M.retryPrefix)) {
      const step = name.slice(M.retryPrefix.length) as StepName;
      if ((STEP_NAMES as readonly string[]).includes(step)) retriesByStep[step] = count;
    }
  }
  errors.sort((a, b) => b.count - a.count || `${a.step}.${a.errorClass}`.localeCompare(`${b.step}.${b.errorClass}`));

  const started = counter(report, M.flowsStarted);
  const completed = counter(report, M.flowsCompleted);
  return {
    counts: {
      started,
      completed,
      succeeded: counter(report, M.flowsSucceeded),
      failed: counter(report, M.flowsFailed),
      dropped: counter(report, M.skipped),
    },
    inFlight: Math.max(0, started - completed),
    steps,
    errors,
    uploads: { attempts: counter(report, M.uploadAttempts), successes: counter(report, M.uploadSuccesses) },
    transactions: { attempts: counter(report, M.txAttempts), successes: counter(report, M.txSuccesses) },
    retries: { total: Object.values(retriesByStep).reduce((a, b) => a + (b ?? 0), 0), byStep: retriesByStep },
    breaker: null,
    phases: [],
  };
}

/** One sample per period, at the period's end; cumulative counts as our sampler keeps them. */
function timelineOf(periods: ReadonlyArray<{ report: ArtilleryReport; start: number }>, firstStart: number): TimeseriesSample[] {
  const periodS = ARTILLERY_PERIOD_MS / 1_000;
  const cumulative = { started: 0, completed: 0, succeeded: 0, failed: 0, dropped: 0 };
  return periods.map(({ report, start }) => {
    const interval = {
      started: counter(report, M.flowsStarted),
      completed: counter(report, M.flowsCompleted),
      succeeded: counter(report, M.flowsSucceeded),
      failed: counter(report, M.flowsFailed),
      dropped: counter(report, M.skipped),
    };
    for (const key of Object.keys(cumulative) as Array<keyof typeof cumulative>) cumulative[key] += interval[key];
    const errors: Record<string, number> = {};
    for (const [name, count] of Object.entries(report.counters)) {
      const parsed = parseErrorMetric(name);
      if (parsed && count > 0) errors[`${parsed.step}.${parsed.errorClass}`] = count;
    }
    const e2e = report.summaries[M.e2e];
    const lag = report.summaries[M.eventLoopLagMs];
    const end = start + ARTILLERY_PERIOD_MS;
    return {
      t: end,
      elapsedS: (end - firstStart) / 1_000,
      ...cumulative,
      startedPerS: interval.started / periodS,
      completedPerS: interval.completed / periodS,
      failedPerS: interval.failed / periodS,
      inFlight: Math.max(0, cumulative.started - cumulative.completed),
      e2e: e2e && e2e.count > 0 ? { p50: e2e.p50, p95: e2e.p95, p99: e2e.p99 } : null,
      rollingE2eP95: null,
      errors,
      eventLoopLagMs: lag ? { mean: lag.mean, max: lag.max } : { mean: 0, max: 0 },
      processes: [],
    };
  });
}

/** Workers that reported (`vana.workers.target_<local|remote>`), their target and chain. */
function workersOf(report: ArtilleryReport): { count: number | null; target: 'local' | 'remote' | undefined; chainId: number | null } {
  const local = report.counters[`${M.workerPrefix}target_local`] ?? 0;
  const remote = report.counters[`${M.workerPrefix}target_remote`] ?? 0;
  const chains = Object.keys(report.counters)
    .filter((name) => name.startsWith(`${M.workerPrefix}chain_`))
    .map((name) => Number(name.slice(`${M.workerPrefix}chain_`.length)));
  return {
    count: local + remote > 0 ? local + remote : null,
    target: remote > 0 ? 'remote' : local > 0 ? 'local' : undefined,
    chainId: chains.length === 1 && Number.isSafeInteger(chains[0]) ? chains[0]! : null,
  };
}
