/**
 * Did the load generator keep up? A load test whose harness fell behind measures the harness, not
 * the system. From the samples of a run (live, or read back from `timeseries.jsonl` by
 * `vana-load report`, with the same result) this judges the harness against its limits
 * (healthLimits.ts): scheduler lag p99 and max, event-loop lag p99 and max, harness CPU over a
 * 10 s window, open files against `ulimit -n`; each with its value, limit, verdict and the spans
 * of the run where it was over. Any check over its limit makes the run INVALID.
 */
import type { DropReason } from '../load/types.ts';
import { formatDuration } from '../util/format.ts';
import {
  HEALTH_CHECK_NAMES,
  HEALTH_CPU_WINDOW_S,
  HEALTH_P99_MIN_RUN_S,
  HEALTH_P99_MIN_STARTS,
  type HealthCheckName,
  type HealthLimits,
  type HealthSettings,
} from './healthLimits.ts';
import { lagCount, lagQuantile, mergeLagDistributions, type LagDistribution } from './lagDistribution.ts';
import type { GeneratorHealth, HealthCheck, HealthWindow, TimeseriesSample } from './types.ts';

/**
 * Whose doing a dropped arrival is. The in-flight cap fills when flows take long (rate × latency),
 * the breaker opens when they fail: both are the system's answer, as long as the harness is healthy
 * (when it is not, the run is INVALID by the other checks and its drops prove nothing). The
 * harness has no drop reason of its own: a late arrival is started late and counted as scheduler
 * lag. A new reason must be placed here (the type says so).
 */
export const DROP_REASON_OWNER: Readonly<Record<DropReason, 'harness' | 'system'>> = { max_in_flight: 'system', circuit_open: 'system' };

const CHECKS: Record<HealthCheckName, { label: string; unit: 'ms' | 'percent'; limit: (l: HealthLimits) => number }> = {
  'scheduler_lag.p99': { label: 'scheduler lag p99', unit: 'ms', limit: (l) => l.schedulerLagP99Ms },
  'scheduler_lag.max': { label: 'scheduler lag max', unit: 'ms', limit: (l) => l.schedulerLagMaxMs },
  'event_loop_lag.p99': { label: 'event-loop lag p99', unit: 'ms', limit: (l) => l.eventLoopLagP99Ms },
  'event_loop_lag.max': { label: 'event-loop lag max', unit: 'ms', limit: (l) => l.eventLoopLagMaxMs },
  harness_cpu: { label: `harness CPU (${HEALTH_CPU_WINDOW_S} s average)`, unit: 'percent', limit: (l) => l.harnessCpuPercent },
  harness_fds: { label: 'harness open files (of ulimit -n)', unit: 'percent', limit: (l) => l.harnessFdsPercent },
};

/** How a check is named in sentences: `event-loop lag p99`. */
export const healthCheckLabel = (name: HealthCheckName): string => CHECKS[name].label;

const round3 = (value: number): number => Math.round(value * 1_000) / 1_000;
const formatHealthValue = (unit: 'ms' | 'percent', value: number): string => (unit === 'ms' ? formatDuration(value) : `${value.toFixed(1)}%`);

/** `1:05` for 65 s since the run began. */
export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The figures of one sample's interval that a check compares, in the check's unit (harness CPU apart: it needs a window). */
function intervalFigures(sample: TimeseriesSample): Record<Exclude<HealthCheckName, 'harness_cpu'>, number | null> {
  const g = sample.generator;
  const harness = sample.processes.find((p) => p.name === 'harness');
  return {
    'scheduler_lag.p99': g?.schedulerLag ? lagQuantile(g.schedulerLag, 0.99) : null,
    'scheduler_lag.max': g?.schedulerLag ? g.schedulerLag.max : null,
    'event_loop_lag.p99': g ? lagQuantile(g.eventLoopLag, 0.99) : null,
    // Exact, and recorded by every version of the sampler.
    'event_loop_lag.max': sample.eventLoopLagMs.max,
    harness_fds: g?.fdLimit !== undefined && harness?.fds !== undefined ? round3((harness.fds / g.fdLimit) * 100) : null,
  };
}

