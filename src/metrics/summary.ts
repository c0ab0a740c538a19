/**
 * `summary.json` of a run, built from the collector's totals and the samples: live at the end of a
 * run, and by the rebuild from the results files (rebuildSummary.ts, `vana-load report <dir>`),
 * which feeds the same collector, so both agree.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { CollectorTotals } from './collector.ts';
import { evaluateGeneratorHealth } from './generatorHealth.ts';
import type { HealthSettings } from './healthLimits.ts';
import { summarizeChain } from './summarizeChain.ts';
import type { ProcessResourceSummary, RunSummary, ThresholdVerdict, TimeseriesSample } from './types.ts';

export type SummaryWithoutVerdict = Omit<RunSummary, 'thresholds' | 'verdict'>;

/** Verdicts already evaluated, or the evaluator (src/metrics/thresholds.ts) to run on the summary. */
export type ThresholdsInput = readonly ThresholdVerdict[] | ((summary: SummaryWithoutVerdict) => ThresholdVerdict[]);

export interface BuildSummaryParameters {
  /** `collector.totals(endedAt)`. */
  totals: CollectorTotals;
  /** Every sample of the run, in order (about 0.5 kB each: 2 MB for an hour). */
  samples: readonly TimeseriesSample[];
  runId: string;
  milestone: string | null;
  startedAt: number;
  endedAt: number;
  interrupted?: boolean;
  /** Why the run stopped before its end, when its infrastructure failed (exit 3). */
  stopped?: RunSummary['stopped'];
  /** `configForDisplay(config)`: never the raw config. */
  config: Record<string, unknown>;
  /** `node`, `platform`, `cpus` and `vanaLoad` default to this process's. */
  environment: Pick<RunSummary['environment'], 'chainId' | 'target' | 'loadModel'> & Partial<RunSummary['environment']>;
  /** Defaults to the mean `targetRate` of the samples, null when they have none. */
  targetRate?: number | null;
  /**
   * Flows started per second of the arrival schedule, as the load model counted it (open models).
   * Default: started over the whole run, which includes the drain after the last arrival.
   */
  achievedRate?: number | null;
  /** Direct mode: wallets funded in the background and their latency; null when none were. */
  funding?: RunSummary['funding'];
  /** What the load model did against its plan (`LoadRunStats`). */
  scheduler?: RunSummary['scheduler'];
  /** What the chain timeline could not measure, and why (`summary.chain.notes`). */
  chainNotes?: readonly string[];
  thresholds?: ThresholdsInput;
  /**
   * Judge the load generator from the samples (generatorHealth.ts); an unhealthy one makes the
   * verdict `invalid`. Unset: no `generatorHealth` block (an Artillery run judges no harness of ours).
   */
  health?: HealthSettings;
}

/** This checkout's vana-load version, recorded in every new summary (`environment.vanaLoad`). */
export const VANA_LOAD_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

const round3 = (value: number): number => Math.round(value * 1_000) / 1_000;
export const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * Per-process CPU and memory over the run. RSS growth compares the mean of the last quarter of
 * the samples with the first quarter: the "memory is stable" figure.
 */
export function summarizeResources(
  samples: readonly TimeseriesSample[],
  { durationMs, completed }: { durationMs: number; completed: number },
): ProcessResourceSummary[] {
  const byName = new Map<string, { pid: number; cpu: number[]; rss: number[]; fdsPeak?: number }>();
  for (const sample of samples) {
    for (const { name, pid, cpuPercent, rssBytes, fds } of sample.processes) {
      let series = byName.get(name);
      if (!series) byName.set(name, (series = { pid, cpu: [], rss: [] }));
      series.pid = pid;
      series.cpu.push(cpuPercent);
      series.rss.push(rssBytes);
      if (fds !== undefined) series.fdsPeak = Math.max(series.fdsPeak ?? 0, fds);
    }
  }
  return [...byName].map(([name, { pid, cpu, rss, fdsPeak }]) => {
    const quarter = Math.max(1, Math.floor(rss.length / 4));
    const cpuAvg = mean(cpu);
    const summary: ProcessResourceSummary = {
      name,
      pid,
      cpuAvgPercent: round3(cpuAvg),
      cpuPeakPercent: round3(Math.max(...cpu)),
      rssAvgBytes: Math.round(mean(rss)),
      rssPeakBytes: Math.max(...rss),
      rssGrowthBytes: Math.round(mean(rss.slice(-quarter)) - mean(rss.slice(0, quarter))),
      cpuMsPerFlow: completed === 0 ? null : round3((cpuAvg * durationMs) / 100 / completed),
    };
    if (fdsPeak !== undefined) summary.fdsPeak = fdsPeak;
    return summary;
  });
}

