/**
 * The config a capacity search runs its steps with, decided at the door.
 *
 * - **Local target** (default): hermetic. `.env` and `VANA_*` are not read, so the figures depend on
 *   the command alone: a local stack with its defaults, relayed, sim inference with zero latency
 *   and no injected failures, and the block time and S2K of the flags.
 * - **Remote target** (`--target remote`): the target's settings (RPC, contracts, personal server,
 *   storage, keys, relay and inference modes, data size, timeouts) come from `.env` and the
 *   environment as for any run. `VANA_TARGET` is not read: only the flag makes a search remote.
 */
import { flagAttribute } from '../config/configOptions.ts';
import { loadConfig, type ConfigEnv } from '../config/loadConfig.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { resolveCapacityOptions, type CapacityFlags } from './capacityOptions.ts';
import type { CapacityOptions } from './types.ts';

export interface LoadCapacityConfigParameters {
  flags: CapacityFlags;
  /** Read for a remote target only; default `process.env`. */
  env?: ConfigEnv;
  /** Read for a remote target only; default `.env`, skipped when missing. */
  envFile?: string | { path: string; optional: boolean };
}

export interface LoadCapacityConfigReturnType {
  options: Readonly<CapacityOptions>;
  config: Readonly<VanaLoadConfig>;
}

/** A flushed step's flows are discarded anyway: a Ctrl-C'd step does not wait long for them. */
const SHUTDOWN_GRACE = '10s';

/**
 * Resolves the flags and loads the config; see the module comment. Throws a `ConfigError`
 * (exit 2) for a bad flag, a bad `.env` or a remote target missing a setting.
 *
 * @example
 * const { options, config } = loadCapacityConfig({ flags: { quick: true } });
 */
export function loadCapacityConfig({ flags, env = process.env, envFile = { path: '.env', optional: true } }: LoadCapacityConfigParameters): LoadCapacityConfigReturnType {
  const flag = flagAttribute;
  if (flags.target === 'remote') {
    // The flags alone first: a flag mistake is named before any missing remote setting.
    resolveCapacityOptions(flags);
    const remote = loadConfig({ env, envFile, flags: { [flag('--target')]: 'remote', ...(flags.s2kCountByte !== undefined ? { [flag('--s2k-count-byte')]: String(flags.s2kCountByte) } : {}) } });
    const options = resolveCapacityOptions(flags, {
      ...(remote.data.s2kCountByte !== undefined ? { s2kCountByte: remote.data.s2kCountByte } : {}),
      resultsDir: remote.output.resultsDir,
    });
    return { options, config: { ...remote, data: { ...remote.data, s2kCountByte: options.s2kCountByte } } };
  }
  const options = resolveCapacityOptions(flags);
  const config = loadConfig({
    env: {},
    flags: {
      [flag('--target')]: 'local',
      [flag('--block-time')]: String(options.blockTime),
      [flag('--s2k-count-byte')]: String(options.s2kCountByte),
      [flag('--inference-backend')]: 'sim',
      [flag('--sim-latency-p50')]: '0',
      [flag('--sim-latency-p95')]: '0',
      [flag('--shutdown-grace')]: SHUTDOWN_GRACE,
    },
  });
  return { options, config };
}