interface CpuSpan {
  fromS: number;
  toS: number;
  cpu: number | undefined;
}

/** Time-weighted mean CPU of `spans[from..to]`; undefined when none has a figure. */
function meanCpu(spans: readonly CpuSpan[], from: number, to: number): number | undefined {
  let weighted = 0;
  let seconds = 0;
  for (let j = from; j <= to; j++) {
    const { fromS, toS, cpu } = spans[j]!;
    if (cpu === undefined) continue;
    // The last sample of a run covers a short interval: it weighs as little.
    const length = Math.max(toS - fromS, 1e-3);
    weighted += cpu * length;
    seconds += length;
  }
  return seconds > 0 ? round3(weighted / seconds) : undefined;
}

const cpuSpans = (samples: readonly TimeseriesSample[]): CpuSpan[] =>
  samples.map((s, i) => ({ fromS: i === 0 ? 0 : samples[i - 1]!.elapsedS, toS: s.elapsedS, cpu: s.generator?.cpuPercent }));

/**
 * Harness CPU averaged (time-weighted) over every `windowS` of the run, one window ending at each
 * sample from `windowS` on; a run shorter than that is one window.
 */
function cpuWindows(samples: readonly TimeseriesSample[], windowS: number): HealthWindow[] {
  const spans = cpuSpans(samples);
  const last = spans.length - 1;
  if (last < 0) return [];
  if (spans[last]!.toS < windowS) {
    const value = meanCpu(spans, 0, last);
    return value === undefined ? [] : [{ fromS: 0, toS: spans[last]!.toS, value }];
  }
  const windows: HealthWindow[] = [];
  let start = 0;
  for (let i = 0; i <= last; i++) {
    const toS = spans[i]!.toS;
    if (toS < windowS) continue;
    while (start < i && spans[start]!.fromS < toS - windowS - 1e-9) start++;
    const value = meanCpu(spans, start, i);
    if (value !== undefined) windows.push({ fromS: round3(toS - windowS), toS, value });
  }
  return windows;
}

/** Overlapping or touching spans as one, with the worst value. */
function mergeWindows(windows: readonly HealthWindow[]): HealthWindow[] {
  const merged: HealthWindow[] = [];
  for (const w of [...windows].sort((a, b) => a.fromS - b.fromS)) {
    const last = merged.at(-1);
    if (last && w.fromS <= last.toS + 1e-6) {
      last.toS = Math.max(last.toS, w.toS);
      last.value = Math.max(last.value, w.value);
    } else merged.push({ ...w });
  }
  return merged;
}

export interface EvaluateGeneratorHealthParameters {
  samples: readonly TimeseriesSample[];
  settings: HealthSettings;
  /** Arrivals not started, by reason, as the load model counted them (`summary.scheduler.droppedBy`). */
  droppedBy?: Readonly<Record<string, number>>;
}

/** Spans listed in a reason before "and N more". */
const LISTED_WINDOWS = 3;

/** What a p99 needs to be more than the max, besides its values. */
interface RunExtent {
  /** Seconds the samples cover. */
  runS: number;
  /** Timer-driven flow starts measured. */
  starts: number;
}

/**
 * Whether a measured value is judged. A p99 of few values is their max: the scheduler-lag p99 is
 * judged over at least `HEALTH_P99_MIN_STARTS` starts, the event-loop-lag p99 over runs of at
 * least `HEALTH_P99_MIN_RUN_S` (a shorter run's lag is a burst, such as a closed model's users
 * all encrypting at once: the max judges it). Undefined when judged, else why not.
 */
