/**
 * The metrics collector: every started, finished and dropped flow goes through it, and it keeps
 * only counters and HDR histograms, so its memory stays flat however many flows a run has.
 * The sampler reads it once per interval (`snapshotInterval`), the summary builder at the end
 * (`totals`).
 *
 * Latency is recorded for what succeeded: `e2e` for successful flows, a step for the runs of it
 * that completed. A failure is counted by step and error class instead, so a fast-failing flow
 * cannot make latency look better and a timeout cannot make it look worse.
 */
import { ERROR_CLASSES, STEP_NAMES, type ErrorClass, type StepName } from '../flow.ts';
import type { FlowResult } from '../flow.ts';
import { LatencyHistogram, assertDurationMs } from './latencyHistogram.ts';
import type { BreakerState } from '../load/circuitBreaker.ts';
import type { MetricStep, Percentiles, PhaseSummary, RunSummary, TimeseriesSample } from './types.ts';

export type FlowCounts = RunSummary['counts'];
export type BreakerTransitions = NonNullable<TimeseriesSample['breakerTransitions']>;

/** What happened since the previous snapshot, plus the cumulative figures at `at`. */
export interface IntervalSnapshot {
  at: number;
  /** Milliseconds since the previous snapshot (or since the collector was created). */
  intervalMs: number;
  /** Cumulative since the collector was created. */
  counts: FlowCounts;
  /** In this interval only. */
  interval: FlowCounts;
  inFlight: number;
  /** e2e percentiles of the flows that succeeded in this interval, or null when none did. */
  e2e: { p50: number; p95: number; p99: number } | null;
  /** p95 of e2e over the rolling window (flows by `endedAt`), or null when none. */
  rollingE2eP95: number | null;
  /** Failures in this interval, keyed `<step>.<errorClass>`. */
  errors: Record<string, number>;
  /** Null until the load model reports a breaker. */
  breaker: BreakerState | null;
  breakerTransitions: BreakerTransitions | null;
  phase: string | null;
  /** Cumulative. */
  retriesByStep: Partial<Record<StepName, number>>;
}

export interface SuccessCount {
  attempts: number;
  successes: number;
}

export interface ErrorCount {
  step: StepName;
  errorClass: ErrorClass;
  count: number;
  /** The message of the first such failure. */
  example: string;
}

/** Everything `buildSummary` needs from the collector. */
export interface CollectorTotals {
  counts: FlowCounts;
  inFlight: number;
  steps: Partial<Record<MetricStep, Percentiles>>;
  /** Most frequent first. */
  errors: ErrorCount[];
  /** `upload_data` and `upload_grant` together. */
  uploads: SuccessCount;
  /** Reached `relay` / got past `confirm`. */
  transactions: SuccessCount;
  retries: { total: number; byStep: Partial<Record<StepName, number>> };
  breaker: (BreakerTransitions & { finalState: BreakerState }) | null;
  phases: PhaseSummary[];
}

export interface MetricsCollector {
  /** A flow began; `phase` defaults to the phase the flow was scheduled in. */
  flowStarted(flowId: number, scheduledAt: number, phase?: string): void;
  flowFinished(result: FlowResult): void;
  /** An arrival of an open model was not started because the in-flight cap was reached. */
  flowDropped(scheduledAt: number, phase?: string): void;
  /** A step is being retried (called once per retry). */
  stepRetried(step: StepName): void;
  breakerChanged(state: BreakerState): void;
  /** A load-model phase begins now (or `at`); the previous one ends there. */
  phaseStarted(name: string, at?: number): void;
  readonly inFlight: number;
  snapshotInterval(at?: number): IntervalSnapshot;
  /** The run's totals; a phase still open ends at `endedAt`. */
  totals(endedAt?: number): CollectorTotals;
}

export interface CreateMetricsCollectorParameters {
  /** Epoch-ms clock; injectable for tests. */
  now?: () => number;
  /** Window of `rollingE2eP95`. */
  rollingWindowMs?: number;
}

interface PhaseState extends Omit<PhaseSummary, 'e2e'> {
  announced: boolean;
  open: boolean;
  e2e: LatencyHistogram;
}

const ROLLING_BUCKET_MS = 1_000;
const zeroCounts = (): FlowCounts => ({ started: 0, completed: 0, succeeded: 0, failed: 0, dropped: 0 });

/**
 * Creates an empty collector.
 *
 * @example
 * const collector = createMetricsCollector();
 * collector.flowStarted(0, Date.now());
 * collector.flowFinished(result);
 * collector.totals().steps.e2e?.p95;
 */
