import { describe, expect, it } from 'vitest';
import { parseRateStep } from './capacityOptions.ts';
import { nextRate, searchCapacity, type SearchStepOutcome } from './searchCapacity.ts';
import { plannedRate, seedForRate } from './seedForRate.ts';

/** A target that sustains rates up to `limit`; records the steps run. */
function target(limit: number, { interruptAt }: { interruptAt?: number } = {}) {
  const ran: string[] = [];
  const runStep = async (phase: 'ramp' | 'bisect', rate: number): Promise<SearchStepOutcome> => {
    ran.push(`${phase} ${rate}`);
    return { rate, pass: rate <= limit, interrupted: rate === interruptAt };
  };
  return { ran, runStep };
}

describe('searchCapacity', () => {
  it('ramps by the factor until a step fails, then bisects between the last good and the first bad rate', async () => {
    const { ran, runStep } = target(33.5);
    const { good, bad, stopped } = await searchCapacity({ startRate: 5, step: parseRateStep('1.5x'), maxRate: 60, bisectSteps: 3, runStep });
    expect(ran).toEqual(['ramp 5', 'ramp 7.5', 'ramp 11.3', 'ramp 17', 'ramp 25.5', 'ramp 38.3', 'bisect 31.9', 'bisect 35.1', 'bisect 33.5']);
    expect([good?.rate, bad?.rate, stopped]).toEqual([33.5, 35.1, false]);
  });

  it('ends at the max rate when every step passes (the ceiling held)', async () => {
    const { ran, runStep } = target(1_000);
    const { good, bad } = await searchCapacity({ startRate: 10, step: parseRateStep('+20'), maxRate: 45, bisectSteps: 3, runStep });
    expect(ran).toEqual(['ramp 10', 'ramp 30', 'ramp 45']);
    expect([good?.rate, bad]).toEqual([45, undefined]);
  });

  it('bisects down from zero when the start rate fails, and stops bisecting before repeating a rate', async () => {
    const { ran, runStep } = target(0.1);
    const { good, bad } = await searchCapacity({ startRate: 0.4, step: parseRateStep('2x'), maxRate: 10, bisectSteps: 5, runStep });
    expect(ran).toEqual(['ramp 0.4', 'bisect 0.2', 'bisect 0.1']);
    expect([good?.rate, bad?.rate]).toEqual([0.1, 0.2]);
  });

  it('stops at an interrupted step and counts it for nothing', async () => {
    const { ran, runStep } = target(30, { interruptAt: 17 });
    const { good, bad, stopped } = await searchCapacity({ startRate: 5, step: parseRateStep('1.5x'), maxRate: 60, bisectSteps: 3, runStep });
    expect(ran).toEqual(['ramp 5', 'ramp 7.5', 'ramp 11.3', 'ramp 17']);
    expect([good?.rate, bad, stopped]).toEqual([11.3, undefined, true]);
  });

  it('raises a rate by at least 0.1/s', () => {
    expect(nextRate(0.1, parseRateStep('1.2x'))).toBe(0.2);
    expect(nextRate(25.5, parseRateStep('1.5x'))).toBe(38.3);
  });
});

describe('seedForRate', () => {
  it('picks the first seed whose planned schedule averages the rate within 1 %, the same on every call', () => {
    const seed = seedForRate(5, 50, 1);
    expect(seedForRate(5, 50, 1)).toBe(seed);
    expect(Math.abs(plannedRate(5, 50, seed) / 5 - 1)).toBeLessThanOrEqual(0.01);
    for (let s = 1; s < seed; s++) expect(Math.abs(plannedRate(5, 50, s) / 5 - 1)).toBeGreaterThan(0.01);
  });
});
