import { describe, expect, it } from 'vitest';
import { artilleryDurationMs, planOfPhases } from './phasePlan.ts';

describe('planOfPhases', () => {
  it('counts arrivals of constant, ramped and counted phases over the schedule', () => {
    expect(
      planOfPhases([
        { duration: 10, arrivalRate: 1, rampTo: 5 },
        { duration: '1m', arrivalRate: 5 },
        { duration: 5, arrivalCount: 7 },
      ]),
    ).toEqual({ arrivals: 30 + 300 + 7, durationMs: 75_000 });
  });

  it('leaves a leading warm-up pause out of the schedule and keeps a pause between phases', () => {
    expect(planOfPhases([{ pause: 15 }, { duration: 40, arrivalRate: 5 }])).toEqual({ arrivals: 200, durationMs: 40_000 });
    expect(planOfPhases([{ duration: 10, arrivalRate: 1 }, { pause: '5s' }, { duration: 10, arrivalRate: 1 }])).toEqual({ arrivals: 20, durationMs: 25_000 });
  });

  it('error: gives up on a phase it cannot read', () => {
    expect(planOfPhases([{ duration: '{{ $env.D }}', arrivalRate: 1 }])).toBeUndefined();
    expect(planOfPhases([{ duration: 10 }])).toBeUndefined();
  });
});

describe('artilleryDurationMs', () => {
  it('reads seconds and unit strings', () => {
    expect([artilleryDurationMs(2), artilleryDurationMs('500ms'), artilleryDurationMs('10s'), artilleryDurationMs('2m'), artilleryDurationMs('1h'), artilleryDurationMs('3')]).toEqual([
      2_000, 500, 10_000, 120_000, 3_600_000, 3_000,
    ]);
  });

  it('error: returns undefined for what is not a duration', () => {
    expect([artilleryDurationMs('soon'), artilleryDurationMs(-1), artilleryDurationMs(undefined), artilleryDurationMs('5 days')]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