function notJudged(name: HealthCheckName, { runS, starts }: RunExtent): string | undefined {
  if (name === 'scheduler_lag.p99' && starts < HEALTH_P99_MIN_STARTS) return `${starts} starts: a p99 needs ${HEALTH_P99_MIN_STARTS}; the max judges them`;
  if (name === 'event_loop_lag.p99' && runS < HEALTH_P99_MIN_RUN_S) return `a ${Math.round(runS)} s run: a burst the max judges (a p99 needs ${HEALTH_P99_MIN_RUN_S} s)`;
  return undefined;
}

/**
 * Judges the generator over a run's samples. Pure: the same samples and settings give the same
 * result, live or rebuilt.
 *
 * @example
 * const health = evaluateGeneratorHealth({ samples, settings: DEFAULT_HEALTH_SETTINGS, droppedBy: stats.droppedBy });
 * health.status; // 'invalid'
 * health.reasons; // ['event-loop lag p99 820ms over the 500ms limit at 0:02–0:09']
 */
export function evaluateGeneratorHealth({ samples, settings, droppedBy }: EvaluateGeneratorHealthParameters): GeneratorHealth {
  const { limits } = settings;
  const figures = samples.map(intervalFigures);
  const spanOf = (i: number): { fromS: number; toS: number } => ({ fromS: i === 0 ? 0 : samples[i - 1]!.elapsedS, toS: samples[i]!.elapsedS });
  const cpu = cpuWindows(samples, HEALTH_CPU_WINDOW_S);

  const schedulerLag = mergeLagDistributions(samples.map((s) => s.generator?.schedulerLag));
  const eventLoopLag = mergeLagDistributions(samples.map((s) => s.generator?.eventLoopLag));
  const maxOf = (values: ReadonlyArray<number | null>): number | null => values.reduce<number | null>((max, v) => (v === null ? max : Math.max(max ?? v, v)), null);
  const runValues: Record<HealthCheckName, number | null> = {
    'scheduler_lag.p99': schedulerLag ? lagQuantile(schedulerLag, 0.99) : null,
    'scheduler_lag.max': schedulerLag ? schedulerLag.max : null,
    'event_loop_lag.p99': eventLoopLag ? lagQuantile(eventLoopLag, 0.99) : null,
    'event_loop_lag.max': samples.length > 0 ? maxOf(figures.map((f) => f['event_loop_lag.max'])) : null,
    harness_cpu: maxOf(cpu.map((w) => w.value)),
    harness_fds: maxOf(figures.map((f) => f.harness_fds)),
  };

  const extent: RunExtent = { runS: samples.at(-1)?.elapsedS ?? 0, starts: schedulerLag ? lagCount(schedulerLag) : 0 };
  const checks: HealthCheck[] = HEALTH_CHECK_NAMES.map((name) => {
    const { unit, limit: limitOf } = CHECKS[name];
    const limit = limitOf(limits);
    const value = runValues[name];
    const note = value === null ? undefined : notJudged(name, extent);
    const ok = value === null || note !== undefined || value <= limit;
    let windows: HealthWindow[] = [];
    if (!ok) {
      const over =
        name === 'harness_cpu'
          ? cpu.filter((w) => w.value > limit)
          : figures.flatMap((f, i) => {
              const v = f[name];
              return v !== null && v > limit ? [{ ...spanOf(i), value: v }] : [];
            });
      windows = mergeWindows(over);
    }
    return {
      name,
      value,
      valueText: value === null ? 'not measured' : formatHealthValue(unit, value),
      limit,
      limitText: formatHealthValue(unit, limit),
      unit,
      ok,
      windows,
      ...(note !== undefined ? { note } : {}),
    };
  });

  const violated = checks.filter((c) => !c.ok);
  const reasons = violated.map((c) => {
    const spans = c.windows.slice(0, LISTED_WINDOWS).map((w) => `${formatElapsed(w.fromS)}–${formatElapsed(w.toS)}`);
    const more = c.windows.length > LISTED_WINDOWS ? ` and ${c.windows.length - LISTED_WINDOWS} more` : '';
    return `${CHECKS[c.name].label} ${c.valueText} over the ${c.limitText} limit${spans.length > 0 ? ` at ${spans.join(', ')}${more}` : ''}`;
  });

  const unhealthy = violated.flatMap((c) => c.windows);
  let inUnhealthyWindows = 0;
  samples.forEach((sample, i) => {
    const dropped = sample.dropped - (i === 0 ? 0 : samples[i - 1]!.dropped);
    if (dropped <= 0) return;
    const { fromS, toS } = spanOf(i);
    if (unhealthy.some((w) => w.fromS < toS && fromS < w.toS)) inUnhealthyWindows += dropped;
  });
  const bySystem: Record<string, number> = {};
  let byHarness = 0;
  const totalDropped = samples.at(-1)?.dropped ?? 0;
  if (droppedBy === undefined) {
    // No per-reason counts (a crash before summary.json): every reason there is belongs to the system.
    if (totalDropped > 0) bySystem.unrecorded = totalDropped;
  } else {
    for (const [reason, count] of Object.entries(droppedBy)) {
      if ((DROP_REASON_OWNER[reason as DropReason] ?? 'system') === 'harness') byHarness += count;
      else bySystem[reason] = count;
    }
  }

  const diagnosis = diagnose(samples, violated.filter((c) => c.name !== 'harness_fds').flatMap((c) => c.windows));
  return {
    status: !settings.enabled ? 'not_judged' : violated.length > 0 ? 'invalid' : 'ok',
    reasons,
    checks,
    limits: { ...limits },
    cpuWindowS: HEALTH_CPU_WINDOW_S,
    dropped: { byHarness, bySystem, inUnhealthyWindows },
    ...(diagnosis !== undefined ? { diagnosis } : {}),
  };
}

