/**
 * A circuit breaker over flow outcomes (ARCHITECTURE.md 5): when too many recent flows fail, stop
 * starting new ones for a while, then let a few probes through to see whether the system is back.
 *
 * closed → open when, over the last `windowMs`, at least `minRequests` outcomes were recorded and
 * the failure rate is >= `failureRateToOpen`. open → half_open after `openMs`. In half_open,
 * `halfOpenProbes` flows are let through: a failure reopens the breaker, `halfOpenProbes`
 * successes close it with an empty window. Every outcome recorded in half_open counts as a probe
 * result, also one of a flow that started before the breaker opened.
 *
 * What a refusal means is the load run's choice (`FlowGate`): an open-model arrival is dropped
 * (`circuit_open`: counted with the dropped, never queued, never run), a closed-model user waits.
 *
 * The window is `bucketCount` time buckets of counts, so memory does not grow with the rate.
 * Time advances lazily on each call: no timers.
 */
import { ConfigError } from '../errors.ts';
/** The breaker's state: closed lets flows through, open refuses them, half_open lets one probe through. */
export type BreakerState = 'closed' | 'open' | 'half_open';
import type { FlowGate } from './types.ts';

export interface BreakerStateChange {
  from: BreakerState;
  to: BreakerState;
  /** One line, e.g. `failure rate 55% (11/20) over 10000 ms >= 50%`. */
  reason: string;
  at: number;
}

export interface CircuitBreakerOptions {
  /** Default 10_000. */
  windowMs?: number;
  /** Buckets the window is made of; the window slides by windowMs / bucketCount. Default 10. */
  bucketCount?: number;
  /** Default 20. */
  minRequests?: number;
  /** In (0, 1]. Default 0.5. */
  failureRateToOpen?: number;
  /** Default 5_000. */
  openMs?: number;
  /** Default 3. */
  halfOpenProbes?: number;
  onStateChange?: (change: BreakerStateChange) => void;
  /** Default `Date.now`. */
  now?: () => number;
}

export interface CircuitBreakerStats {
  state: BreakerState;
  /** Transitions into each state since creation. */
  opened: number;
  halfOpened: number;
  closed: number;
  /** Outcomes in the current window (closed state only; emptied on close). */
  window: { requests: number; failures: number };
}

export interface CircuitBreaker extends FlowGate {
  /** False while open, and in half_open once every probe is out. */
  allow(): boolean;
  record(success: boolean): void;
  /** ms until the open period ends; 0 when not open. */
  msUntilAllowed(): number;
  state(): BreakerState;
  stats(): CircuitBreakerStats;
}

/**
 * Creates a circuit breaker.
 *
 * @example
 * const breaker = createCircuitBreaker({ windowMs: 10_000, minRequests: 20, onStateChange: (c) => logger.warn(c) });
 * await runLoadModel(model, { runFlow, gate: breaker });
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const {
    windowMs = 10_000,
    bucketCount = 10,
    minRequests = 20,
    failureRateToOpen = 0.5,
    openMs = 5_000,
    halfOpenProbes = 3,
    onStateChange,
    now = Date.now,
  } = options;
  if (!Number.isFinite(windowMs) || windowMs <= 0) invalid('windowMs', 'a finite number > 0', windowMs);
  if (!Number.isSafeInteger(bucketCount) || bucketCount < 1) invalid('bucketCount', 'an integer >= 1', bucketCount);
  if (!Number.isSafeInteger(minRequests) || minRequests < 1) invalid('minRequests', 'an integer >= 1', minRequests);
  if (!(failureRateToOpen > 0 && failureRateToOpen <= 1)) invalid('failureRateToOpen', 'a number in (0, 1]', failureRateToOpen);
  if (!Number.isFinite(openMs) || openMs < 0) invalid('openMs', 'a finite number >= 0', openMs);
  if (!Number.isSafeInteger(halfOpenProbes) || halfOpenProbes < 1) invalid('halfOpenProbes', 'an integer >= 1', halfOpenProbes);

  const bucketMs = windowMs / bucketCount;
  // Bucket slot i holds the counts of time bucket `epochs[i]` (= floor(t / bucketMs)).
  const epochs = new Array<number>(bucketCount).fill(-Infinity);
  const successes = new Array<number>(bucketCount).fill(0);
  const failures = new Array<number>(bucketCount).fill(0);
  let state: BreakerState = 'closed';
  let openedAt = 0;
  let probesOut = 0;
  let probesSucceeded = 0;
  const counts = { opened: 0, halfOpened: 0, closed: 0 };

  function windowTotals(t: number): { requests: number; failures: number } {
    const current = Math.floor(t / bucketMs);
    let requests = 0;
    let failed = 0;
    for (let slot = 0; slot < bucketCount; slot++) {
      if (epochs[slot]! > current - bucketCount) {
        requests += successes[slot]! + failures[slot]!;
        failed += failures[slot]!;
      }
    }
    return { requests, failures: failed };
  }

  function clearWindow(): void {
    epochs.fill(-Infinity);
    successes.fill(0);
    failures.fill(0);
  }

  function transition(to: BreakerState, reason: string, at: number): void {
    const from = state;
    state = to;
    if (to === 'open') {
      counts.opened++;
      openedAt = at;
    } else if (to === 'half_open') {
      counts.halfOpened++;
      probesOut = 0;
      probesSucceeded = 0;
    } else {
      counts.closed++;
      clearWindow();
    }
    onStateChange?.({ from, to, reason, at });
  }

  /** Moves open → half_open once the open period is over. */
  function refresh(t: number): void {
    if (state === 'open' && t >= openedAt + openMs) transition('half_open', `open for ${openMs} ms`, t);
  }

  return {
    allow() {
      const t = now();
      refresh(t);
      if (state === 'closed') return true;
      if (state === 'half_open' && probesOut < halfOpenProbes) {
        probesOut++;
        return true;
      }
      return false;
    },
    record(success) {
      const t = now();
      refresh(t);
      if (state === 'open') return;
      if (state === 'half_open') {
        if (!success) return transition('open', 'a half-open probe failed', t);
        probesSucceeded++;
        if (probesSucceeded >= halfOpenProbes) transition('closed', `${probesSucceeded} half-open probes succeeded`, t);
        return;
      }
      const epoch = Math.floor(t / bucketMs);
      const slot = epoch % bucketCount;
      if (epochs[slot] !== epoch) {
        epochs[slot] = epoch;
        successes[slot] = 0;
        failures[slot] = 0;
      }
      if (success) successes[slot]!++;
      else failures[slot]!++;
      const window = windowTotals(t);
      const rate = window.failures / window.requests;
      if (window.requests >= minRequests && rate >= failureRateToOpen) {
        const reason = `failure rate ${percent(rate)} (${window.failures}/${window.requests}) over ${windowMs} ms >= ${percent(failureRateToOpen)}`;
        transition('open', reason, t);
      }
    },
    msUntilAllowed() {
      const t = now();
      refresh(t);
      return state === 'open' ? Math.max(0, openedAt + openMs - t) : 0;
    },
    state() {
      refresh(now());
      return state;
    },
    stats() {
      const t = now();
      refresh(t);
      return { state, ...counts, window: state === 'closed' ? windowTotals(t) : { requests: 0, failures: 0 } };
    },
  };
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

function invalid(field: string, expected: string, got: unknown): never {
  throw new ConfigError(`createCircuitBreaker ${field}: Expected ${expected}, got ${String(got)}`, { code: 'BREAKER_OPTIONS_INVALID' });
}
