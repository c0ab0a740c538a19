/**
 * The search of `vana-load capacity`, apart from how a step is run: the rate rises from the start
 * rate by the step (`×1.5`, `+5/s`) until a step breaks the SLO or the max rate held, then the
 * interval between the last good and the first bad rate is halved `bisectSteps` times. Rates are
 * rounded to 0.1/s; a bisection that would repeat a rate ends early.
 */
import type { RateStep } from './types.ts';

/** What the search needs to know of a step it ran. */
export interface SearchStepOutcome {
  rate: number;
  pass: boolean;
  /** Stopped by Ctrl-C or a failure: the search ends and the step counts for nothing. */
  interrupted: boolean;
}

export interface SearchCapacityParameters<T extends SearchStepOutcome> {
  startRate: number;
  step: RateStep;
  maxRate: number;
  bisectSteps: number;
  /** Runs one step; undefined when the search was stopped before it could start. */
  runStep: (phase: 'ramp' | 'bisect', rate: number) => Promise<T | undefined>;
}

export interface SearchCapacityReturnType<T> {
  /** Highest rate that passed; undefined when none did. */
  good: T | undefined;
  /** Lowest rate that failed; undefined when none did. */
  bad: T | undefined;
  /** True when the search stopped because a step was interrupted or could not start. */
  stopped: boolean;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The next ramp rate: at least 0.1/s above `rate`. */
export function nextRate(rate: number, step: RateStep): number {
  return Math.max(round1(rate + 0.1), round1(step.kind === 'multiply' ? rate * step.by : rate + step.by));
}

/**
 * Runs the search with `runStep`; see the module comment.
 *
 * @example
 * const { good, bad } = await searchCapacity({ startRate: 5, step: parseRateStep('1.5x'), maxRate: 60, bisectSteps: 3, runStep });
 */
export async function searchCapacity<T extends SearchStepOutcome>({
  startRate,
  step,
  maxRate,
  bisectSteps,
  runStep,
}: SearchCapacityParameters<T>): Promise<SearchCapacityReturnType<T>> {
  let good: T | undefined;
  let bad: T | undefined;
  for (let rate = startRate; ; rate = Math.min(maxRate, nextRate(rate, step))) {
    const outcome = await runStep('ramp', rate);
    if (!outcome || outcome.interrupted) return { good, bad, stopped: true };
    if (!outcome.pass) {
      bad = outcome;
      break;
    }
    good = outcome;
    if (rate >= maxRate) return { good, bad, stopped: false };
  }
  for (let i = 0; i < bisectSteps && bad; i++) {
    const low = good?.rate ?? 0;
    const mid = round1((low + bad.rate) / 2);
    if (mid <= low || mid >= bad.rate) break;
    const outcome = await runStep('bisect', mid);
    if (!outcome || outcome.interrupted) return { good, bad, stopped: true };
    if (outcome.pass) good = outcome;
    else bad = outcome;
  }
  return { good, bad, stopped: false };
}