/**
 * Harness CPU (of one core) from which a lagging harness is taken to have saturated its own core:
 * its event loop runs on one, and the rest of the process (GC, I/O threads) needs some room.
 */
export const HEALTH_SATURATED_CPU_PERCENT = 70;

/**
 * Why the harness was over its lag or CPU limits in `windows`: its mean CPU there against
 * `HEALTH_SATURATED_CPU_PERCENT`, and the machine's load average against its CPUs. A harness
 * that lags while using little CPU on a machine with more runnable processes than CPUs was starved
 * by them (its CPU share, not its work, was the limit).
 */
function diagnose(samples: readonly TimeseriesSample[], windows: readonly HealthWindow[]): string | undefined {
  if (windows.length === 0) return undefined;
  const spans = cpuSpans(samples);
  const inside = spans.flatMap((span, i) => (windows.some((w) => w.fromS < span.toS && span.fromS < w.toS) ? [i] : []));
  const cpu = meanCpu(inside.map((i) => spans[i]!), 0, inside.length - 1);
  if (cpu === undefined) return undefined;
  const cpuText = `${Math.round(cpu)}% of a core`;
  const loads = inside.flatMap((i) => {
    const g = samples[i]!.generator;
    return g?.loadAvg1 !== undefined && g.cpus !== undefined ? [{ load: g.loadAvg1, cpus: g.cpus }] : [];
  });
  const busiest = loads.reduce<{ load: number; cpus: number } | undefined>((worst, l) => (worst === undefined || l.load / l.cpus > worst.load / worst.cpus ? l : worst), undefined);
  const machine = busiest === undefined ? '' : ` (load average up to ${busiest.load.toFixed(1)} on ${busiest.cpus} CPUs)`;
  if (cpu >= HEALTH_SATURATED_CPU_PERCENT) {
    return `the harness saturated its core: ${cpuText} where it was over${machine}; lower the rate or the users, or split the load over more harness processes`;
  }
  if (busiest !== undefined && busiest.load > busiest.cpus) {
    return `the machine was oversubscribed${machine} while the harness used ${cpuText} where it was over: other processes starved it of CPU; run it where it has a core to itself`;
  }
  if (busiest === undefined) {
    return `the harness used ${cpuText} where it was over, short of its core: other processes starved it, or long synchronous work held its event loop (the machine's load was not recorded)`;
  }
  return `the harness used ${cpuText} where it was over, and the machine was not oversubscribed${machine}: long synchronous work held its event loop, or the process was paused`;
}

