/**
 * Judges a scenario's survival expectations (`recovery`, `unaccounted`, `injected`) against its
 * computed survival; the other expectations are run thresholds, judged by the run's summary.
 */
import { compare } from '../metrics/thresholds.ts';
import type { ThresholdVerdict } from '../metrics/types.ts';
import { formatDuration } from '../util/format.ts';
import type { Survival } from './computeSurvival.ts';
import { SURVIVAL_METRICS, type Expectation } from './scenario.ts';

/** Whether `metric` is one `evaluateSurvival` judges (the others go to the run's thresholds). */
export const isSurvivalMetric = (metric: string): boolean => Object.hasOwn(SURVIVAL_METRICS, metric);

/**
 * Verdicts of the survival expectations among `expectations` (others are skipped). A recovery that
 * was not measured fails, with the reason as its text.
 *
 * @example
 * evaluateSurvival(scenario.expect, survival); // [{ expression: 'recovery<10s', actualText: '1.48s', pass: true, … }]
 */
export function evaluateSurvival(expectations: readonly Expectation[], survival: Survival): ThresholdVerdict[] {
  return expectations
    .filter((e) => isSurvivalMetric(e.metric))
    .map((e) => {
      const actual = e.metric === 'recovery' ? survival.recovery.ms : e.metric === 'unaccounted' ? survival.flows.unaccounted : survival.injected;
      const base = { expression: e.expression, metric: e.metric, actual, source: e.source };
      if (actual === null) return { ...base, actualText: survival.recovery.windowEndAt === null ? 'n/a (no window ends)' : 'not recovered', pass: false };
      return { ...base, actualText: e.metric === 'recovery' ? formatDuration(actual) : String(actual), pass: compare(actual, e.op, e.value) };
    });
}
