/**
 * The limits a run's load generator (the harness process) is held to, and their defaults. The
 * config table (src/config/schema.ts) takes its defaults from here, so `--help`, `.env.example`
 * and a rebuild of a run with no `summary.json` agree. Why these values: README "Generator health".
 */

/** The generator-health checks, named as `summary.json` and the reports name them. */
export const HEALTH_CHECK_NAMES = [
  'scheduler_lag.p99',
  'scheduler_lag.max',
  'event_loop_lag.p99',
  'event_loop_lag.max',
  'harness_cpu',
  'harness_fds',
] as const;
export type HealthCheckName = (typeof HEALTH_CHECK_NAMES)[number];

export interface HealthLimits {
  /** Flows started late against their plan (the load model's scheduler), 99th percentile, ms. */
  schedulerLagP99Ms: number;
  /** ... and the latest one, ms. */
  schedulerLagMaxMs: number;
  /** How late the harness's 10 ms timer fires, 99th percentile over the ticks, ms. */
  eventLoopLagP99Ms: number;
  /** ... and the longest stall, ms. */
  eventLoopLagMaxMs: number;
  /** Harness CPU time / wall time over any `HEALTH_CPU_WINDOW_S`, percent of one core. */
  harnessCpuPercent: number;
  /** Open file descriptors (sockets included) of the harness, percent of its soft limit (ulimit -n). */
  harnessFdsPercent: number;
}

/** The limits of a run, and whether a breach makes it INVALID (`--health-check false`: figures only). */
export interface HealthSettings {
  enabled: boolean;
  limits: HealthLimits;
}

export const DEFAULT_HEALTH_LIMITS: Readonly<HealthLimits> = Object.freeze({
  schedulerLagP99Ms: 500,
  schedulerLagMaxMs: 3_000,
  eventLoopLagP99Ms: 500,
  eventLoopLagMaxMs: 3_000,
  harnessCpuPercent: 90,
  harnessFdsPercent: 80,
});

export const DEFAULT_HEALTH_SETTINGS: Readonly<HealthSettings> = Object.freeze({ enabled: true, limits: DEFAULT_HEALTH_LIMITS });

/**
 * Seconds the harness CPU is averaged over: a generator that is saturated stays saturated, while
 * a closed model's users all encrypting in their first second is a burst the lag checks judge.
 */
export const HEALTH_CPU_WINDOW_S = 10;

/** A p99 of fewer values is their max: below this many flow starts, the scheduler-lag max judges them alone. */
export const HEALTH_P99_MIN_STARTS = 100;

/**
 * A run shorter than this is a burst (a closed model's users all encrypting in their first
 * second): its event-loop lag is judged by the max alone, since the few ticks of a stalled loop
 * make the p99 the stall itself.
 */
export const HEALTH_P99_MIN_RUN_S = 10;
