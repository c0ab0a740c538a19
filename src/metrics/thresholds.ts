/**
 * k6-style pass/fail thresholds (ARCHITECTURE.md 7): `<metric><op><value>`, e.g. `e2e.p95<120s`,
 * `success_rate>=90%`, `harness.rss_peak<1GB`. Each milestone has defaults taken from its README;
 * `--threshold` overrides a default with the same metric or adds a new one. Evaluation is a pure
 * function of the run summary.
 *
 * Units: durations `ms|s|m` (bare number = ms); ratios `0.9` or `90%`; sizes `B|KB|MB|GB`,
 * 1024-based (1MB = 1_048_576 bytes, like the config's sizes; bare number = bytes); CPU as a
 * percent of one core (`80%`, may exceed 100% on several cores); rates in flows per second
 * (`2.5`, `2.5/s`, or `150/m`).
 */
import { ConfigError } from '../errors.ts';
import { STEP_NAMES } from '../flow.ts';
import type { MetricStep, Percentiles, RunSummary, ThresholdVerdict } from './types.ts';
import { formatBytes, formatDuration } from '../util/format.ts';

export const THRESHOLD_OPS = ['<', '<=', '>', '>=', '=='] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

export interface Threshold {
  /** As given (trimmed), e.g. `e2e.p95<120s`. */
  expression: string;
  /** Canonical metric name, e.g. `e2e.p95`, `flows_per_s` (for `throughput`). */
  metric: string;
  op: ThresholdOp;
  /** In the metric's base unit: ms, ratio (0..1), bytes, CPU percent, flows/s or a count. */
  value: number;
  /** `MS-03 README`, `flag`, ... */
  source: string;
  /** When set, "not measured" passes with this text instead of failing (e.g. funding in relayed mode). */
  notMeasuredText?: string;
}

/**
 * What thresholds are evaluated against: the summary before its verdicts exist. Only the funding
 * latency is needed of `funding` (direct-mode runs that fund wallets in the background).
 */
export type ThresholdSubject = Omit<RunSummary, 'thresholds' | 'verdict' | 'funding'> & {
  funding?: { latencyMs: Percentiles | null } | null;
};

type ValueKind = 'duration' | 'count' | 'ratio' | 'cpu' | 'bytes' | 'rate';

interface MetricSpec {
  kind: ValueKind;
  read(subject: ThresholdSubject): number | null | undefined;
}

const UNITS: Record<ValueKind, string> = {
  duration: 'ms, s, m (bare number = ms), e.g. 120s',
  count: 'a plain number, e.g. 0',
  ratio: 'a ratio 0..1 or a percent, e.g. 0.9 or 90%',
  cpu: 'a percent of one core, e.g. 80%',
  bytes: 'B, KB, MB, GB (1024-based; bare number = bytes), e.g. 300MB',
  rate: 'flows per second, e.g. 2.5, 2.5/s or 150/m',
};

const STEP_STATS: Record<string, { kind: ValueKind; key: keyof Percentiles }> = {
  avg: { kind: 'duration', key: 'mean' },
  min: { kind: 'duration', key: 'min' },
  max: { kind: 'duration', key: 'max' },
  p50: { kind: 'duration', key: 'p50' },
  p90: { kind: 'duration', key: 'p90' },
  p95: { kind: 'duration', key: 'p95' },
  p99: { kind: 'duration', key: 'p99' },
  'p99.9': { kind: 'duration', key: 'p999' },
  count: { kind: 'count', key: 'count' },
};

const PROCESSES = ['harness', 'stack', 'anvil'] as const;

const PROCESS_STATS: Record<string, { kind: ValueKind; read(p: ThresholdSubject['resources'][number]): number | null }> = {
  rss_peak: { kind: 'bytes', read: (p) => p.rssPeakBytes },
  rss_growth: { kind: 'bytes', read: (p) => p.rssGrowthBytes },
  cpu_avg: { kind: 'cpu', read: (p) => p.cpuAvgPercent },
  cpu_peak: { kind: 'cpu', read: (p) => p.cpuPeakPercent },
  cpu_ms_per_flow: { kind: 'duration', read: (p) => p.cpuMsPerFlow },
};

const PLAIN_METRICS: Record<string, MetricSpec> = {
  success_rate: { kind: 'ratio', read: (s) => s.rates.successRate },
  tx_success_rate: { kind: 'ratio', read: (s) => s.rates.txSuccessRate },
  upload_success_rate: { kind: 'ratio', read: (s) => s.rates.uploadSuccessRate },
  flows_per_s: { kind: 'rate', read: (s) => s.rates.flowsPerS },
  achieved_rate: { kind: 'rate', read: (s) => s.rates.achievedRate },
  dropped_count: { kind: 'count', read: (s) => s.counts.dropped },
  failed_count: { kind: 'count', read: (s) => s.counts.failed },
  // Dropped arrivals never start, so the arrivals are started + dropped.
  dropped_rate: {
    kind: 'ratio',
    read: (s) => (s.counts.started + s.counts.dropped === 0 ? null : s.counts.dropped / (s.counts.started + s.counts.dropped)),
  },
  event_loop_lag_max: { kind: 'duration', read: (s) => s.eventLoopLagMs.max },
  funding_latency_p95: { kind: 'duration', read: (s) => s.funding?.latencyMs?.p95 },
};

