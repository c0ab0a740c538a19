/**
 * The engine's settings: the harness config (`loadConfig`: defaults ← preset ← `.env` ←
 * environment ← the script's `config.vana` block, which plays the part of the CLI flags) and the
 * few keys only the engine has. Checked once, when a worker constructs the engine.
 *
 * ```yaml
 * config:
 *   engines: { vana: {} }
 *   vana:
 *     manifest: .vana-load/stack.json   # local target: the running stack every worker attaches to
 *     relay: api                        # any vana-load config flag, without its dashes
 *     data-size: small
 * ```
 */
import { resolve } from 'node:path';
import { ConfigError, configOptions, DEFAULT_MANIFEST_PATH, loadConfig, type ConfigFlags, type VanaLoadConfig } from './harness.ts';

/** Keys of `config.vana` that are the engine's own rather than config flags. */
export const ENGINE_KEYS = ['manifest', 'env-file'] as const;

export interface EngineSettings {
  config: Readonly<VanaLoadConfig>;
  /** Absolute path of the stack manifest the local target attaches to. */
  manifestPath: string;
}

export interface ResolveEngineSettingsParameters {
  /** `script.config.vana`, as Artillery parsed it (YAML or JSON). */
  block: unknown;
  env?: Readonly<Record<string, string | undefined>>;
  /** Relative paths (`manifest`, `env-file`) resolve from here: Artillery's working directory. */
  cwd?: string;
}

/**
 * Validates `config.vana` and loads the harness config with it. Throws a `ConfigError` for an
 * unknown key, a secret written into the script, a value the config refuses, or a relay mode the
 * engine cannot run across workers (see `checkDistributable`).
 *
 * @example
 * const { config, manifestPath } = resolveEngineSettings({ block: script.config.vana });
 */
export function resolveEngineSettings({ block = {}, env = process.env, cwd = process.cwd() }: ResolveEngineSettingsParameters): EngineSettings {
  if (block === null || typeof block !== 'object' || Array.isArray(block)) {
    throw new ConfigError(`Expected config.vana to be a mapping of settings, got ${Array.isArray(block) ? 'a list' : JSON.stringify(block)}`, {
      code: 'ARTILLERY_SETTINGS_INVALID',
    });
  }
  const options = new Map(configOptions().map((o) => [o.flag.slice(2), o]));
  const flags: Record<string, string> = {};
  let manifest = DEFAULT_MANIFEST_PATH;
  let envFile = '.env';
  for (const [key, value] of Object.entries(block)) {
    if (value === null || !['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ConfigError(`config.vana.${key} must be a string, number or boolean, got ${JSON.stringify(value)}`, { code: 'ARTILLERY_SETTINGS_INVALID' });
    }
    if (key === 'manifest') {
      manifest = String(value);
      continue;
    }
    if (key === 'env-file') {
      envFile = String(value);
      continue;
    }
    const option = options.get(key);
    if (!option) {
      throw new ConfigError(`Unknown key config.vana.${key}`, {
        code: 'ARTILLERY_SETTINGS_INVALID',
        metaMessages: [`expected: ${ENGINE_KEYS.join(', ')} or a vana-load config flag without its dashes (relay, inference, data-size, http-timeout, ...)`],
      });
    }
    if (option.secret) {
      // The script travels: Artillery uploads it to S3 for Fargate and Lambda workers.
      throw new ConfigError(`config.vana.${key} is a secret and must not be written into the Artillery script`, {
        code: 'ARTILLERY_SECRET_IN_SCRIPT',
        metaMessages: [`fix: set ${option.env} in the environment or .env (artillery run-fargate --dotenv .env, or --secret)`],
      });
    }
    flags[option.attribute] = String(value);
  }
  const config = loadConfig({ env, envFile: { path: resolve(cwd, envFile), optional: true }, flags: flags as ConfigFlags });
  checkDistributable(config);
  return { config, manifestPath: resolve(cwd, manifest) };
}

/**
 * Refuses the relay modes whose keys would be shared by every worker. In `keys` mode each worker
 * would run its own relayer pool over the same relayer keys, and two pools sending from one key
 * collide on its nonce; Artillery gives Fargate and Lambda workers no index to split the keys by.
 * `direct` mode needs funded users, and a funder key shared by every worker collides the same way.
 * `api` mode leaves the keys to the app's relayer, one service that owns its nonces.
 */
export function checkDistributable(config: Readonly<VanaLoadConfig>): void {
  const mode = config.relay.mode;
  if (mode === 'api') return;
  const why =
    mode === 'keys'
      ? 'relay keys runs a relayer pool inside each Artillery worker: two workers sending from the same relayer key collide on its nonce, and Fargate/Lambda workers have no index to split the keys by'
      : 'relay direct needs funded users, funded from one funder key: two workers funding from it collide on its nonce';
  throw new ConfigError(`The Artillery engine runs relay mode api only, got ${mode}: ${why}`, {
    code: 'ARTILLERY_RELAY_MODE_UNSUPPORTED',
    metaMessages: [`fix: use relay api (an app relayer that owns its keys; the local stack's /api/relay is one), or run ${mode} mode with vana-load's own runner (one process)`],
  });
}
