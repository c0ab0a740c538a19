/**
 * A latency histogram in milliseconds over an HDR histogram in microseconds. HDR keeps 3
 * significant digits (0.1 % error) in constant memory whatever the number of values, which is what
 * lets a 100k-flow run keep no per-flow arrays. Count, min, max and mean are tracked exactly on the
 * side; only the percentiles carry HDR's rounding.
 */
import { build, type Histogram } from 'hdr-histogram-js';
import type { Percentiles } from './types.ts';

const MICROS_PER_MS = 1_000;

/** Rounds to the microsecond: the unit values are recorded in. */
export const roundMs = (ms: number): number => Math.round(ms * MICROS_PER_MS) / MICROS_PER_MS;

/** Throws unless `ms` is a finite duration >= 0. */
export function assertDurationMs(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`Expected a duration in ms >= 0, got ${ms}`);
}

/**
 * Latency values in ms, summarised as `Percentiles`.
 *
 * @example
 * const h = new LatencyHistogram();
 * h.record(12.5);
 * h.percentiles(); // { count: 1, min: 12.5, ..., p99: 12.5, max: 12.5 }
 */
export class LatencyHistogram {
  readonly #hdr: Histogram = build({
    lowestDiscernibleValue: 1,
    // One minute in µs up front; longer values grow it (autoResize) instead of throwing.
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  #count = 0;
  #min = Infinity;
  #max = -Infinity;
  #sum = 0;

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    assertDurationMs(ms);
    this.#hdr.recordValue(Math.max(1, Math.round(ms * MICROS_PER_MS)));
    this.#count++;
    this.#sum += ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Adds every value recorded in `other`. */
  add(other: LatencyHistogram): void {
    if (other.#count === 0) return;
    this.#hdr.add(other.#hdr);
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  reset(): void {
    this.#hdr.reset();
    this.#count = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
    this.#sum = 0;
  }

  /** The value at `percentile` (0–100) in ms, or null when empty. */
  valueAt(percentile: number): number | null {
    if (this.#count === 0) return null;
    // HDR reports the top of a value's bucket; never report beyond what was seen.
    const value = this.#hdr.getValueAtPercentile(percentile) / MICROS_PER_MS;
    return roundMs(Math.min(Math.max(value, this.#min), this.#max));
  }

  /** Count, exact min/mean/max and HDR percentiles, or null when empty. */
  percentiles(): Percentiles | null {
    if (this.#count === 0) return null;
    const at = (percentile: number): number => this.valueAt(percentile) as number;
    return {
      count: this.#count,
      min: roundMs(this.#min),
      mean: roundMs(this.#sum / this.#count),
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: roundMs(this.#max),
    };
  }
}
