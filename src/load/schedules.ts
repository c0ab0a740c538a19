/**
 * The planned timelines of the load models, as pure generators of `ScheduleEvent`s in time order
 * (`at` = ms after the run started). They know nothing of clocks or timers: `startLoadRun` sleeps
 * until each event is due. Generators, not arrays, so a 100k-arrival run holds one event at a time.
 */
import { createSeededRandom, type RandomSource } from '../util/seededRandom.ts';
import type { ClosedLoadModel, LoadModel, LoadPhase, PoissonLoadModel, ScheduleEvent } from './types.ts';

/**
 * Closed model: user i starts at i × staggerMs; with `durationMs`, users not started by then never
 * start, and an `end` event at `durationMs` stops further flows.
 *
 * @example
 * [...closedSchedule({ kind: 'closed', users: 2, staggerMs: 500 })]
 * // [{ kind: 'user', at: 0, userIndex: 0 }, { kind: 'user', at: 500, userIndex: 1 }]
 */
export function* closedSchedule(model: ClosedLoadModel): Generator<ScheduleEvent, void, undefined> {
  const staggerMs = model.staggerMs ?? 0;
  const first = model.firstUserIndex ?? 0;
  for (let i = 0; i < model.users; i++) {
    const at = i * staggerMs;
    if (model.durationMs !== undefined && at >= model.durationMs) break;
    yield { kind: 'user', at, userIndex: first + i };
  }
  if (model.durationMs !== undefined) yield { kind: 'end', at: model.durationMs };
}

/**
 * Poisson arrivals: exponential inter-arrival times of mean 1000/rate ms drawn from `random`,
 * until `users` arrivals or `durationMs`, then one `end` event (at the last arrival, or at
 * `durationMs`).
 *
 * @example
 * const events = poissonSchedule({ kind: 'poisson', rate: 50, users: 100, maxInFlight: 10 }, createSeededRandom(1));
 */
export function* poissonSchedule(
  model: Pick<PoissonLoadModel, 'rate' | 'users' | 'durationMs'>,
  random: RandomSource,
): Generator<ScheduleEvent, void, undefined> {
  const meanGapMs = 1000 / model.rate;
  let at = 0;
  for (let arrivals = 0; model.users === undefined || arrivals < model.users; arrivals++) {
    // 1 - u is in (0, 1], so the log is finite.
    const next = at - Math.log(1 - random()) * meanGapMs;
    if (model.durationMs !== undefined && next >= model.durationMs) {
      yield { kind: 'end', at: model.durationMs };
      return;
    }
    at = next;
    yield { kind: 'arrival', at };
  }
  yield { kind: 'end', at };
}

/**
 * Phased timeline. Each phase opens with a `phase` event. A `rate` phase places arrival n where the
 * expected arrival count (the area under the rate ramp, carried across phases) reaches n + 0.5, so
 * a phase gets the rounded area under its ramp and the spacing follows the ramp exactly. A `users`
 * phase emits a `users` target whenever round(from + (to - from) × t / duration) changes, which
 * keeps the user-seconds of a linear ramp exact. An `end` event closes the timeline.
 *
 * @example
 * [...phasedSchedule([{ name: 'sustain', durationMs: 1_000, from: 2, to: 2, unit: 'rate' }])]
 * // phase at 0, arrivals at 250 and 750, end at 1000
 */
export function* phasedSchedule(phases: readonly LoadPhase[]): Generator<ScheduleEvent, void, undefined> {
  let phaseStart = 0;
  let arrivalsBefore = 0;
  let nextArrival = 0;
  let usersHeld = false;
  for (const phase of phases) {
    if (phase.durationMs <= 0) continue;
    yield { kind: 'phase', at: phaseStart, name: phase.name };
    if (phase.unit === 'rate') {
      if (usersHeld) yield { kind: 'users', at: phaseStart, target: 0 };
      usersHeld = false;
      nextArrival = yield* rampArrivals(phase, phaseStart, arrivalsBefore, nextArrival);
      arrivalsBefore += phaseArrivals(phase);
    } else {
      usersHeld = true;
      yield* rampUsers(phase, phaseStart);
    }
    phaseStart += phase.durationMs;
  }
  yield { kind: 'end', at: phaseStart };
}

