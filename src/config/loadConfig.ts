import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError } from '../errors.ts';
import { flagAttribute } from './configOptions.ts';
import { invalidEnvLine } from './invalidEnvLine.ts';
import { isKnownMainnet, KNOWN_MAINNETS } from './isKnownMainnet.ts';
import type { PresetName } from './presetNames.ts';
import { PRESETS, type ConfigOverrides } from './presets.ts';
import { CONFIG_FIELDS, configField, fieldLabel, type ConfigField, type ConfigKey, type VanaLoadConfig } from './schema.ts';

/** Environment variables as `process.env` holds them. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** Parsed CLI flags keyed by commander attribute name (`program.opts()`). */
export type ConfigFlags = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where `loadConfig` reads from; every source is optional. */
export interface LoadConfigParameters {
  /** Environment to read; default `process.env`. Never written to. */
  env?: ConfigEnv;
  /**
   * A dotenv file to read (it is parsed, never loaded into `process.env`). A plain path must
   * exist; `{ path, optional: true }` is skipped when missing (the CLI's `.env`).
   */
  envFile?: string | { path: string; optional: boolean };
  /** Flag values by commander attribute name; keys that are not config flags are ignored. */
  flags?: ConfigFlags;
  /** Preset used when neither flags, environment nor `.env` name one. */
  preset?: PresetName;
  /**
   * Values a caller (a milestone) uses unless a preset, `.env`, the environment or a flag sets
   * them: the layer just above the table's defaults.
   */
  defaults?: ConfigOverrides;
}

interface RawValue {
  raw: string;
  /** Where the text came from, for the error message. */
  from: string;
  source: ConfigSource;
}

/** Which layer a config value came from. */
export type ConfigSource = 'flag' | 'environment' | 'env_file' | 'preset' | 'caller' | 'default';

/** Whether the user set a value (a flag, the environment, `.env` or a preset), not a default of ours or of the caller. */
export const isUserGiven = (source: ConfigSource): boolean => source !== 'default' && source !== 'caller';

/** A loaded config and, per field, the layer its value came from. */
export interface LoadedConfig {
  config: Readonly<VanaLoadConfig>;
  sources: Readonly<Record<ConfigKey, ConfigSource>>;
}

/**
 * `loadConfig` that also says where each value came from: a milestone tells a value the user set
 * from its own default (MS-03's `--concurrent` beside `VANA_USERS`), and refuses a flag it would
 * not use.
 *
 * @example
 * const { config, sources } = loadConfigWithSources({ flags: { rate: '5' } });
 * sources['load.rate']; // 'flag'
 */
export function loadConfigWithSources(params: LoadConfigParameters = {}): LoadedConfig {
  const sources = {} as Record<ConfigKey, ConfigSource>;
  const config = loadConfigInto(params, sources);
  return { config, sources };
}

/**
 * Builds the one validated, deep-frozen config: defaults ← the caller's defaults (a milestone's) ←
 * preset ← `.env` file ← environment ← flags. Empty values count as unset. Fails with a `ConfigError` (exit code 2) naming the env
 * var and the flag and the accepted values; secrets are never echoed.
 *
 * @example
 * const config = loadConfig({ env: process.env, envFile: { path: '.env', optional: true }, flags: program.opts() });
 * config.load.concurrency; // 10
 */
export function loadConfig(params: LoadConfigParameters = {}): Readonly<VanaLoadConfig> {
  return loadConfigInto(params, {} as Record<ConfigKey, ConfigSource>);
}

