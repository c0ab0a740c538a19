import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadAsRun } from '../load/loadAsRun.ts';
import { prepareMilestone, type MilestoneDefinition } from './defineMilestone.ts';
import { ms02 } from './ms02.ts';
import { ms03 } from './ms03.ts';
import { ms04 } from './ms04.ts';
import { ms05 } from './ms05.ts';

const NO_FILE = { path: '/nonexistent/.env', optional: true };

function prepare<Own extends object>(definition: MilestoneDefinition<Own>, args: string[], env: Record<string, string> = {}) {
  return prepareMilestone(definition, ['node', definition.command, ...args], { env, envFile: NO_FILE });
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.shortMessage;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('prepareMilestone', () => {
  it("takes the README's defaults when nothing is set", () => {
    expect(prepare(ms05, []).model).toEqual({ kind: 'poisson', rate: 2.5, users: 2_000, maxInFlight: 200 });
    expect(prepare(ms05, ['--quick']).model).toEqual({ kind: 'poisson', rate: 20, users: 1_000, maxInFlight: 200 });
    expect(prepare(ms03, []).model).toEqual({ kind: 'closed', users: 25, iterations: 1 });
    expect(prepare(ms05, []).config.data.s2kCountByte).toBe(96);
  });

  it('lets the environment beat a milestone default and a flag beat the environment', () => {
    expect(prepare(ms05, [], { VANA_USERS: '3', VANA_RATE: '0.5', VANA_MAX_IN_FLIGHT: '7' }).model).toMatchObject({ users: 3, rate: 0.5, maxInFlight: 7 });
    expect(prepare(ms05, ['--users', '9', '--quick'], { VANA_USERS: '3' }).model).toMatchObject({ users: 9, rate: 20 });
    expect(prepare(ms05, [], { VANA_S2K_COUNT_BYTE: '224' }).config.data.s2kCountByte).toBe(224);
  });

  it('runs MS-03 with the users the user named, by any of its three names', () => {
    expect(prepare(ms03, [], { VANA_CONCURRENCY: '4' }).model).toMatchObject({ users: 4 });
    expect(prepare(ms03, [], { VANA_USERS: '6' }).model).toMatchObject({ users: 6 });
    expect(prepare(ms03, ['--concurrent', '8'], { VANA_USERS: '3' }).model).toMatchObject({ users: 8 });
    expect(prepare(ms03, ['--duration', '30s', '--staggered-start'], { VANA_CONCURRENCY: '5' }).model).toEqual({ kind: 'closed', users: 5, iterations: 0, durationMs: 30_000, staggerMs: 200 });
  });

  it('switches MS-04 to an arrival rate when a rate is given, capped by --max-in-flight', () => {
    const model = prepare(ms04, ['--max-in-flight', '30'], { VANA_RATE: '2' }).model;
    expect(model).toMatchObject({ kind: 'phased', maxInFlight: 30, totalUsers: 200 });
    expect(model.kind === 'phased' && model.phases.map((p) => [p.unit, p.to])).toEqual([
      ['rate', 2],
      ['rate', 2],
      ['rate', 0],
    ]);
    expect(prepare(ms04, ['--batch-size', '5', '--users', '20']).model).toEqual({ kind: 'batched', users: 20, batchSize: 5, delayMs: 2_000 });
  });

  it('records the load as run: every field the summary will show is one the model used', () => {
    const { model, config } = prepare(ms05, ['--quick', '--seed', '4']);
    expect(loadAsRun(model, config.load.seed)).toEqual({ model: 'poisson', rate: 20, users: 1_000, maxInFlight: 200, seed: 4 });
  });

  it('error: a value from any layer is checked, naming where it came from', () => {
    expect(refusal(() => prepare(ms05, [], { VANA_USERS: 'abc' }))).toBe('VANA_USERS (--users) must be an integer in [1, 1000000], got "abc"');
    expect(refusal(() => prepare(ms04, [], { VANA_RAMP_UP: 'soon' }))).toMatch(/^VANA_RAMP_UP \(--ramp-up\) must be/);
  });

  it('error: a load flag the milestone would not use, or would override, is refused', () => {
    expect(refusal(() => prepare(ms05, ['--concurrency', '1500']))).toBe('--concurrency is not used by MS-05 (its poisson model)');
    expect(refusal(() => prepare(ms04, ['--rate', '5', '--concurrency', '10']))).toBe('--concurrency is not used by MS-04 (its phased model)');
    expect(refusal(() => prepare(ms02, ['--users', '4']))).toBe('--users 4 is not what MS-02 runs: 1');
    expect(refusal(() => prepare(ms03, ['--concurrent', '5', '--users', '9']))).toBe('--users 9 is not what MS-03 runs: 5');
  });

  it('error: MS-03 refuses users and concurrency that disagree', () => {
    expect(refusal(() => prepare(ms03, [], { VANA_USERS: '4', VANA_CONCURRENCY: '3' }))).toMatch(/^MS-03 runs one user per concurrent slot/);
  });
});
