/**
 * The on-disk formats of a run (`results/<run-id>/`): one `TimeseriesSample` per line of
 * `timeseries.jsonl`, one `FlowResult` (src/client/types.ts) per line of `flows.jsonl`, and
 * `summary.json` as a `RunSummary`. The HTML report, `vana-load report` and the terminal read these.
 * All durations are milliseconds; all timestamps are epoch milliseconds.
 */
import type { ErrorClass, StepName } from '../flow.ts';

/** A step name, or `e2e` for the whole flow. */
export type MetricStep = StepName | 'e2e';

import type { BreakerState } from '../load/circuitBreaker.ts';
import type { ChainRunSummary, ChainSample, PersonalServerQueueSample, RelayersSample } from './chainTypes.ts';
import type { HealthCheckName, HealthLimits } from './healthLimits.ts';
import type { LagDistribution } from './lagDistribution.ts';

export interface ProcessSample {
  /** `harness`, `stack` (the stack's node process) or `anvil`. */
  name: string;
  pid: number;
  cpuPercent: number;
  rssBytes: number;
  /** Open file descriptors, when the platform tells. */
  fds?: number;
  /** The harness only: V8 heap in use, which tells a leak from memory the allocator keeps. */
  heapUsedBytes?: number;
  /** The harness only: V8 heap reserved (`heapTotal`); what the heap costs in RSS, used or not. */
  heapTotalBytes?: number;
  /** The harness only: memory of C++ objects bound to JS objects (Buffers, sockets), `process.memoryUsage().external`. */
  externalBytes?: number;
  /** The harness only: ArrayBuffers and Buffers (part of `externalBytes`). */
  arrayBuffersBytes?: number;
}

/** The load generator's own figures over one interval (generatorProbe.ts); generatorHealth.ts judges them. */
export interface GeneratorSample {
  /** Harness CPU time over the interval / its wall time, percent of one core (every thread of the process). */
  cpuPercent: number;
  /** Lag of the harness's 10 ms event-loop timer over the interval. */
  eventLoopLag: LagDistribution;
  /** Lag of the flow starts due in the interval against their plan; absent when none started. */
  schedulerLag?: LagDistribution;
  /** Soft limit of open files (`ulimit -n`) of the harness, Linux only; its open fds are in `processes`. */
  fdLimit?: number;
  /** The machine's 1-minute load average at the sample (`os.loadavg()`; 0 on Windows). */
  loadAvg1?: number;
  /** CPUs the process may use (`os.availableParallelism()`). */
  cpus?: number;
}

export interface TimeseriesSample {
  t: number;
  elapsedS: number;
  /** Cumulative counts since the run began. */
  started: number;
  completed: number;
  succeeded: number;
  failed: number;
  dropped: number;
  /** Per-second rates over the last interval. */
  startedPerS: number;
  completedPerS: number;
  failedPerS: number;
  inFlight: number;
  /** e2e percentiles of flows that finished in the last interval, or null when none did. */
  e2e: { p50: number; p95: number; p99: number } | null;
  /** Rolling p95 of e2e over the last 30 s, or null. */
  rollingE2eP95: number | null;
  /** Failures in the last interval, keyed `<step>.<errorClass>`. */
  errors: Record<string, number>;
  eventLoopLagMs: { mean: number; max: number };
  processes: ProcessSample[];
  /** Open load models only. */
  targetRate?: number;
  schedulerLagMs?: number;
  breaker?: BreakerState;
  phase?: string;
  /** Cumulative step retries by step, so `summary.json` can be rebuilt from this file. */
  retriesByStep?: Partial<Record<StepName, number>>;
  /** Cumulative circuit-breaker transitions, when the load model has a breaker. */
  breakerTransitions?: { opened: number; halfOpened: number; closed: number };
  /** Names of sampled processes that have exited (they are no longer in `processes`). */
  missingProcesses?: string[];
  /** The chain's blocks in the interval and the flows' accept/inclusion p95 (chainTypes.ts); absent in runs before the timeline. */
  chain?: ChainSample;
  /** Our relayers' pending transactions and nonce gaps, when they are known. */
  relayers?: RelayersSample;
  /** The personal server's work in progress, where it tells. */
  personalServer?: PersonalServerQueueSample;
  /** The harness judging itself; absent in files written before generator health was measured. */
  generator?: GeneratorSample;
}

