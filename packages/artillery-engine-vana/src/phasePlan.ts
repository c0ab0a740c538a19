/**
 * What an Artillery worker's phases plan: arrivals and schedule length. Each worker emits its own
 * (`vana.plan.*`); summed and maxed across workers they give the run's target rate, which
 * Artillery's output does not carry.
 */

/** An Artillery phase, as far as the plan needs it; `duration`/`pause` are seconds or `500ms`, `10s`, `5m`, `1h`. */
export interface ArtilleryPhase {
  name?: string;
  duration?: number | string;
  arrivalRate?: number;
  rampTo?: number;
  arrivalCount?: number;
  pause?: number | string;
  maxVusers?: number;
}

export interface PhasePlan {
  arrivals: number;
  durationMs: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, sec: 1_000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Milliseconds of an Artillery duration (a number is seconds); undefined when it is not one. */
export function artilleryDurationMs(value: number | string | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1_000 : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/.exec(value);
  if (!match) return undefined;
  const factor = match[2] === '' ? 1_000 : UNIT_MS[match[2]!];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

/**
 * Planned arrivals and schedule length (first arrival phase to last) of a list of phases, or
 * undefined when a phase is not one this can read (a templated value, say).
 *
 * @example
 * planOfPhases([{ duration: 40, arrivalRate: 5 }]); // { arrivals: 200, durationMs: 40_000 }
 */
export function planOfPhases(phases: readonly ArtilleryPhase[]): PhasePlan | undefined {
  let arrivals = 0;
  let durationMs = 0;
  // Pauses count between arrival phases only: a leading pause is a warm-up, not schedule.
  let pausedMs = 0;
  for (const phase of phases) {
    if (phase.pause !== undefined) {
      const ms = artilleryDurationMs(phase.pause);
      if (ms === undefined) return undefined;
      pausedMs += ms;
      continue;
    }
    const ms = artilleryDurationMs(phase.duration);
    if (ms === undefined) return undefined;
    durationMs += (durationMs > 0 ? pausedMs : 0) + ms;
    pausedMs = 0;
    if (phase.arrivalCount !== undefined) {
      if (!(phase.arrivalCount >= 0)) return undefined;
      arrivals += phase.arrivalCount;
    } else if (phase.arrivalRate !== undefined) {
      const to = phase.rampTo ?? phase.arrivalRate;
      if (!(phase.arrivalRate >= 0 && to >= 0)) return undefined;
      arrivals += ((phase.arrivalRate + to) / 2) * (ms / 1_000);
    } else {
      return undefined;
    }
  }
  return { arrivals: Math.round(arrivals), durationMs };
}
