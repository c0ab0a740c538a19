import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { capacityDurationFlag, parseRateStep, parseSloAchieved, parseTarget, resolveCapacityOptions } from './capacityOptions.ts';

describe('resolveCapacityOptions', () => {
  it('fills the full profile and the default SLO when no flag is given', () => {
    expect(resolveCapacityOptions({})).toEqual({
      target: 'local',
      slo: { success: 0.99, p95Ms: 2_000, achieved: 0.97, drops: 0 },
      startRate: 5,
      step: { kind: 'multiply', by: 1.5, text: '×1.5' },
      maxRate: 60,
      stepDurationMs: 30_000,
      bisectSteps: 3,
      blockTime: 0,
      s2kCountByte: 96,
      maxInFlight: 360,
      seed: 1,
      reuseStack: false,
      quick: false,
      resultsDir: 'results',
    });
  });

  it('takes the quick profile with --quick, and a flag given wins over it', () => {
    const quick = resolveCapacityOptions({ quick: true, bisectSteps: 0 });
    expect([quick.step.text, quick.stepDurationMs, quick.bisectSteps, quick.quick]).toEqual(['×2', 10_000, 0, true]);
  });

  it('sizes the in-flight cap from the max rate and the SLO p95 unless given', () => {
    expect(resolveCapacityOptions({ maxRate: 100, sloP95: 5_000 }).maxInFlight).toBe(1_500);
    expect(resolveCapacityOptions({ startRate: 1, maxRate: 1, sloP95: 500 }).maxInFlight).toBe(50);
    expect(resolveCapacityOptions({ maxInFlight: 7 }).maxInFlight).toBe(7);
  });

  it('raises the max rate to a start rate above the default, and takes the target config defaults for S2K and the results directory', () => {
    expect(resolveCapacityOptions({ startRate: 80 }).maxRate).toBe(80);
    const remote = resolveCapacityOptions({ target: 'remote' }, { s2kCountByte: 224, resultsDir: 'out' });
    expect([remote.s2kCountByte, remote.resultsDir]).toEqual([224, 'out']);
    expect(resolveCapacityOptions({ target: 'remote', s2kCountByte: 100, resultsDir: 'mine' }, { s2kCountByte: 224, resultsDir: 'out' })).toMatchObject({ s2kCountByte: 100, resultsDir: 'mine' });
  });

  it('error: a max rate below the start rate, a step without one arrival, and local-only flags on a remote target', () => {
    const message = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return `${(err as ConfigError).code}: ${(err as ConfigError).message}`;
      }
      throw new Error('expected a ConfigError');
    };
    expect(message(() => resolveCapacityOptions({ startRate: 10, maxRate: 5 }))).toBe('CAPACITY_FLAG_INVALID: --max-rate must be at least --start-rate (10), got 5');
    expect(message(() => resolveCapacityOptions({ startRate: 0.1, stepDuration: 2_000 }))).toBe(
      'CAPACITY_FLAG_INVALID: --start-rate × --step-duration must give at least one arrival per step, got 0.1/s × 2s',
    );
    expect(message(() => resolveCapacityOptions({ target: 'remote', blockTime: 1 }))).toBe(
      "CAPACITY_FLAG_INVALID: --block-time applies to the local stack only; the remote target's chain and services are its own (--target remote)",
    );
    expect(message(() => resolveCapacityOptions({ target: 'remote', reuseStack: true }))).toMatch(/^CAPACITY_FLAG_INVALID: --reuse-stack applies to the local stack only/);
  });
});

describe('flag parsers', () => {
  it('reads a rate step as a factor or an increment', () => {
    expect(parseRateStep('1.5x')).toEqual({ kind: 'multiply', by: 1.5, text: '×1.5' });
    expect(parseRateStep('x2')).toEqual({ kind: 'multiply', by: 2, text: '×2' });
    expect(parseRateStep('+5')).toEqual({ kind: 'add', by: 5, text: '+5/s' });
  });

  it('error: each parser names its flag and what it accepts', () => {
    const thrown = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        return (err as Error).message;
      }
      throw new Error('expected an InvalidArgumentError');
    };
    expect(thrown(() => parseRateStep('1x'))).toBe('--step must be a factor above 1 such as "1.5x" or an increment such as "+5", got "1x"');
    expect(thrown(() => parseRateStep('+0'))).toBe('--step must be a factor above 1 such as "1.5x" or an increment such as "+5", got "+0"');
    expect(thrown(() => parseTarget('mainnet'))).toBe('--target must be local or remote, got "mainnet"');
    expect(thrown(() => parseSloAchieved('0'))).toBe('--slo-achieved must be a number in (0, 1], got "0"');
    expect(thrown(() => parseSloAchieved('1.01'))).toBe('--slo-achieved must be a number in (0, 1], got "1.01"');
    expect(parseSloAchieved('0.9')).toBe(0.9);
    expect(thrown(() => capacityDurationFlag('--step-duration', 1_000, 3_600_000)('500ms'))).toBe('--step-duration must be a duration (e.g. 500ms, 90s, 2m) in [1s, 1h], got "500ms"');
    expect(capacityDurationFlag('--slo-p95', 1, 3_600_000)('1m30s')).toBe(90_000);
  });
});
