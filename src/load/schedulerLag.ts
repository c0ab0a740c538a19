/**
 * Scheduler lag: how late a timer-driven flow start was against its planned time. The run keeps the
 * mean, max and last over the whole run, and the largest since the sampler last asked.
 */
import type { SchedulerLagStats } from './types.ts';

export interface LagMeter {
  /** Records one start `ms` late (negative values count as 0); returns the value recorded. */
  record(ms: number): number;
  summary(): SchedulerLagStats;
  /** The largest lag since the last call (the last lag when none was recorded since), and starts a new interval. */
  takeInterval(): number;
}

/**
 * A scheduler-lag meter for one run.
 *
 * @example
 * const lag = createLagMeter();
 * lag.record(now() - plannedAt);
 * sample({ schedulerLagMs: lag.takeInterval() });
 */
export function createLagMeter(): LagMeter {
  let sum = 0;
  let count = 0;
  let max = 0;
  let current = 0;
  let intervalMax = 0;
  let intervalCount = 0;
  return {
    record(ms) {
      const value = Math.max(0, ms);
      sum += value;
      count++;
      current = value;
      max = Math.max(max, value);
      intervalMax = intervalCount > 0 ? Math.max(intervalMax, value) : value;
      intervalCount++;
      return value;
    },
    summary: () => ({ mean: count > 0 ? sum / count : 0, max, current, count }),
    takeInterval() {
      const value = intervalCount > 0 ? intervalMax : current;
      intervalMax = 0;
      intervalCount = 0;
      return value;
    },
  };
}