const ALIASES: Record<string, string> = { throughput: 'flows_per_s' };

const METRIC_HELP =
  `<step>.<stat> (step: ${[...STEP_NAMES, 'e2e'].join(', ')}; stat: ${Object.keys(STEP_STATS).join(', ')}), ` +
  `<process>.<stat> (process: ${PROCESSES.join(', ')}; stat: ${Object.keys(PROCESS_STATS).join(', ')}), ` +
  `${Object.keys(PLAIN_METRICS).join(', ')}, throughput`;

// Names come from users: `constructor` must not find Object.prototype.
const own = <T>(record: Record<string, T>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

const badStat = (stat: string, head: string): string =>
  stat === '' ? `'${head}' needs a stat: ${head}.<stat>` : `unknown stat '${stat}' for ${head}`;

type Resolved = { metric: string; spec: MetricSpec } | { problem: string };

function resolveMetric(name: string): Resolved {
  const plain = own(ALIASES, name) ?? name;
  const spec = own(PLAIN_METRICS, plain);
  if (spec) return { metric: plain, spec };
  const dot = name.indexOf('.');
  const [head, stat] = dot === -1 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
  if ((STEP_NAMES as readonly string[]).includes(head) || head === 'e2e') {
    const step = head as MetricStep;
    const s = own(STEP_STATS, stat);
    if (!s) return { problem: `${badStat(stat, step)}; valid stats: ${Object.keys(STEP_STATS).join(', ')}` };
    return { metric: name, spec: { kind: s.kind, read: (subject) => subject.steps[step]?.[s.key] } };
  }
  if ((PROCESSES as readonly string[]).includes(head)) {
    const s = own(PROCESS_STATS, stat);
    if (!s) return { problem: `${badStat(stat, head)}; valid stats: ${Object.keys(PROCESS_STATS).join(', ')}` };
    return {
      metric: name,
      spec: {
        kind: s.kind,
        read: (subject) => {
          const p = subject.resources.find((r) => r.name === head);
          return p ? s.read(p) : null;
        },
      },
    };
  }
  return { problem: `unknown metric '${name}'; valid metrics: ${METRIC_HELP}` };
}

const NUMBER = String.raw`\d+(?:\.\d+)?|\.\d+`;
// Maps, not object literals: a unit such as `constructor` must not find Object.prototype.
const DURATION_FACTORS = new Map([['', 1], ['ms', 1], ['s', 1_000], ['m', 60_000]]);
const BYTE_FACTORS = new Map([['', 1], ['B', 1], ['KB', 1024], ['MB', 1024 ** 2], ['GB', 1024 ** 3]]);
const RATE_FACTORS = new Map([['', 1], ['/s', 1], ['/m', 1 / 60]]);

/** Parses `value` for a metric of `kind` into the base unit, or returns what is wrong with it. */
function parseValue(raw: string, kind: ValueKind): number | string {
  const match = new RegExp(`^(${NUMBER})\\s*(\\S*)$`).exec(raw);
  if (!match) return `value '${raw}' is not a non-negative number; expected ${UNITS[kind]}`;
  const n = Number(match[1]);
  const unit = match[2] ?? '';
  const badUnit = (valid: string): string => `unknown unit '${unit}'; valid units: ${valid}`;
  switch (kind) {
    case 'duration': {
      const factor = DURATION_FACTORS.get(unit);
      if (factor === undefined) return badUnit(UNITS.duration);
      // 1.1 * 1000 is 1100.0000000000002; a nanosecond is far below any latency we measure.
      return Math.round(n * factor * 1e6) / 1e6;
    }
    case 'bytes': {
      const factor = BYTE_FACTORS.get(unit.toUpperCase());
      if (factor === undefined) return badUnit(UNITS.bytes);
      return Math.round(n * factor);
    }
    case 'ratio':
      if (unit === '%') return n <= 100 ? n / 100 : `percent ${raw} is above 100%`;
      if (unit !== '') return badUnit(UNITS.ratio);
      return n <= 1 ? n : `ratio ${raw} is above 1; for a percent write ${raw}%`;
    case 'cpu':
      return unit === '%' ? n : `expected ${UNITS.cpu}, got '${raw}'`;
    case 'rate': {
      const factor = RATE_FACTORS.get(unit);
      if (factor === undefined) return badUnit(UNITS.rate);
      return n * factor;
    }
    case 'count':
      return unit === '' ? n : `unknown unit '${unit}'; expected ${UNITS.count}`;
  }
}

/**
 * Parses one threshold expression. Throws a `ConfigError` (exit code 2) naming the problem and
 * the valid choices.
 *
 * @example
 * parseThreshold('e2e.p95<120s', 'flag') // { metric: 'e2e.p95', op: '<', value: 120_000, ... }
 */
export function parseThreshold(expression: string, source: string): Threshold {
  const expr = expression.trim();
  const fail = (problem: string): never => {
    throw new ConfigError(`bad threshold '${expr}': ${problem}`, { code: 'THRESHOLD_INVALID', metaMessages: [`source: ${source}`] });
  };
  const example = 'expected <metric><op><value>, e.g. e2e.p95<120s';
  const match = /^([^<>=!\s]*)\s*([<>=!]*)\s*(.*)$/.exec(expr);
  const [, name = '', op = '', rawValue = ''] = match ?? [];
  if (expr === '') return fail(`empty expression; ${example}`);
  if (op === '') return fail(`no operator; ${example} (operators: ${THRESHOLD_OPS.join(' ')})`);
  if (!(THRESHOLD_OPS as readonly string[]).includes(op)) return fail(`operator '${op}' is not one of ${THRESHOLD_OPS.join(' ')}`);
  if (name === '') return fail(`missing metric before '${op}'; ${example}`);
  if (rawValue === '') return fail(`missing value after '${op}'; ${example}`);
  const resolved = resolveMetric(name);
  if ('problem' in resolved) return fail(resolved.problem);
  const value = parseValue(rawValue, resolved.spec.kind);
  if (typeof value === 'string') return fail(`${resolved.metric}: ${value}`);
  return { expression: expr, metric: resolved.metric, op: op as ThresholdOp, value, source };
}

/** Parses several expressions (e.g. repeated `--threshold` flags); throws on the first bad one. */
export function parseThresholds(expressions: readonly string[], source: string): Threshold[] {
  return expressions.map((expression) => parseThreshold(expression, source));
}

/**
 * Overrides replace every default with the same metric, in the default's place; overrides of new
 * metrics are appended. Several overrides of one metric are all kept (`e2e.p95>1s` and `e2e.p95<9s`).
 */
export function mergeThresholds(defaults: readonly Threshold[], overrides: readonly Threshold[]): Threshold[] {
  const overridden = new Set(overrides.map((t) => t.metric));
  const merged: Threshold[] = [];
  const placed = new Set<string>();
  for (const d of defaults) {
    if (!overridden.has(d.metric)) merged.push(d);
    else if (!placed.has(d.metric)) {
      placed.add(d.metric);
      merged.push(...overrides.filter((o) => o.metric === d.metric));
    }
  }
  merged.push(...overrides.filter((o) => !placed.has(o.metric)));
  return merged;
}

/** Whether `actual <op> value` holds. */
export function compare(actual: number, op: ThresholdOp, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
  }
}

