import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../util/seededRandom.ts';
import { closedSchedule, phasedRateAt, phasedSchedule, phasedTargetRate, poissonSchedule } from './schedules.ts';
import type { LoadPhase, ScheduleEvent } from './types.ts';

const RAMP: readonly LoadPhase[] = [
  { name: 'ramp_up', durationMs: 10_000, from: 0, to: 10, unit: 'rate' },
  { name: 'sustain', durationMs: 10_000, from: 10, to: 10, unit: 'rate' },
  { name: 'ramp_down', durationMs: 10_000, from: 10, to: 0, unit: 'rate' },
];

function arrivalsByPhase(events: Iterable<ScheduleEvent>): Record<string, number> {
  const counts: Record<string, number> = {};
  let phase = '';
  for (const event of events) {
    if (event.kind === 'phase') phase = event.name;
    if (event.kind === 'arrival') counts[phase] = (counts[phase] ?? 0) + 1;
  }
  return counts;
}

describe('poissonSchedule', () => {
  it('has a mean inter-arrival time of 1/rate over 20k seeded samples, and exactly `users` arrivals', () => {
    const events = [...poissonSchedule({ rate: 50, users: 20_000 }, createSeededRandom(1))];
    const arrivals = events.filter((event) => event.kind === 'arrival');
    expect(arrivals).toHaveLength(20_000);
    const last = arrivals.at(-1)!.at;
    expect(events.at(-1)).toEqual({ kind: 'end', at: last });
    // Mean gap 20 ms; the standard error over 20k samples is 0.7 %, so 3 % is > 4 sigma.
    expect(Math.abs(last / 20_000 - 20) / 20).toBeLessThan(0.03);
    // Exponential: the standard deviation of the gaps equals their mean.
    const gaps = arrivals.map((event, i) => event.at - (i === 0 ? 0 : arrivals[i - 1]!.at));
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((sum, gap) => sum + (gap - mean) ** 2, 0) / gaps.length);
    expect(Math.abs(sd / mean - 1)).toBeLessThan(0.05);
  });

  it('gives the same arrivals for the same seed and different ones for another', () => {
    const take = (seed: number) => [...poissonSchedule({ rate: 5, users: 5 }, createSeededRandom(seed))].map((event) => event.at);
    expect(take(7)).toEqual(take(7));
    expect(take(8)).not.toEqual(take(7));
  });

  it('stops at durationMs with an end event there', () => {
    const events = [...poissonSchedule({ rate: 100, durationMs: 1_000 }, createSeededRandom(3))];
    expect(events.at(-1)).toEqual({ kind: 'end', at: 1_000 });
    expect(events.slice(0, -1).every((event) => event.kind === 'arrival' && event.at < 1_000)).toBe(true);
    expect(events.length - 1).toBeGreaterThan(70);
    expect(events.length - 1).toBeLessThan(130);
  });
});

describe('phasedSchedule', () => {
  it('gives each rate phase the area under its ramp: 50 / 100 / 50', () => {
    expect(arrivalsByPhase(phasedSchedule(RAMP))).toEqual({ ramp_up: 50, sustain: 100, ramp_down: 50 });
  });

  it('spaces sustain arrivals evenly at 1/rate and follows the ramp in between', () => {
    const arrivals = [...phasedSchedule(RAMP)].filter((event) => event.kind === 'arrival').map((event) => event.at);
    expect(arrivals.slice(50, 53)).toEqual([10_050, 10_150, 10_250]);
    // Ramp up 0 → 10/s over 10 s: arrival n at sqrt(2 (n + 0.5) / 1) s.
    expect(arrivals[0]).toBeCloseTo(1_000, 6);
    expect(arrivals[49]).toBeCloseTo(Math.sqrt(2 * 49.5) * 1_000, 6);
    expect(arrivals.every((at, i) => i === 0 || at >= arrivals[i - 1]!)).toBe(true);
  });

  it('emits user targets at the half-unit crossings of a users ramp, then an end event', () => {
    const events = [...phasedSchedule([
      { name: 'ramp_up', durationMs: 4_000, from: 0, to: 4, unit: 'users' },
      { name: 'ramp_down', durationMs: 2_000, from: 4, to: 2, unit: 'users' },
    ])];
    expect(events).toEqual([
      { kind: 'phase', at: 0, name: 'ramp_up' },
      { kind: 'users', at: 0, target: 0 },
      { kind: 'users', at: 500, target: 1 },
      { kind: 'users', at: 1_500, target: 2 },
      { kind: 'users', at: 2_500, target: 3 },
      { kind: 'users', at: 3_500, target: 4 },
      { kind: 'phase', at: 4_000, name: 'ramp_down' },
      { kind: 'users', at: 4_000, target: 4 },
      { kind: 'users', at: 4_500, target: 3 },
      { kind: 'users', at: 5_500, target: 2 },
      { kind: 'end', at: 6_000 },
    ]);
  });

  it('sends the users of a users phase home when a rate phase follows', () => {
    const events = [...phasedSchedule([
      { name: 'hold', durationMs: 1_000, from: 2, to: 2, unit: 'users' },
      { name: 'open', durationMs: 1_000, from: 2, to: 2, unit: 'rate' },
    ])];
    expect(events).toEqual([
      { kind: 'phase', at: 0, name: 'hold' },
      { kind: 'users', at: 0, target: 2 },
      { kind: 'phase', at: 1_000, name: 'open' },
      { kind: 'users', at: 1_000, target: 0 },
      { kind: 'arrival', at: 1_250 },
      { kind: 'arrival', at: 1_750 },
      { kind: 'end', at: 2_000 },
    ]);
  });

  it('reports the phase and target rate at a point in time, and the mean target rate', () => {
    expect(phasedRateAt(RAMP, 2_500)).toEqual({ phase: 'ramp_up', rate: 2.5 });
    expect(phasedRateAt(RAMP, 15_000)).toEqual({ phase: 'sustain', rate: 10 });
    expect(phasedRateAt(RAMP, 30_000)).toEqual({ phase: undefined, rate: undefined });
    expect(phasedTargetRate(RAMP)).toBeCloseTo(200 / 30, 9);
    expect(phasedTargetRate([{ name: 'hold', durationMs: 1_000, from: 2, to: 2, unit: 'users' }])).toBe(null);
  });
});

describe('closedSchedule', () => {
  it('starts user i at i × staggerMs and leaves out users due after durationMs', () => {
    expect([...closedSchedule({ kind: 'closed', users: 4, staggerMs: 300, durationMs: 700 })]).toEqual([
      { kind: 'user', at: 0, userIndex: 0 },
      { kind: 'user', at: 300, userIndex: 1 },
      { kind: 'user', at: 600, userIndex: 2 },
      { kind: 'end', at: 700 },
    ]);
  });

  it('numbers users from firstUserIndex', () => {
    expect([...closedSchedule({ kind: 'closed', users: 2, firstUserIndex: 41 })]).toEqual([
      { kind: 'user', at: 0, userIndex: 41 },
      { kind: 'user', at: 0, userIndex: 42 },
    ]);
  });
});
