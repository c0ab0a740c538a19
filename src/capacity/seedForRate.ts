/**
 * The seed of a capacity step. The arrivals of a short Poisson step span their nominal duration
 * only roughly (the 50 arrivals of a 10 s step at 5/s: ±14 %, one σ), so "sustains 5/s" would not
 * mean 5/s. Each step takes the first seed from the base seed on whose planned schedule averages
 * the nominal rate within ±1 %; the gaps stay exponential (bursts included).
 */
import { poissonSchedule } from '../load/schedules.ts';
import { createSeededRandom } from '../util/seededRandom.ts';

/** How close the planned mean rate must come to the nominal one. */
export const SEED_RATE_TOLERANCE = 0.01;
const TRIES = 10_000;

/**
 * The first seed from `from` whose planned schedule of `arrivals` averages `rate` within
 * {@link SEED_RATE_TOLERANCE}; the closest of 10 000 when none does.
 *
 * @example
 * const seed = seedForRate(5, 50, 1); // the same seed on every machine
 */
export function seedForRate(rate: number, arrivals: number, from: number): number {
  let best = { seed: from, error: Infinity };
  for (let seed = from; seed < from + TRIES; seed++) {
    const error = Math.abs(plannedRate(rate, arrivals, seed) / rate - 1);
    if (error <= SEED_RATE_TOLERANCE) return seed;
    if (error < best.error) best = { seed, error };
  }
  return best.seed;
}

/** The mean rate of the planned schedule of a seed: arrivals ÷ time of the last arrival. */
export function plannedRate(rate: number, arrivals: number, seed: number): number {
  let endMs = 0;
  for (const event of poissonSchedule({ rate, users: arrivals }, createSeededRandom(seed))) endMs = event.at;
  return endMs > 0 ? arrivals / (endMs / 1000) : Infinity;
}