function loadConfigInto({ env = process.env, envFile, flags = {}, preset, defaults = {} }: LoadConfigParameters, sources: Record<ConfigKey, ConfigSource>): Readonly<VanaLoadConfig> {
  const fileVars = envFile === undefined ? {} : readEnvFile(envFile);
  const filePath = typeof envFile === 'string' ? envFile : envFile?.path;

  const rawValue = ({ spec }: ConfigField): RawValue | undefined => {
    const flagValue = flags[flagAttribute(spec.flag)];
    if (flagValue !== undefined && String(flagValue).trim() !== '') return { raw: String(flagValue).trim(), from: `flag ${spec.flag}`, source: 'flag' };
    const envValue = env[spec.env]?.trim();
    if (envValue) return { raw: envValue, from: 'environment', source: 'environment' };
    const fileValue = fileVars[spec.env]?.trim();
    if (fileValue) return { raw: fileValue, from: `.env file ${filePath}`, source: 'env_file' };
    return undefined;
  };

  const presetField = configField('target.preset');
  const presetRaw = rawValue(presetField);
  const presetName = presetRaw ? (parseField(presetField, presetRaw) as PresetName) : preset;
  if (presetName !== undefined && !Object.hasOwn(PRESETS, presetName)) {
    throw new ConfigError(`Expected preset to be ${presetField.spec.parser.expected}, got ${JSON.stringify(presetName)}`);
  }
  const overrides = presetName === undefined ? {} : PRESETS[presetName];

  const groups: Record<string, Record<string, unknown>> = {};
  for (const field of CONFIG_FIELDS) {
    const raw = rawValue(field);
    const presetGroup: Readonly<Record<string, unknown>> | undefined = overrides[field.group];
    const defaultGroup: Readonly<Record<string, unknown>> | undefined = defaults[field.group];
    let value: unknown;
    if (field.key === 'target.preset') {
      value = presetName;
      sources[field.key] = presetRaw?.source ?? (presetName === undefined ? 'default' : 'caller');
    } else if (raw) {
      value = parseField(field, raw);
      sources[field.key] = raw.source;
    } else if (presetGroup && Object.hasOwn(presetGroup, field.name)) {
      value = presetGroup[field.name];
      sources[field.key] = 'preset';
    } else if (defaultGroup && Object.hasOwn(defaultGroup, field.name)) {
      value = defaultGroup[field.name];
      sources[field.key] = 'caller';
    } else {
      value = field.spec.default;
      sources[field.key] = 'default';
    }
    (groups[field.group] ??= {})[field.name] = value;
  }
  // The table and the loop above guarantee every key of every group is present and typed.
  const config = groups as unknown as VanaLoadConfig;
  checkRequired(config);
  checkConsistency(config, sources);
  return deepFreeze(config);
}

function readEnvFile(envFile: string | { path: string; optional: boolean }): Record<string, string> {
  const { path, optional } = typeof envFile === 'string' ? { path: envFile, optional: false } : envFile;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`Cannot read the .env file ${path}: ${(err as Error).message}`, { code: 'CONFIG_ENV_FILE', cause: err });
  }
  const text = envFileText(bytes, path);
  const vars = parseDotenv(text);
  // A typo in a file we were told to read would otherwise be silently ignored. The process
  // environment is not checked: other tools may own VANA_* names there.
  const known = new Set(CONFIG_FIELDS.map((f) => f.spec.env));
  for (const name of Object.keys(vars)) {
    if (!name.startsWith('VANA_') || known.has(name)) continue;
    const suggestion = closestName(name, [...known]);
    throw new ConfigError(`Unknown variable ${name} in the .env file ${path}`, {
      code: 'CONFIG_UNKNOWN_VARIABLE',
      metaMessages: [...(suggestion ? [`Did you mean ${suggestion}?`] : []), 'Every variable is listed in .env.example.'],
    });
  }
  return vars;
}

/**
 * The text of a `.env` file, refused (exit 2, with the line number) when it is not UTF-8 text or a
 * line is not blank, a comment or `KEY=value`: dotenv would skip such a line without a word. The
 * line itself is never shown, as it may hold a secret; only a config variable name it starts with.
 */
