/**
 * `--max-regression` rules of `vana-load compare` and their verdicts.
 *
 * Grammar: `<metric>:<sign><amount><unit>`, e.g. `e2e.p95:+10%`, `relay.p99:+50ms`,
 * `success_rate:-1%`, `throughput:-5%`.
 * - metric: `<step>.<stat>` with step one of the flow steps or `e2e` and stat `p50 p90 p95 p99
 *   p99.9 avg` (the thresholds' names); `success_rate`, `tx_success_rate`, `upload_success_rate`,
 *   `dropped_rate`; `flows_per_s` (alias `throughput`). Other threshold metrics (min, max, count,
 *   CPU, memory) are one figure per run, with no samples to test a difference on, and are refused.
 * - sign: the direction that is worse, and it must be that one: `+` for latencies and
 *   `dropped_rate` (higher is worse), `-` for success rates and throughput (lower is worse).
 * - amount and unit: latencies `%` of the baseline's value, or `ms`, `s`, `m`; rates of 0..1
 *   (success and dropped rates) `%` or `pp`, both in percentage points (`success_rate:-1%` = one
 *   point lower); throughput `%` of the baseline's, or `/s`, `/m`.
 *
 * A metric regressed when the candidate is worse than the baseline by more than the amount AND
 * the difference is significant at alpha (p < alpha, two-sided). Equal to the amount is within it.
 */
import { ConfigError } from '../errors.ts';
import { STEP_NAMES } from '../flow.ts';
import type { MetricStep } from '../metrics/types.ts';
import type { RunComparison } from './compare.ts';
import { LATENCY_STATS, type DifferenceEstimate, type LatencyStat } from './compareStats.ts';

export type RegressionMetricKind = 'latency' | 'ratio' | 'rate';

export interface MaxRegression {
  /** As given (trimmed). */
  expression: string;
  /** Canonical: `e2e.p95`, `success_rate`, `flows_per_s`. */
  metric: string;
  kind: RegressionMetricKind;
  /** `up`: higher is worse. */
  worse: 'up' | 'down';
  /** Allowed worsening: a share of the baseline's value, or an amount in the metric's unit (ms, ratio, flows/s). */
  tolerance: { relative: number } | { absolute: number };
  /** Worsening always allowed, whatever the tolerance says (default gate: a few ms on a sub-ms step is no regression). */
  floor?: number;
}

const RATIO_METRICS = {
  success_rate: 'successRate',
  tx_success_rate: 'txSuccessRate',
  upload_success_rate: 'uploadSuccessRate',
  dropped_rate: 'droppedRate',
} as const satisfies Record<string, keyof RunComparison>;
const ALIASES: Record<string, string> = { throughput: 'flows_per_s' };
const STEPS: readonly string[] = [...STEP_NAMES, 'e2e'];

export const MAX_REGRESSION_HELP =
  `expected <metric>:<+|-><amount><unit>, e.g. e2e.p95:+10%, relay.p99:+50ms, success_rate:-1%; ` +
  `metrics: <step>.<${LATENCY_STATS.join('|')}> (+, unit % ms s m; step: ${STEPS.join(' ')}), ` +
  `${Object.keys(RATIO_METRICS).join(' ')} (- or + for dropped_rate, unit % or pp = points), flows_per_s or throughput (-, unit % /s /m)`;

const UNITS: Record<RegressionMetricKind, Map<string, { relative: boolean; factor: number }>> = {
  latency: new Map([['%', { relative: true, factor: 0.01 }], ['ms', { relative: false, factor: 1 }], ['s', { relative: false, factor: 1_000 }], ['m', { relative: false, factor: 60_000 }]]),
  ratio: new Map([['%', { relative: false, factor: 0.01 }], ['pp', { relative: false, factor: 0.01 }]]),
  rate: new Map([['%', { relative: true, factor: 0.01 }], ['/s', { relative: false, factor: 1 }], ['/m', { relative: false, factor: 1 / 60 }]]),
};

function resolve(name: string): { metric: string; kind: RegressionMetricKind; worse: 'up' | 'down' } | string {
  // Names come from users: `constructor` must not find Object.prototype.
  const metric = Object.hasOwn(ALIASES, name) ? ALIASES[name]! : name;
  if (metric === 'flows_per_s') return { metric, kind: 'rate', worse: 'down' };
  if (Object.hasOwn(RATIO_METRICS, metric)) return { metric, kind: 'ratio', worse: metric === 'dropped_rate' ? 'up' : 'down' };
  const dot = metric.indexOf('.');
  const [step, stat] = dot === -1 ? [metric, ''] : [metric.slice(0, dot), metric.slice(dot + 1)];
  if (!STEPS.includes(step)) return `unknown metric '${name}'`;
  if (!(LATENCY_STATS as readonly string[]).includes(stat)) {
    return stat === '' ? `'${step}' needs a stat` : `'${metric}' cannot be judged (one figure per run, no samples to test), or is unknown`;
  }
  return { metric, kind: 'latency', worse: 'up' };
}

/**
 * Parses one `--max-regression` expression. Throws a `ConfigError` (exit 2) whose one-line message
 * says what is wrong and what is accepted.
 *
 * @example
 * parseMaxRegression('e2e.p95:+10%'); // { metric: 'e2e.p95', kind: 'latency', worse: 'up', tolerance: { relative: 0.1 } }
 */
