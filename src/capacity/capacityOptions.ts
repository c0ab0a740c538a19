/**
 * The flags of `vana-load capacity`, checked at the door: each flag's own parser (for commander,
 * an `InvalidArgumentError` names the flag and what it accepts) and `resolveCapacityOptions` for
 * what depends on several flags and on the profile. Nothing here starts anything.
 */
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../errors.ts';
import { duration } from '../config/parsers.ts';
import { MS05_S2K_COUNT_BYTE } from '../milestones/ms05.ts';
import type { CapacityOptions, RateStep } from './types.ts';

/** The search of a full run and of `--quick`; flags given win over either. */
export const CAPACITY_PROFILES = {
  full: { startRate: 5, step: '1.5x', maxRate: 60, stepDurationMs: 30_000, bisectSteps: 3 },
  quick: { startRate: 5, step: '2x', maxRate: 60, stepDurationMs: 10_000, bisectSteps: 2 },
} as const;

/** The SLO a step must meet unless flags say otherwise. */
export const DEFAULT_SLO = { success: 0.99, p95Ms: 2_000, achieved: 0.97, drops: 0 } as const;

/** Flag values as commander hands them over, each already parsed by its own parser below. */
export interface CapacityFlags {
  target?: 'local' | 'remote';
  sloSuccess?: number;
  /** ms */
  sloP95?: number;
  sloAchieved?: number;
  sloDrops?: number;
  startRate?: number;
  step?: RateStep;
  maxRate?: number;
  /** ms */
  stepDuration?: number;
  bisectSteps?: number;
  blockTime?: number;
  s2kCountByte?: number;
  maxInFlight?: number;
  seed?: number;
  reuseStack?: boolean;
  quick?: boolean;
  resultsDir?: string;
}

const invalid = (flag: string, expected: string, value: string): InvalidArgumentError =>
  new InvalidArgumentError(`${flag} must be ${expected}, got "${value}"`);

/** `--slo-achieved`: a fraction of the target rate in (0, 1]. */
export function parseSloAchieved(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= 1)) throw invalid('--slo-achieved', 'a number in (0, 1]', value);
  return n;
}

/** `--step`: a factor above 1 (`1.5x`, `x2`) or an increment above 0 (`+5`). */
export function parseRateStep(value: string): RateStep {
  const text = value.trim();
  const factor = /^(?:[x*](\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)x)$/i.exec(text);
  const by = Number(factor?.[1] ?? factor?.[2]);
  if (factor && by > 1) return { kind: 'multiply', by, text: `×${by}` };
  const increment = /^\+(\d+(?:\.\d+)?)$/.exec(text);
  if (increment && Number(increment[1]) > 0) return { kind: 'add', by: Number(increment[1]), text: `+${Number(increment[1])}/s` };
  throw invalid('--step', 'a factor above 1 such as "1.5x" or an increment such as "+5"', value);
}

/** `--target`: local or remote. */
export function parseTarget(value: string): 'local' | 'remote' {
  if (value === 'local' || value === 'remote') return value;
  throw invalid('--target', 'local or remote', value);
}

/** A duration flag (`500ms`, `2s`, `1m30s`) in [minMs, maxMs], as milliseconds. */
export function capacityDurationFlag(flag: string, minMs: number, maxMs: number) {
  const parser = duration(minMs, maxMs);
  return (value: string): number => {
    const parsed = parser.parse(value.trim());
    if (!parsed.ok) throw invalid(flag, parser.expected, value);
    return parsed.value;
  };
}

const usage = (message: string): ConfigError => new ConfigError(message, { code: 'CAPACITY_FLAG_INVALID' });

/** Defaults that come from the target's config rather than from the profile. */
export interface CapacityDefaults {
  /** Default 96 (MS-05's); a remote target's `VANA_S2K_COUNT_BYTE` when set. */
  s2kCountByte?: number;
  /** Default `results`; a remote target's `VANA_RESULTS_DIR`. */
  resultsDir?: string;
}

/**
 * The search's options from its flags: the profile (`--quick` or full) fills what was not given,
 * then the checks that need several flags. Throws a `ConfigError` (exit 2) naming the flags.
 *
 * @example
 * const options = resolveCapacityOptions({ quick: true, sloP95: 1_000 });
 * options.stepDurationMs; // 10_000
 */
export function resolveCapacityOptions(flags: CapacityFlags, defaults: CapacityDefaults = {}): Readonly<CapacityOptions> {
  const target = flags.target ?? 'local';
  if (target === 'remote') {
    for (const [key, flag] of [['blockTime', '--block-time'], ['reuseStack', '--reuse-stack']] as const) {
      if (flags[key] !== undefined) throw usage(`${flag} applies to the local stack only; the remote target's chain and services are its own (--target remote)`);
    }
  }
  const profile = flags.quick ? CAPACITY_PROFILES.quick : CAPACITY_PROFILES.full;
  const startRate = flags.startRate ?? profile.startRate;
  const maxRate = flags.maxRate ?? Math.max(profile.maxRate, startRate);
  if (maxRate < startRate) throw usage(`--max-rate must be at least --start-rate (${startRate}), got ${maxRate}`);
  const stepDurationMs = flags.stepDuration ?? profile.stepDurationMs;
  if (Math.round(startRate * (stepDurationMs / 1000)) < 1) {
    throw usage(`--start-rate × --step-duration must give at least one arrival per step, got ${startRate}/s × ${stepDurationMs / 1000}s`);
  }
  const p95Ms = flags.sloP95 ?? DEFAULT_SLO.p95Ms;
  return Object.freeze({
    target,
    slo: Object.freeze({
      success: flags.sloSuccess ?? DEFAULT_SLO.success,
      p95Ms,
      achieved: flags.sloAchieved ?? DEFAULT_SLO.achieved,
      drops: flags.sloDrops ?? DEFAULT_SLO.drops,
    }),
    startRate,
    step: flags.step ?? parseRateStep(profile.step),
    maxRate,
    stepDurationMs,
    bisectSteps: flags.bisectSteps ?? profile.bisectSteps,
    blockTime: flags.blockTime ?? 0,
    s2kCountByte: flags.s2kCountByte ?? defaults.s2kCountByte ?? MS05_S2K_COUNT_BYTE,
    // High enough not to bind while the p95 SLO holds (in flight ≈ rate × e2e, with Poisson bursts on top).
    maxInFlight: flags.maxInFlight ?? Math.max(50, Math.ceil(3 * maxRate * (p95Ms / 1000))),
    seed: flags.seed ?? 1,
    reuseStack: flags.reuseStack === true,
    quick: flags.quick === true,
    resultsDir: flags.resultsDir ?? defaults.resultsDir ?? 'results',
  });
}