/**
 * Builds a run's `summary.json`; `verdict` is `pass` when every threshold passes.
 *
 * @example
 * const summary = buildSummary({
 *   totals: collector.totals(endedAt), samples, runId, milestone: 'ms-03', startedAt, endedAt,
 *   config: configForDisplay(config), environment: { chainId: 31337, target: 'local', loadModel: 'closed' },
 *   thresholds: (summary) => evaluateThresholds(summary, thresholds),
 * });
 */
export function buildSummary({
  totals,
  samples,
  runId,
  milestone,
  startedAt,
  endedAt,
  interrupted = false,
  stopped,
  config,
  environment,
  targetRate,
  achievedRate,
  funding,
  scheduler,
  chainNotes,
  thresholds = [],
  health,
}: BuildSummaryParameters): RunSummary {
  const durationMs = Math.max(0, endedAt - startedAt);
  const durationS = durationMs / 1_000;
  const { counts } = totals;
  const sampledTargets = samples.flatMap((sample) => (sample.targetRate === undefined ? [] : [sample.targetRate]));
  const target = targetRate ?? (sampledTargets.length > 0 ? round3(mean(sampledTargets)) : null);
  const perSecond = (count: number): number => (durationS > 0 ? round3(count / durationS) : 0);
  const chain = summarizeChain({ samples, steps: totals.steps, ...(chainNotes ? { notes: chainNotes } : {}) });

  const summary: SummaryWithoutVerdict = {
    version: 1,
    runId,
    milestone,
    startedAt,
    endedAt,
    durationS: round3(durationS),
    interrupted,
    ...(stopped ? { stopped } : {}),
    config,
    environment: { node: process.version, platform: process.platform, cpus: availableParallelism(), vanaLoad: VANA_LOAD_VERSION, ...environment },
    counts: { ...counts },
    rates: {
      successRate: ratio(counts.succeeded, counts.completed + counts.dropped) ?? 0,
      txSuccessRate: ratio(totals.transactions.successes, totals.transactions.attempts),
      uploadSuccessRate: ratio(totals.uploads.successes, totals.uploads.attempts),
      flowsPerS: perSecond(counts.completed),
      targetRate: target,
      achievedRate: target === null ? null : achievedRate != null ? round3(achievedRate) : perSecond(counts.started),
    },
    steps: totals.steps,
    errors: totals.errors,
    resources: summarizeResources(samples, { durationMs, completed: counts.completed }),
    eventLoopLagMs: {
      mean: round3(mean(samples.map((sample) => sample.eventLoopLagMs.mean))),
      max: samples.reduce((max, sample) => Math.max(max, sample.eventLoopLagMs.max), 0),
    },
    retries: totals.retries,
    breaker: totals.breaker,
    phases: totals.phases,
    ...(funding !== undefined ? { funding } : {}),
    ...(scheduler !== undefined ? { scheduler } : {}),
    ...(chain !== undefined ? { chain } : {}),
    ...(health !== undefined ? { generatorHealth: evaluateGeneratorHealth({ samples, settings: health, ...(scheduler ? { droppedBy: scheduler.droppedBy } : {}) }) } : {}),
  };
  const verdicts = typeof thresholds === 'function' ? thresholds(summary) : [...thresholds];
  // A generator that fell behind measured itself: the thresholds are not judged. A run its
  // infrastructure stopped is never a pass, whatever the figures until then say.
  const verdict = summary.generatorHealth?.status === 'invalid' ? 'invalid' : !stopped && verdicts.every((v) => v.pass) ? 'pass' : 'fail';
  return { ...summary, thresholds: verdicts, verdict };
}
