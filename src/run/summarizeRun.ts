/**
 * The summary of a live run, from everything it measured: the collector's totals, the samples, the
 * load model's own statistics (scheduler, seed), funding, and how it ended. Built once.
 */
import { configForDisplay } from '../config/configForDisplay.ts';
import { loadAsRun } from '../load/loadAsRun.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import type { LoadModel, LoadRunStats } from '../load/types.ts';
import type { MetricsCollector } from '../metrics/collector.ts';
import { buildSummary } from '../metrics/summary.ts';
import type { HealthSettings } from '../metrics/healthLimits.ts';
import { evaluateThresholds, type Threshold } from '../metrics/thresholds.ts';
import type { RunSummary, TimeseriesSample } from '../metrics/types.ts';
import type { FlowEnvironment } from './flowEnvironment.ts';
import type { InterruptCause } from './interruption.ts';
import type { RunFunding } from './runFunding.ts';

export interface SummarizeRunParameters {
  config: Readonly<VanaLoadConfig>;
  model: LoadModel;
  milestone: string | null;
  runId: string;
  collector: MetricsCollector;
  samples: readonly TimeseriesSample[];
  stats: LoadRunStats;
  env: Pick<FlowEnvironment, 'chainId' | 'target'>;
  funding: RunFunding | undefined;
  cause: InterruptCause | undefined;
  thresholds: readonly Threshold[];
  /** What the chain timeline could not measure, and why. */
  chainNotes?: readonly string[];
  startedAt: number;
  endedAt: number;
}

/**
 * @example
 * const summary = summarizeRun({ config, model, milestone: 'ms-03', runId, collector, samples, stats, env, funding, cause, thresholds, startedAt, endedAt });
 */
export function summarizeRun(p: SummarizeRunParameters): RunSummary {
  const { stats } = p;
  const stopped = p.cause?.kind === 'infrastructure' ? p.cause.error : undefined;
  // --seed, or the seed a poisson model drew without one (it reproduces the arrivals, not the data).
  const seed = stats.seed ?? p.config.load.seed;
  return buildSummary({
    totals: p.collector.totals(p.endedAt),
    samples: p.samples,
    runId: p.runId,
    milestone: p.milestone ? p.milestone.toUpperCase() : null,
    startedAt: p.startedAt,
    endedAt: p.endedAt,
    interrupted: p.cause !== undefined,
    ...(stopped ? { stopped: { code: stopped.code, message: stopped.shortMessage } } : {}),
    // The load as run, not the config's load group: a milestone's model uses some of its fields only.
    config: { ...(configForDisplay(p.config) as unknown as Record<string, unknown>), load: loadAsRun(p.model, seed) },
    environment: { chainId: p.env.chainId, target: p.env.target, loadModel: p.model.kind, loadModelParams: { ...p.model }, ...(seed !== undefined ? { seed } : {}) },
    targetRate: stats.targetRate,
    achievedRate: stats.achievedRate,
    funding: p.funding ? p.funding.summary() : null,
    scheduler: {
      targetRate: stats.targetRate,
      achievedRate: stats.achievedRate,
      arrivalRate: stats.arrivalRate,
      lagMs: { mean: stats.schedulerLagMs.mean, max: stats.schedulerLagMs.max },
      peakInFlight: stats.peakInFlight,
      droppedBy: stats.droppedBy,
      abortedAfterDrain: stats.abortedAfterDrain,
    },
    ...(p.chainNotes !== undefined ? { chainNotes: p.chainNotes } : {}),
    thresholds: (subject) => evaluateThresholds(p.thresholds, subject),
    health: healthSettingsOf(p.config),
  });
}

/**
 * The generator-health settings of a run's config (`--health-check`, `--max-*`).
 *
 * @example
 * healthSettingsOf(config); // { enabled: true, limits: { schedulerLagP99Ms: 500, ... } }
 */
export function healthSettingsOf(config: Readonly<VanaLoadConfig>): HealthSettings {
  const { check, ...limits } = config.health;
  return { enabled: check, limits: { ...limits } };
}