function envFileText(bytes: Buffer, path: string): string {
  const lineOf = (offset: number): number => bytes.subarray(0, offset).filter((byte) => byte === 0x0a).length + 1;
  const expected = 'expected a text file of KEY=VALUE lines, # comments and blank lines';
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new ConfigError(`The .env file ${path} is not text (a NUL byte on line ${lineOf(nul)}): ${expected}`, { code: 'CONFIG_ENV_FILE_SYNTAX' });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ConfigError(`The .env file ${path} is not UTF-8 text: ${expected}`, { code: 'CONFIG_ENV_FILE_SYNTAX', cause: err });
  }
  const invalid = invalidEnvLine(text);
  if (invalid !== undefined) {
    const name = /^\s*(?:export\s+)?([A-Za-z_][\w.-]*)/.exec(invalid.text)?.[1];
    const known = name !== undefined && CONFIG_FIELDS.some((f) => f.spec.env === name) ? ` (it starts with ${name})` : '';
    throw new ConfigError(`Line ${invalid.line} of the .env file ${path}${known} is not a setting: expected KEY=VALUE, a # comment or a blank line`, {
      code: 'CONFIG_ENV_FILE_SYNTAX',
    });
  }
  return text;
}

function parseField(field: ConfigField, { raw, from }: RawValue): unknown {
  const result = field.spec.parser.parse(raw);
  if (result.ok) return result.value;
  const shown = field.spec.secret ? '[redacted]' : JSON.stringify(raw);
  const detail = result.detail === undefined ? '' : ` (${result.detail})`;
  throw new ConfigError(`${fieldLabel(field.spec)} must be ${field.spec.parser.expected}, got ${shown}${detail}`, {
    metaMessages: [`from: ${from}`],
  });
}

function isSet(value: unknown): boolean {
  return value !== undefined && !(Array.isArray(value) && value.length === 0);
}

function valueAt(config: VanaLoadConfig, key: ConfigKey): unknown {
  const [group, name] = key.split('.') as [keyof VanaLoadConfig, string];
  return (config[group] as Readonly<Record<string, unknown>>)[name];
}

// Every missing setting is named in one error, so a remote setup is fixed in one go.
function checkRequired(config: VanaLoadConfig): void {
  // Each entry needs one of its keys set (most need exactly one).
  const required: Array<{ keys: readonly ConfigKey[]; because: string }> = [];
  const need = (because: string, ...keys: ConfigKey[]) => required.push({ keys, because });
  const remote = config.target.kind === 'remote';
  if (remote) {
    const because = 'the target is remote';
    for (const key of ['chain.rpcUrls', 'contracts.permissionsAddress', 'services.personalServerUrl', 'wallets.mnemonic'] as const) need(because, key);
    need(`${because} (the grantee id is looked up from the app key's address)`, 'contracts.granteeId', 'wallets.appPrivateKey');
    if (config.storage.provider === 'local') need('the target is remote with storage provider local', 'storage.url');
    if (config.relay.mode === 'api') need('the relay mode is api (the relayer URL defaults to the API URL + /api/relay)', 'relay.url', 'services.apiUrl');
    if (config.relay.mode === 'keys') need('the relay mode is keys', 'wallets.relayerPrivateKeys');
    if (config.relay.mode === 'direct') {
      for (const key of ['wallets.funderPrivateKey', 'contracts.batchFunderAddress'] as const) need('the relay mode is direct on a remote target (user wallets are funded by the funder)', key);
    }
    if (config.inference.mode === 'proxy') need('the inference mode is proxy', 'services.apiUrl');
    if (config.inference.mode === 'personal-server') need('the inference mode is personal-server (the app key signs operation requests)', 'wallets.appPrivateKey');
    if (config.storage.grantStorage === 'relayer') need('grant storage is relayer', 'relay.url', 'services.apiUrl');
  }
  if (config.storage.provider === 's3') {
    for (const key of ['storage.s3Bucket', 'storage.s3AccessKeyId', 'storage.s3SecretAccessKey'] as const) need('the storage provider is s3', key);
  }
  const unmet = required.filter(({ keys }) => !keys.some((key) => isSet(valueAt(config, key))));
  // "A or B" goes when B alone is missing too: naming B covers both.
  const missing = unmet.filter((m) => !unmet.some((o) => o.keys.length < m.keys.length && o.keys.every((k) => m.keys.includes(k))));
  if (missing.length === 0) return;
  const names = [...new Set(missing.map(({ keys }) => keys.map((key) => fieldLabel(configField(key).spec)).join(' or ')))];
  throw new ConfigError(`Missing required settings: ${names.join(', ')}`, {
    code: 'CONFIG_MISSING',
    metaMessages: missing.map(({ keys, because }) => `${keys.map((key) => fieldLabel(configField(key).spec)).join(' or ')}, needed as ${because}: ${configField(keys[0]!).spec.description}`),
  });
}