/** Expected arrivals of a `rate` phase: the area under its ramp. */
function phaseArrivals(phase: LoadPhase): number {
  return phase.unit === 'rate' ? ((phase.from + phase.to) / 2) * (phase.durationMs / 1000) : 0;
}

/** Yields the arrivals of one `rate` phase; returns the index of the first arrival after it. */
function* rampArrivals(phase: LoadPhase, phaseStart: number, arrivalsBefore: number, firstArrival: number): Generator<ScheduleEvent, number, undefined> {
  const seconds = phase.durationMs / 1000;
  const slope = (phase.to - phase.from) / seconds;
  const inPhase = phaseArrivals(phase);
  let n = firstArrival;
  for (; n + 0.5 - arrivalsBefore <= inPhase; n++) {
    const target = n + 0.5 - arrivalsBefore;
    // First t >= 0 with from·t + slope·t²/2 = target, in the form that stays stable as slope → 0.
    const t = (2 * target) / (phase.from + Math.sqrt(Math.max(0, phase.from ** 2 + 2 * slope * target)));
    yield { kind: 'arrival', at: phaseStart + Math.min(t, seconds) * 1000 };
  }
  return n;
}

function* rampUsers(phase: LoadPhase, phaseStart: number): Generator<ScheduleEvent, void, undefined> {
  const { from, to, durationMs } = phase;
  const first = Math.floor(from + 0.5);
  yield { kind: 'users', at: phaseStart, target: first };
  const last = Math.floor(to + 0.5);
  const step = last > first ? 1 : -1;
  // Going up, the target becomes m where the ramp crosses m - 0.5; going down, m - 1 there.
  for (let m = step > 0 ? first + 1 : first; step > 0 ? m <= last : m > last; m += step) {
    const t = ((m - 0.5 - from) / (to - from)) * durationMs;
    if (t >= durationMs) break;
    yield { kind: 'users', at: phaseStart + Math.max(0, t), target: step > 0 ? m : m - 1 };
  }
}

/**
 * The phase and target arrival rate `offsetMs` into a phased timeline; rate is undefined in a
 * `users` phase, and both are undefined once the timeline has ended.
 */
export function phasedRateAt(phases: readonly LoadPhase[], offsetMs: number): { phase: string | undefined; rate: number | undefined } {
  let phaseStart = 0;
  for (const phase of phases) {
    if (phase.durationMs <= 0) continue;
    if (offsetMs < phaseStart + phase.durationMs) {
      const progress = Math.max(0, offsetMs - phaseStart) / phase.durationMs;
      const rate = phase.unit === 'rate' ? phase.from + (phase.to - phase.from) * progress : undefined;
      return { phase: phase.name, rate };
    }
    phaseStart += phase.durationMs;
  }
  return { phase: undefined, rate: undefined };
}

/** Mean planned arrival rate of a phased timeline (arrivals per second over all phases), or null without `rate` phases. */
export function phasedTargetRate(phases: readonly LoadPhase[]): number | null {
  const totalMs = phases.reduce((sum, phase) => sum + Math.max(0, phase.durationMs), 0);
  if (totalMs === 0 || !phases.some((phase) => phase.unit === 'rate')) return null;
  const arrivals = phases.reduce((sum, phase) => sum + (phase.durationMs > 0 ? phaseArrivals(phase) : 0), 0);
  return arrivals / (totalMs / 1000);
}

/**
 * The planned timeline of `model`: closed users, phases, or Poisson arrivals drawn from `seed`;
 * undefined for the batched model, which is paced by its batches finishing, not by a timeline.
 */
export function scheduleOf(model: LoadModel, seed: number | null): Iterator<ScheduleEvent, void, undefined> | undefined {
  switch (model.kind) {
    case 'closed':
      return closedSchedule(model);
    case 'phased':
      return phasedSchedule(model.phases);
    case 'poisson':
      return poissonSchedule(model, createSeededRandom(seed ?? 0));
    case 'batched':
      return undefined;
  }
}
