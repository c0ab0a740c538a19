/**
 * Our thresholds on an Artillery run: the milestone's defaults and `--threshold` flags, judged by
 * `vana-load report --from-artillery`, and, where Artillery's `ensure` can say the same thing, as
 * `ensure` conditions in the script `vana-load artillery init` writes (so `artillery run` itself
 * exits 1 on a breach). Per-process thresholds cannot be measured on Artillery workers: they read
 * n/a instead of failing, and the report says why.
 */
import { STEP_NAMES } from '../flow.ts';
import { mergeThresholds, parseThresholds, type Threshold } from '../metrics/thresholds.ts';
import { ARTILLERY_METRICS as M } from './artilleryMetrics.ts';

const PROCESS_PREFIXES = ['harness.', 'stack.', 'anvil.'];
export const NOT_MEASURED_ON_ARTILLERY = 'n/a (Artillery: no per-process resources)';

/**
 * A milestone's defaults (none without one) with the flags over them; per-process ones pass as n/a.
 *
 * @example
 * thresholdsForArtillery(MILESTONE_THRESHOLDS['ms-05'], ["e2e.p95<30s"]);
 */
export function thresholdsForArtillery(defaults: readonly Threshold[], flags: readonly string[]): Threshold[] {
  const merged = mergeThresholds(defaults, parseThresholds(flags, 'flag'));
  return merged.map((t) => (PROCESS_PREFIXES.some((prefix) => t.metric.startsWith(prefix)) ? { ...t, notMeasuredText: NOT_MEASURED_ON_ARTILLERY } : t));
}

/** One `config.ensure.conditions` entry. */
export interface EnsureCondition {
  expression: string;
  strict: true;
}

export interface EnsureOfThresholds {
  conditions: EnsureCondition[];
  /** Expressions only `vana-load report --from-artillery` can judge, with why. */
  reportOnly: Array<{ expression: string; why: string }>;
}

const STAT_AGGREGATION: Record<string, string> = { avg: 'mean', min: 'min', max: 'max', p50: 'p50', p90: 'p90', p95: 'p95', p99: 'p99', 'p99.9': 'p999', count: 'count' };

/**
 * Artillery `ensure` conditions for the thresholds Artillery's merged metrics can express
 * (latency statistics of e2e and steps, success and failure counts and ratios, worker event-loop
 * lag); the others are listed with the reason. Values are in our base units (ms, ratios, counts).
 *
 * @example
 * ensureOfThresholds(thresholdsForArtillery('ms-05', [])).conditions[0];
 * // { expression: 'vana.e2e.p95 <= 45000', strict: true }
 */
export function ensureOfThresholds(thresholds: readonly Threshold[]): EnsureOfThresholds {
  const conditions: EnsureCondition[] = [];
  const reportOnly: EnsureOfThresholds['reportOnly'] = [];
  for (const t of thresholds) {
    const left = ensureOperand(t.metric);
    if (typeof left === 'string') conditions.push({ expression: `${left} ${t.op} ${t.value}`, strict: true });
    else reportOnly.push({ expression: t.expression, why: left.why });
  }
  return { conditions, reportOnly };
}

function ensureOperand(metric: string): string | { why: string } {
  const dot = metric.indexOf('.');
  const [head, stat] = dot === -1 ? [metric, ''] : [metric.slice(0, dot), metric.slice(dot + 1)];
  if ((STEP_NAMES as readonly string[]).includes(head) || head === 'e2e') {
    const aggregation = STAT_AGGREGATION[stat];
    if (aggregation === undefined) return { why: `no Artillery aggregation for ${stat}` };
    return `${head === 'e2e' ? M.e2e : `${M.stepPrefix}${head}`}.${aggregation}`;
  }
  switch (metric) {
    case 'success_rate':
      // Artillery's check counts completed flows; the report also counts dropped arrivals as failures.
      return `${M.flowsSucceeded} / ${M.flowsCompleted}`;
    case 'failed_count':
      return M.flowsFailed;
    case 'tx_success_rate':
      return `${M.txSuccesses} / ${M.txAttempts}`;
    case 'upload_success_rate':
      return `${M.uploadSuccesses} / ${M.uploadAttempts}`;
    case 'event_loop_lag_max':
      return `${M.eventLoopLagMs}.max`;
    case 'flows_per_s':
    case 'achieved_rate':
      return { why: "Artillery's checks see no run duration" };
    case 'dropped_count':
    case 'dropped_rate':
      return { why: 'vusers.skipped exists only when an arrival was skipped' };
    case 'funding_latency_p95':
      return { why: 'the engine runs relay api only: no funding' };
  }
  if (PROCESS_PREFIXES.some((prefix) => metric.startsWith(prefix))) return { why: 'no per-process resources on Artillery workers' };
  return { why: 'not an Artillery metric' };
}
