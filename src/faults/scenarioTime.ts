/** A fault scenario's time axis: when its last window ends, how long it runs, scaled for --quick. */
import { ConfigError } from '../errors.ts';
import type { Scenario } from './scenario.ts';

/** Time the run gets after the last fault window ends, by default: room for the recovery to show. */
export const DEFAULT_TAIL_MS = 20_000;
/** Shortest default run. */
export const MIN_DEFAULT_DURATION_MS = 30_000;

/**
 * End of the last fault window (ms after the load started) over every fault that has one, or
 * undefined when none ends (every fault lasts the whole run): the moment recovery is timed from.
 */
export function lastWindowEndMs(scenario: Pick<Scenario, 'faults' | 'processFaults'>): number | undefined {
  const ends = [...scenario.faults, ...scenario.processFaults].map((fault) => fault.untilMs).filter((until): until is number => until !== undefined);
  return ends.length === 0 ? undefined : Math.max(...ends);
}

/**
 * How long arrivals run: the scenario's `duration`, else the end of the last fault window plus
 * {@link DEFAULT_TAIL_MS}, at least {@link MIN_DEFAULT_DURATION_MS}.
 */
export function scenarioDurationMs(scenario: Pick<Scenario, 'faults' | 'processFaults' | 'durationMs'>): number {
  return scenario.durationMs ?? Math.max(MIN_DEFAULT_DURATION_MS, (lastWindowEndMs(scenario) ?? 0) + DEFAULT_TAIL_MS);
}

/**
 * The scenario with its time axis multiplied by `factor`: fault windows and its duration, the
 * default one included (delays, `retry_after` and the expectations stay as they are). `--quick`
 * runs scenarios at 0.25.
 *
 * @example
 * scaleScenarioTime(scenario, 0.25); // from 10s–40s to 2.5s–10s
 */
export function scaleScenarioTime(scenario: Scenario, factor: number): Scenario {
  if (!(Number.isFinite(factor) && factor > 0)) throw new ConfigError(`Expected a time scale above 0, got ${factor}`, { code: 'SCENARIO_INVALID' });
  if (factor === 1) return scenario;
  const scale = (ms: number): number => Math.round(ms * factor);
  const window = <T extends { fromMs?: number; untilMs?: number }>(fault: T): T =>
    Object.freeze({ ...fault, ...(fault.fromMs !== undefined ? { fromMs: scale(fault.fromMs) } : {}), ...(fault.untilMs !== undefined ? { untilMs: scale(fault.untilMs) } : {}) });
  return Object.freeze({
    ...scenario,
    faults: Object.freeze(scenario.faults.map(window)),
    processFaults: Object.freeze(scenario.processFaults.map(window)),
    // The default duration (last window + tail) is scaled too, so the tail shrinks with the windows.
    durationMs: scale(scenarioDurationMs(scenario)),
  });
}
