/**
 * The metric names the Artillery engine (packages/artillery-engine-vana) emits and
 * `vana-load report --from-artillery` reads back: the contract between the two. Artillery merges
 * counters by summing them and histograms as DDSketches (p50..p999, min, max, mean, count) across
 * workers and per 10 s period.
 *
 * Latency follows the collector's rule (src/metrics/collector.ts): `vana.e2e` records successful
 * flows only and `vana.step.<step>` the runs of a step that completed; a failure is counted by
 * step and error class instead.
 */
import { ERROR_CLASSES, STEP_NAMES, type ErrorClass, type StepName } from '../flow.ts';

export const ARTILLERY_METRICS = {
  /** Histogram, ms: whole flow, from the virtual user's arrival; successful flows only. */
  e2e: 'vana.e2e',
  /** Histogram prefix, ms: `vana.step.<step>`. */
  stepPrefix: 'vana.step.',
  /** Counters, one increment per flow (0 or 1 for the outcome ones, so every key exists). */
  flowsStarted: 'vana.flows.started',
  /** Counter: virtual users that arrived before their worker's environment was open (e2e includes the wait). */
  startupWaits: 'vana.flows.waited_for_startup',
  flowsCompleted: 'vana.flows.completed',
  flowsSucceeded: 'vana.flows.succeeded',
  flowsFailed: 'vana.flows.failed',
  /** Counter prefix: `vana.errors.<step>.<errorClass>`. */
  errorPrefix: 'vana.errors.',
  /** Artillery's own `errors.<code>` counter (from `ee.emit('error', code)`): `errors.vana.<step>.<class>.<code>`. */
  artilleryErrorPrefix: 'errors.vana.',
  uploadAttempts: 'vana.uploads.attempts',
  uploadSuccesses: 'vana.uploads.successes',
  txAttempts: 'vana.tx.attempts',
  txSuccesses: 'vana.tx.successes',
  /** Counter prefix: `vana.retries.<step>`. */
  retryPrefix: 'vana.retries.',
  /** Counter: arrivals the worker's phases plan (summed over workers: the run's plan). */
  planArrivals: 'vana.plan.arrivals',
  /** Histogram, ms: the worker's planned schedule length (the max over workers is the run's). */
  planDurationMs: 'vana.plan.duration_ms',
  /** Histogram, ms: event-loop delay of each worker, sampled every second. */
  eventLoopLagMs: 'vana.worker.event_loop_lag_ms',
  /**
   * Counter prefix, one increment per worker once its environment is open:
   * `vana.workers.target_<local|remote>` and `vana.workers.chain_<chainId>`.
   */
  workerPrefix: 'vana.workers.',
  /** Artillery's counter of arrivals refused by `maxVusers`: our "dropped". */
  skipped: 'vusers.skipped',
} as const;

/** `vana.step.<step>`. */
export function stepMetric(step: StepName): string {
  return `${ARTILLERY_METRICS.stepPrefix}${step}`;
}

/** `vana.errors.<step>.<errorClass>`. */
export function errorMetric(step: StepName, errorClass: ErrorClass): string {
  return `${ARTILLERY_METRICS.errorPrefix}${step}.${errorClass}`;
}

/** The code given to Artillery's `ee.emit('error', code)`: `vana.<step>.<class>.<code>`. */
export function artilleryErrorCode(step: StepName, errorClass: ErrorClass, code: string): string {
  return `vana.${step}.${errorClass}.${code.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Step and class of a `vana.errors.<step>.<class>` counter name, or undefined for any other name. */
export function parseErrorMetric(name: string): { step: StepName; errorClass: ErrorClass } | undefined {
  if (!name.startsWith(ARTILLERY_METRICS.errorPrefix)) return undefined;
  const [step, errorClass, ...rest] = name.slice(ARTILLERY_METRICS.errorPrefix.length).split('.');
  if (rest.length > 0 || !isStep(step) || !isErrorClass(errorClass)) return undefined;
  return { step, errorClass };
}

/** Step, class and code of an `errors.vana.<step>.<class>.<code>` counter name, or undefined. */
export function parseArtilleryErrorCounter(name: string): { step: StepName; errorClass: ErrorClass; code: string } | undefined {
  if (!name.startsWith(ARTILLERY_METRICS.artilleryErrorPrefix)) return undefined;
  const [step, errorClass, ...code] = name.slice(ARTILLERY_METRICS.artilleryErrorPrefix.length).split('.');
  if (code.length === 0 || !isStep(step) || !isErrorClass(errorClass)) return undefined;
  return { step, errorClass, code: code.join('.') };
}

function isStep(value: string | undefined): value is StepName {
  return (STEP_NAMES as readonly string[]).includes(value ?? '');
}

function isErrorClass(value: string | undefined): value is ErrorClass {
  return (ERROR_CLASSES as readonly string[]).includes(value ?? '');
}