export function parseMaxRegression(expression: string): MaxRegression {
  const expr = expression.trim();
  const fail = (problem: string): never => {
    throw new ConfigError(`bad --max-regression '${expr}': ${problem}; ${MAX_REGRESSION_HELP}`, { code: 'MAX_REGRESSION_INVALID' });
  };
  const match = /^([^:\s]+)\s*:\s*([+-]?)\s*(\d+(?:\.\d+)?|\.\d+)?\s*(\S*)$/.exec(expr);
  if (!match) return fail(expr.includes(':') ? 'malformed' : "no ':' between metric and amount");
  const [, name = '', sign, amount, unit = ''] = match;
  const resolved = resolve(name);
  if (typeof resolved === 'string') return fail(resolved);
  const worseSign = resolved.worse === 'up' ? '+' : '-';
  if (sign === '') return fail(`missing sign: a regression of ${resolved.metric} is ${worseSign}<amount>`);
  if (sign !== worseSign) return fail(`a regression of ${resolved.metric} is ${resolved.worse === 'up' ? 'an increase' : 'a decrease'}: write ${worseSign}${amount ?? ''}${unit}`);
  if (amount === undefined) return fail('missing amount after the sign');
  const spec = UNITS[resolved.kind].get(unit);
  if (spec === undefined) return fail(`unit '${unit}' does not fit ${resolved.metric} (units: ${[...UNITS[resolved.kind].keys()].join(' ')})`);
  const value = Number(amount) * spec.factor;
  return { expression: expr, ...resolved, tolerance: spec.relative ? { relative: value } : { absolute: value } };
}

export interface RegressionVerdict {
  rule: MaxRegression;
  /** The level `significant` was judged at: compare's alpha, or alpha ÷ rules under the default gate. */
  alpha: number;
  /** Null when a run has too few samples for the metric. */
  estimate: DifferenceEstimate | null;
  /** How much worse the candidate is (positive = worse), in the metric's unit. */
  worsening: number | null;
  beyondTolerance: boolean;
  significant: boolean;
  regressed: boolean;
}

/** The estimate a rule's metric reads from a comparison, or null when it was not measured in both runs. */
export function estimateOf(comparison: RunComparison, metric: string): DifferenceEstimate | null {
  if (metric === 'flows_per_s') return comparison.throughput;
  if (Object.hasOwn(RATIO_METRICS, metric)) return comparison[RATIO_METRICS[metric as keyof typeof RATIO_METRICS]];
  const dot = metric.indexOf('.');
  const step = comparison.steps.find((s) => s.step === (metric.slice(0, dot) as MetricStep));
  return step?.stats?.[metric.slice(dot + 1) as LatencyStat] ?? null;
}

/**
 * Judges each rule against the comparison: regressed = beyond the tolerance and p < alpha.
 *
 * @example
 * judgeRegressions(comparison, [parseMaxRegression('e2e.p95:+10%')]).some((v) => v.regressed);
 */
export function judgeRegressions(comparison: RunComparison, rules: readonly MaxRegression[], alpha: number = comparison.alpha): RegressionVerdict[] {
  return rules.map((rule) => {
    const estimate = estimateOf(comparison, rule.metric);
    if (estimate === null) return { rule, alpha, estimate, worsening: null, beyondTolerance: false, significant: false, regressed: false };
    const worsening = rule.worse === 'up' ? estimate.difference : -estimate.difference;
    const allowed = Math.max(rule.floor ?? 0, 'relative' in rule.tolerance ? rule.tolerance.relative * Math.abs(estimate.baseline) : rule.tolerance.absolute);
    // A hair of float noise (0.1 s as 100.00000000000001 ms) must not tip a tie into a regression.
    const beyondTolerance = worsening > allowed + 1e-9 * Math.max(1, Math.abs(allowed));
    const significant = estimate.pValue < alpha;
    return { rule, alpha, estimate, worsening, beyondTolerance, significant, regressed: beyondTolerance && significant };
  });
}

/** Latency worsening the default gate always allows: below this a step's p95 moves with the machine, not the system. */
export const DEFAULT_GATE_FLOOR_MS = 25;

/**
 * The rules `compare` judges when none is given: e2e and every step's p95 at +10% (at least
 * {@link DEFAULT_GATE_FLOOR_MS} ms), success rate −1 point, dropped rate +1 point. Being many, they
 * are judged at alpha ÷ their number (Bonferroni), so that two runs of one system flag one of them
 * by chance at most alpha of the time.
 */
export const DEFAULT_REGRESSION_RULES: readonly MaxRegression[] = Object.freeze([
  ...['e2e', ...STEP_NAMES].map((step) => ({ ...parseMaxRegression(`${step}.p95:+10%`), floor: DEFAULT_GATE_FLOOR_MS })),
  parseMaxRegression('success_rate:-1%'),
  parseMaxRegression('dropped_rate:+1%'),
]);

/** One line saying what the default gate checks, for the terminal and compare.html. */
export function describeDefaultGate(alpha: number): string {
  const n = DEFAULT_REGRESSION_RULES.length;
  return `default gate (no --max-regression given): e2e and every step's p95 +10% (at least ${DEFAULT_GATE_FLOOR_MS} ms), success_rate -1pp, dropped_rate +1pp; ${n} rules, each at p < ${alpha} ÷ ${n} = ${Number((alpha / n).toPrecision(2))} (Bonferroni)`;
}