function conflict(message: string): ConfigError {
  return new ConfigError(message, { code: 'CONFIG_CONFLICT' });
}

function label(key: ConfigKey): string {
  return fieldLabel(configField(key).spec);
}

function formatted(key: ConfigKey, value: unknown): string {
  return configField(key).spec.parser.format(value);
}

function checkConsistency(config: VanaLoadConfig, sources: Readonly<Record<ConfigKey, ConfigSource>>): void {
  const given = (key: ConfigKey) => isUserGiven(sources[key]);
  const { chain, load, retry, stack, target, timeouts, wallets } = config;
  if (target.kind === 'remote' && isKnownMainnet(chain.chainId) && !wallets.allowMainnet) {
    throw conflict(
      `${label('chain.chainId')} is ${chain.chainId} (${KNOWN_MAINNETS[chain.chainId]}): a load test there spends real money; pass ${label('wallets.allowMainnet')} if you mean it`,
    );
  }
  // Two flows of one user would sign with the same on-chain nonce and one would revert. Only
  // values a user gave can conflict: a milestone derives the other from the one given (MS-03).
  if (load.model === 'closed' && load.concurrency > load.users && given('load.concurrency') && given('load.users')) {
    throw conflict(
      `${label('load.concurrency')} must be at most ${label('load.users')} (${load.users}) with the closed model, as one user's flows never overlap, got ${load.concurrency}`,
    );
  }
  if (load.model === 'phased' && load.rampUpMs + load.sustainMs + load.rampDownMs === 0) {
    throw conflict(`The phased model needs a non-zero ${label('load.rampUpMs')}, ${label('load.sustainMs')} or ${label('load.rampDownMs')}`);
  }
  if (retry.baseDelayMs > retry.maxDelayMs) {
    throw conflict(
      `${label('retry.baseDelayMs')} must be at most ${label('retry.maxDelayMs')} (${formatted('retry.maxDelayMs', retry.maxDelayMs)}), got ${formatted('retry.baseDelayMs', retry.baseDelayMs)}`,
    );
  }
  if (timeouts.pollIntervalMs >= timeouts.inferenceMs) {
    throw conflict(
      `${label('timeouts.pollIntervalMs')} must be less than ${label('timeouts.inferenceMs')} (${formatted('timeouts.inferenceMs', timeouts.inferenceMs)}), got ${formatted('timeouts.pollIntervalMs', timeouts.pollIntervalMs)}`,
    );
  }
  // A lognormal is fitted to the two percentiles: it needs 0 < p50 <= p95, or both 0 (no latency).
  const { simLatencyP50Ms: p50, simLatencyP95Ms: p95 } = stack;
  if (p95 < p50 || (p50 === 0 && p95 !== 0)) {
    throw conflict(
      `${label('stack.simLatencyP95Ms')} must be at least ${label('stack.simLatencyP50Ms')} (${formatted('stack.simLatencyP50Ms', p50)}), and 0 when that is 0, got ${formatted('stack.simLatencyP95Ms', p95)}`,
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// Levenshtein distance, to suggest the intended name for a typo.
function closestName(name: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const current = [i];
      for (let j = 1; j <= b.length; j++) {
        current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      previous = current;
    }
    return previous[b.length]!;
  };
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (d <= 3 && (!best || d < best.d)) best = { candidate, d };
  }
  return best?.candidate;
}
