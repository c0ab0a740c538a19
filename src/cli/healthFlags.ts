/**
 * The generator-health flags (the config table's `health.*` fields plus `--no-health-check`) on
 * commands that load no full config: `vana-load report` judges a finished run again with them.
 */
import type { Command } from 'commander';
import { configOptions } from '../config/configOptions.ts';
import { CONFIG_FIELDS, fieldLabel } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { HealthLimits, HealthSettings } from '../metrics/healthLimits.ts';

/** Help of `--no-health-check`, on every command that has `--health-check`. */
export const NO_HEALTH_CHECK_HELP = 'same as --health-check false: generator-health figures are kept, but a harness that fell behind does not make the run INVALID';

/**
 * Registers `--health-check`, `--max-scheduler-lag-p99`, ... and `--no-health-check`.
 *
 * @example
 * addHealthOptions(program.command('report'));
 */
export function addHealthOptions(command: Command): Command {
  for (const option of configOptions()) if (option.key.startsWith('health.')) command.option(option.flags, option.help);
  return command.option('--no-health-check', NO_HEALTH_CHECK_HELP);
}

/** What the health flags given change; the rest comes from elsewhere (the run's own summary). */
export interface HealthOverrides {
  enabled?: boolean;
  limits: Partial<HealthLimits>;
}

/**
 * Parses the health flags given in commander's `opts()`, with the config table's parsers; a bad
 * value is a `ConfigError` (exit 2) naming the flag and the accepted values.
 *
 * @example
 * healthOverrides({ maxEventLoopLag: '1s' }); // { limits: { eventLoopLagMaxMs: 1000 } }
 */
export function healthOverrides(opts: Readonly<Record<string, unknown>>): HealthOverrides {
  const overrides: HealthOverrides = { limits: {} };
  for (const option of configOptions()) {
    if (!option.key.startsWith('health.')) continue;
    const value = opts[option.attribute];
    if (value === undefined) continue;
    const field = CONFIG_FIELDS.find((f) => f.key === option.key)!;
    const parsed = field.spec.parser.parse(String(value).trim());
    if (!parsed.ok) throw new ConfigError(`${fieldLabel(field.spec)} must be ${field.spec.parser.expected}, got ${JSON.stringify(String(value))}`, { code: 'CONFIG_INVALID' });
    if (field.name === 'check') overrides.enabled = parsed.value as boolean;
    else overrides.limits[field.name as keyof HealthLimits] = parsed.value as number;
  }
  return overrides;
}

/** `base` with `overrides` over it. */
export function applyHealthOverrides(base: HealthSettings, overrides: HealthOverrides): HealthSettings {
  return { enabled: overrides.enabled ?? base.enabled, limits: { ...base.limits, ...overrides.limits } };
}