/**
 * Checks each threshold against the run. A metric the run did not measure fails with
 * `not measured`, unless the threshold carries `notMeasuredText` (then it passes with that text).
 */
export function evaluateThresholds(thresholds: readonly Threshold[], subject: ThresholdSubject): ThresholdVerdict[] {
  return thresholds.map((t) => {
    const resolved = resolveMetric(t.metric);
    const raw = 'spec' in resolved ? resolved.spec.read(subject) : null;
    const actual = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
    const base = { expression: t.expression, metric: t.metric, actual, source: t.source };
    if (actual === null) {
      return t.notMeasuredText === undefined
        ? { ...base, actualText: 'not measured', pass: false }
        : { ...base, actualText: t.notMeasuredText, pass: true };
    }
    return { ...base, actualText: formatValue(t.metric, actual), pass: compare(actual, t.op, t.value) };
  });
}

/**
 * Renders a value of `metric` (in its base unit) for humans: `1.42s`, `96.0%`, `212 MB`,
 * `2.53/s`, `34%` (CPU), `12` (counts).
 */
export function formatValue(metric: string, value: number): string {
  const resolved = resolveMetric(metric);
  if ('problem' in resolved) return String(value);
  switch (resolved.spec.kind) {
    case 'duration':
      return formatDuration(value);
    case 'bytes':
      return formatBytes(value);
    case 'ratio':
      return `${(value * 100).toFixed(1)}%`;
    case 'cpu':
      return `${value < 10 ? value.toFixed(1) : Math.round(value)}%`;
    case 'rate':
      return `${value.toFixed(2)}/s`;
    case 'count':
      return String(value);
  }
}
