import { describe, expect, it } from 'vitest';
import { loadAsRun } from './loadAsRun.ts';

describe('loadAsRun', () => {
  it('names only the fields a poisson model uses, with the seed it ran with', () => {
    expect(loadAsRun({ kind: 'poisson', rate: 20, users: 1000, maxInFlight: 200 }, 7)).toEqual({ model: 'poisson', rate: 20, users: 1000, maxInFlight: 200, seed: 7 });
  });

  it("keeps a poisson model's own seed when the run names none", () => {
    expect(loadAsRun({ kind: 'poisson', rate: 2, durationMs: 60_000, maxInFlight: 10, seed: 3 })).toEqual({ model: 'poisson', rate: 2, durationMs: 60_000, maxInFlight: 10, seed: 3 });
  });

  it('tells a closed model as users = concurrency and the stagger window in all', () => {
    expect(loadAsRun({ kind: 'closed', users: 25, iterations: 1, staggerMs: 200 })).toEqual({ model: 'closed', users: 25, concurrency: 25, iterations: 1, staggerStartMs: 5_000 });
  });

  it('tells a phased model by its peak, in users or arrivals per second', () => {
    const phases = [
      { name: 'ramp_up', durationMs: 5_000, from: 0, to: 10, unit: 'rate' as const },
      { name: 'sustain', durationMs: 10_000, from: 10, to: 10, unit: 'rate' as const },
    ];
    expect(loadAsRun({ kind: 'phased', phases, maxInFlight: 50, totalUsers: 300 })).toEqual({
      model: 'phased',
      users: 300,
      rate: 10,
      rampUpMs: 5_000,
      sustainMs: 10_000,
      rampDownMs: 0,
      maxInFlight: 50,
    });
  });
});