/** Live health (the Prometheus gauges): the checks over the run so far, as the run's verdict would judge them now. */
export interface HealthMonitor {
  observe(sample: TimeseriesSample): { healthy: boolean; checks: Record<HealthCheckName, { value: number | null; ok: boolean }> };
}

/**
 * Judges the run so far, one sample at a time, in constant work per sample: after the last
 * sample its checks are those of `evaluateGeneratorHealth` over the run.
 *
 * @example
 * const monitor = createHealthMonitor(DEFAULT_HEALTH_LIMITS);
 * const { healthy } = monitor.observe(sample);
 */
export function createHealthMonitor(limits: HealthLimits): HealthMonitor {
  let schedulerLag: LagDistribution | undefined;
  let eventLoopLag: LagDistribution | undefined;
  const worst: Partial<Record<'event_loop_lag.max' | 'harness_fds' | 'fullCpuWindow', number>> = {};
  const recent: CpuSpan[] = [];
  let lastS = 0;
  const raise = (name: keyof typeof worst, value: number | null | undefined): void => {
    if (value !== null && value !== undefined) worst[name] = Math.max(worst[name] ?? value, value);
  };
  return {
    observe(sample) {
      const figures = intervalFigures(sample);
      schedulerLag = mergeLagDistributions([schedulerLag, sample.generator?.schedulerLag]);
      eventLoopLag = mergeLagDistributions([eventLoopLag, sample.generator?.eventLoopLag]);
      raise('event_loop_lag.max', figures['event_loop_lag.max']);
      raise('harness_fds', figures.harness_fds);
      recent.push({ fromS: lastS, toS: sample.elapsedS, cpu: sample.generator?.cpuPercent });
      lastS = sample.elapsedS;
      while (recent.length > 1 && recent[0]!.fromS < sample.elapsedS - HEALTH_CPU_WINDOW_S - 1e-9) recent.shift();
      // As cpuWindows: a window ends at each sample from 10 s on; until then the run so far is the one window.
      const cpuMean = meanCpu(recent, 0, recent.length - 1);
      if (sample.elapsedS >= HEALTH_CPU_WINDOW_S) raise('fullCpuWindow', cpuMean);
      const harnessCpu = sample.elapsedS >= HEALTH_CPU_WINDOW_S ? (worst.fullCpuWindow ?? null) : (cpuMean ?? null);
      const values: Record<HealthCheckName, number | null> = {
        'scheduler_lag.p99': schedulerLag ? lagQuantile(schedulerLag, 0.99) : null,
        'scheduler_lag.max': schedulerLag ? schedulerLag.max : null,
        'event_loop_lag.p99': eventLoopLag ? lagQuantile(eventLoopLag, 0.99) : null,
        'event_loop_lag.max': worst['event_loop_lag.max'] ?? null,
        harness_cpu: harnessCpu,
        harness_fds: worst.harness_fds ?? null,
      };
      const extent: RunExtent = { runS: sample.elapsedS, starts: schedulerLag ? lagCount(schedulerLag) : 0 };
      const checks = Object.fromEntries(
        HEALTH_CHECK_NAMES.map((name) => {
          const value = values[name];
          return [name, { value, ok: value === null || notJudged(name, extent) !== undefined || value <= CHECKS[name].limit(limits) }];
        }),
      ) as Record<HealthCheckName, { value: number | null; ok: boolean }>;
      return { healthy: Object.values(checks).every((c) => c.ok), checks };
    },
  };
}