export interface Percentiles {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface ProcessResourceSummary {
  name: string;
  pid: number;
  cpuAvgPercent: number;
  cpuPeakPercent: number;
  rssAvgBytes: number;
  rssPeakBytes: number;
  /** RSS growth from the first to the last quarter of the run, in bytes: the "memory stable" check. */
  rssGrowthBytes: number;
  fdsPeak?: number;
  /** CPU milliseconds spent during the run divided by flows completed. */
  cpuMsPerFlow: number | null;
}

export interface ThresholdVerdict {
  /** As given, e.g. `e2e.p95<120s`. */
  expression: string;
  metric: string;
  /** The measured value in the metric's base unit (ms, ratio, bytes, percent), null if not measured. */
  actual: number | null;
  /** Human rendering of the measured value, e.g. `1.42s`, `96.0%`. */
  actualText: string;
  pass: boolean;
  /** Where the default came from (`MS-03 README`) or `flag`. */
  source: string;
}

export interface PhaseSummary {
  name: string;
  startedAt: number;
  endedAt: number;
  started: number;
  succeeded: number;
  failed: number;
  dropped: number;
  e2e: Percentiles | null;
}

export interface RunSummary {
  version: 1;
  runId: string;
  milestone: string | null;
  startedAt: number;
  endedAt: number;
  durationS: number;
  /** True when the run ended on SIGINT/SIGTERM/crash rather than completing. */
  interrupted: boolean;
  /** Set when the run's infrastructure failed and stopped it (exit 3): what failed, as the error said. */
  stopped?: { code: string; message: string };
  /** The config as displayed: secrets replaced by `<redacted>`. */
  config: Record<string, unknown>;
  environment: {
    node: string;
    platform: string;
    cpus: number;
    chainId: number | null;
    target: 'local' | 'remote';
    loadModel: string;
    /**
     * The run's seed: `--seed` / `VANA_SEED`, or the one a poisson model drew. With `--seed`, the
     * same seed gives the same arrivals and the same synthetic data per flow.
     */
    seed?: number;
    /** vana-load's version (package.json) that ran; absent in summaries written before 0.1.0 recorded it. */
    vanaLoad?: string;
    /** The load model as run, kind and parameters (`{ kind: 'closed', users: 10, iterations: 1 }`); absent in older summaries. */
    loadModelParams?: Record<string, unknown>;
  };
  counts: { started: number; completed: number; succeeded: number; failed: number; dropped: number };
  rates: {
    /** succeeded / completed (dropped arrivals count as failures for open models). */
    successRate: number;
    /** Flows whose transaction was confirmed / flows that reached `relay`. */
    txSuccessRate: number | null;
    /** Successful uploads / upload attempts (data + grant). */
    uploadSuccessRate: number | null;
    /** Completed flows per second over the run. */
    flowsPerS: number;
    targetRate: number | null;
    achievedRate: number | null;
  };
  steps: Partial<Record<MetricStep, Percentiles>>;
  errors: Array<{ step: StepName; errorClass: ErrorClass; count: number; example: string }>;
  resources: ProcessResourceSummary[];
  eventLoopLagMs: { mean: number; max: number };
  retries: { total: number; byStep: Partial<Record<StepName, number>> };
  breaker: { opened: number; halfOpened: number; closed: number; finalState: BreakerState } | null;
  phases: PhaseSummary[];
  thresholds: ThresholdVerdict[];
  /**
   * `invalid`: the load generator fell behind (generatorHealth), so the run measured the harness,
   * not the system, and is not judged by its thresholds; it beats `pass` and `fail`.
   */
  verdict: 'pass' | 'fail' | 'invalid';
  /** Was the load generator healthy enough for the figures to describe the system? Absent in older summaries. */
  generatorHealth?: GeneratorHealth;
  /** Direct mode: wallets funded by the background worker and request → funded latency; null in relayed mode. */
  funding?: { funded: number; latencyMs: Percentiles | null } | null;
  /** What the load model did against its plan (open models: target vs achieved rate, lag). */
  scheduler?: {
    targetRate: number | null;
    achievedRate: number | null;
    arrivalRate: number | null;
    lagMs: { mean: number; max: number };
    peakInFlight: number;
    droppedBy: Record<string, number>;
    abortedAfterDrain: number;
  };
  /** The chain-aware timeline over the run and whether the chain was the bottleneck; absent when the chain was not sampled. */
  chain?: ChainRunSummary;
}

/** One span of the run, in seconds since it began, in which a health check was over its limit. */
export interface HealthWindow {
  fromS: number;
  toS: number;
  /** The worst value of the check in the span, in the check's unit. */
  value: number;
}

export interface HealthCheck {
  name: HealthCheckName;
  /** Over the run, in `unit`; null when not measured (e.g. no flow started on a timer). */
  value: number | null;
  valueText: string;
  limit: number;
  limitText: string;
  unit: 'ms' | 'percent';
  /** Within its limit, or not judged (see `note`). */
  ok: boolean;
  /** Where the check was over its limit; empty when it is ok. */
  windows: HealthWindow[];
  /** Why a measured value is not judged: a p99 of too few values (a short run, few flow starts). */
  note?: string;
}

/**
 * The generator's health over the run: each check against its limit, and `status` `invalid`
 * when any is over (and the check is on). Arrivals not started are attributed: the harness drops
 * none for reasons of its own (a late arrival starts late, measured as scheduler lag); the
 * in-flight cap and the breaker drop them because of the system.
 */
export interface GeneratorHealth {
  /** `not_judged`: `--health-check false`, the figures are shown but decide nothing. */
  status: 'ok' | 'invalid' | 'not_judged';
  /** One sentence per violated check, with where it happened. */
  reasons: string[];
  checks: HealthCheck[];
  limits: HealthLimits;
  /** Seconds the harness CPU check averages over. */
  cpuWindowS: number;
  dropped: {
    /** For reasons of the harness's own. */
    byHarness: number;
    /** Because of the system under test, by reason (`max_in_flight`, `circuit_open`). */
    bySystem: Record<string, number>;
    /** Of all drops, those inside a span where a check was over its limit. */
    inUnhealthyWindows: number;
  };
  /**
   * Why the lag or CPU checks went over, from the harness's CPU and the machine's load in those
   * spans: the harness saturated its core, other processes starved it, or neither. Absent when no
   * lag or CPU check went over, or the files recorded no CPU figures.
   */
  diagnosis?: string;
}