export function createMetricsCollector({
  now = Date.now,
  rollingWindowMs = 30_000,
}: CreateMetricsCollectorParameters = {}): MetricsCollector {
  if (!(rollingWindowMs >= ROLLING_BUCKET_MS)) {
    throw new RangeError(`Expected rollingWindowMs >= ${ROLLING_BUCKET_MS}, got ${rollingWindowMs}`);
  }
  const counts = zeroCounts();
  let interval = zeroCounts();
  let intervalErrors = new Map<string, number>();
  let lastSnapshotAt = now();

  const steps = new Map<MetricStep, LatencyHistogram>();
  const errors = new Map<string, ErrorCount>();
  const uploads: SuccessCount = { attempts: 0, successes: 0 };
  const transactions: SuccessCount = { attempts: 0, successes: 0 };
  const retriesByStep: Partial<Record<StepName, number>> = {};
  let retriesTotal = 0;
  let breaker: BreakerState | null = null;
  const transitions: BreakerTransitions = { opened: 0, halfOpened: 0, closed: 0 };
  const phases: PhaseState[] = [];

  const intervalE2e = new LatencyHistogram();
  // Rolling window: one histogram per second of `endedAt`, reused round-robin.
  const rollingBuckets = Array.from({ length: Math.ceil(rollingWindowMs / ROLLING_BUCKET_MS) }, () => ({
    second: -Infinity,
    histogram: new LatencyHistogram(),
  }));
  const rollingScratch = new LatencyHistogram();

  const stepHistogram = (step: MetricStep): LatencyHistogram => {
    let histogram = steps.get(step);
    if (!histogram) steps.set(step, (histogram = new LatencyHistogram()));
    return histogram;
  };

  const recordRolling = (endedAt: number, ms: number): void => {
    const second = Math.floor(endedAt / ROLLING_BUCKET_MS);
    const bucket = rollingBuckets[second % rollingBuckets.length] as (typeof rollingBuckets)[number];
    if (bucket.second > second) return; // older than the window
    if (bucket.second < second) {
      bucket.histogram.reset();
      bucket.second = second;
    }
    bucket.histogram.record(ms);
  };

  const rollingP95 = (at: number): number | null => {
    const newest = Math.floor(at / ROLLING_BUCKET_MS);
    rollingScratch.reset();
    for (const bucket of rollingBuckets) {
      if (bucket.second > newest - rollingBuckets.length && bucket.second <= newest) rollingScratch.add(bucket.histogram);
    }
    return rollingScratch.valueAt(95);
  };

  /** The phase a flow belongs to: by name when it has one, else the phase open at `at`. */
  const phaseFor = (name: string | undefined, at: number): PhaseState | undefined => {
    if (name === undefined) return phases.findLast((phase) => phase.startedAt <= at) ?? phases[0];
    let phase = phases.findLast((candidate) => candidate.name === name);
    if (!phase) {
      // Named by a flow but never announced (e.g. rebuilt from flows.jsonl alone): span what we see.
      phase = { name, announced: false, open: false, startedAt: at, endedAt: at, ...zeroCounts(), e2e: new LatencyHistogram() };
      phases.push(phase);
    }
    if (!phase.announced) {
      phase.startedAt = Math.min(phase.startedAt, at);
      phase.endedAt = Math.max(phase.endedAt, at);
    }
    return phase;
  };

  const countError = (step: StepName, errorClass: ErrorClass, message: string): void => {
    const key = `${step}.${errorClass}`;
    intervalErrors.set(key, (intervalErrors.get(key) ?? 0) + 1);
    const entry = errors.get(key);
    if (entry) entry.count++;
    else errors.set(key, { step, errorClass, count: 1, example: message });
  };

  const inFlight = (): number => Math.max(0, counts.started - counts.completed);

  const reached = (result: FlowResult, step: StepName): boolean =>
    result.steps[step] !== undefined || result.error?.step === step;
  const passed = (result: FlowResult, step: StepName): boolean =>
    result.steps[step] !== undefined && (result.success || result.error?.step !== step);

  return {
    flowStarted(_flowId, scheduledAt, phase) {
      counts.started++;
      interval.started++;
      const state = phaseFor(phase, scheduledAt);
      if (state) state.started++;
    },

    flowFinished(result) {
      // Checked before counting anything, so a bad result leaves no half-recorded flow.
      assertDurationMs(result.e2eMs);
      for (const ms of Object.values(result.steps)) assertDurationMs(ms);
      counts.completed++;
      interval.completed++;
      const phase = phaseFor(result.phase, result.scheduledAt);
      if (phase && !phase.announced) phase.endedAt = Math.max(phase.endedAt, result.endedAt);
      if (result.success) {
        counts.succeeded++;
        interval.succeeded++;
        stepHistogram('e2e').record(result.e2eMs);
        intervalE2e.record(result.e2eMs);
        recordRolling(result.endedAt, result.e2eMs);
        if (phase) {
          phase.succeeded++;
          phase.e2e.record(result.e2eMs);
        }
      } else {
        counts.failed++;
        interval.failed++;
        if (phase) phase.failed++;
        const { error } = result;
        if (error) countError(error.step, error.errorClass, error.message);
      }
      for (const step of STEP_NAMES) {
        const ms = result.steps[step];
        if (ms !== undefined && (result.success || result.error?.step !== step)) stepHistogram(step).record(ms);
      }
      for (const step of ['upload_data', 'upload_grant'] as const) {
        if (!reached(result, step)) continue;
        uploads.attempts++;
        if (passed(result, step)) uploads.successes++;
      }
      if (reached(result, 'relay') || reached(result, 'confirm')) {
        transactions.attempts++;
        if (passed(result, 'confirm')) transactions.successes++;
      }
      retriesTotal += result.retries;
    },

    flowDropped(scheduledAt, phase) {
      counts.dropped++;
      interval.dropped++;
      const state = phaseFor(phase, scheduledAt);
      if (state) state.dropped++;
    },

    stepRetried(step) {
      retriesByStep[step] = (retriesByStep[step] ?? 0) + 1;
    },

    breakerChanged(state) {
      if (state !== (breaker ?? 'closed')) {
        if (state === 'open') transitions.opened++;
        else if (state === 'half_open') transitions.halfOpened++;
        else transitions.closed++;
      }
      breaker = state;
    },

    phaseStarted(name, at = now()) {
      const current = phases.findLast((phase) => phase.open);
      if (current) {
        current.open = false;
        current.endedAt = at;
      }
      phases.push({ name, announced: true, open: true, startedAt: at, endedAt: at, ...zeroCounts(), e2e: new LatencyHistogram() });
    },

    get inFlight() {
      return inFlight();
    },

    snapshotInterval(at = now()) {
      const e2e = intervalE2e.count === 0 ? null : {
        p50: intervalE2e.valueAt(50) as number,
        p95: intervalE2e.valueAt(95) as number,
        p99: intervalE2e.valueAt(99) as number,
      };
      const snapshot: IntervalSnapshot = {
        at,
        intervalMs: at - lastSnapshotAt,
        counts: { ...counts },
        interval,
        inFlight: inFlight(),
        e2e,
        rollingE2eP95: rollingP95(at),
        errors: Object.fromEntries(intervalErrors),
        breaker,
        breakerTransitions: breaker === null ? null : { ...transitions },
        phase: phases.findLast((phase) => phase.open)?.name ?? null,
        retriesByStep: { ...retriesByStep },
      };
      interval = zeroCounts();
      intervalErrors = new Map();
      intervalE2e.reset();
      lastSnapshotAt = at;
      return snapshot;
    },

    totals(endedAt = now()) {
      const stepPercentiles: Partial<Record<MetricStep, Percentiles>> = {};
      for (const step of [...STEP_NAMES, 'e2e'] as const) {
        const percentiles = steps.get(step)?.percentiles();
        if (percentiles) stepPercentiles[step] = percentiles;
      }
      const stepOrder = (step: StepName): number => STEP_NAMES.indexOf(step);
      const classOrder = (errorClass: ErrorClass): number => ERROR_CLASSES.indexOf(errorClass);
      return {
        counts: { ...counts },
        inFlight: inFlight(),
        steps: stepPercentiles,
        errors: [...errors.values()]
          .map((entry) => ({ ...entry }))
          .sort(
            (a, b) =>
              b.count - a.count || stepOrder(a.step) - stepOrder(b.step) || classOrder(a.errorClass) - classOrder(b.errorClass),
          ),
        uploads: { ...uploads },
        transactions: { ...transactions },
        retries: { total: retriesTotal, byStep: { ...retriesByStep } },
        breaker: breaker === null ? null : { ...transitions, finalState: breaker },
        phases: phases.map(({ name, startedAt, endedAt: phaseEnd, open, started, succeeded, failed, dropped, e2e }) => ({
          name,
          startedAt,
          endedAt: open ? Math.max(startedAt, endedAt) : phaseEnd,
          started,
          succeeded,
          failed,
          dropped,
          e2e: e2e.percentiles(),
        })),
      };
    },
  };
}
