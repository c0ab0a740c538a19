import { CONFIG_FIELDS, type ConfigKey } from './schema.ts';

/** One config flag, ready to register on a commander command. */
export interface ConfigOption {
  readonly key: ConfigKey;
  readonly env: string;
  readonly flag: `--${string}`;
  /** commander's flags string: `--concurrency <n>`; booleans take an optional value: `--allow-mainnet [bool]`. */
  readonly flags: string;
  /** The key commander stores the value under in `opts()`, e.g. `allowMainnet`. */
  readonly attribute: string;
  readonly description: string;
  /** The description with the env var and the default, for `--help`. */
  readonly help: string;
  /** The default as a user would type it; `undefined` when there is none. */
  readonly default: string | undefined;
  readonly secret: boolean;
}

/**
 * commander's attribute name of a long flag (`--s3-access-key-id` → `s3AccessKeyId`), the same
 * camel-casing commander applies, so `program.opts()` can be handed to `loadConfig` as is.
 */
export function flagAttribute(flag: string): string {
  return flag
    .replace(/^--/, '')
    .split('-')
    .reduce((name, word) => name + word.charAt(0).toUpperCase() + word.slice(1));
}

/**
 * Every config field as a commander option. Register them without a commander default (the
 * default is in `help` only): a commander default would look like a flag the user gave and beat
 * the preset, `.env` and the environment.
 *
 * @example
 * for (const o of configOptions()) command.option(o.flags, o.help);
 * const config = loadConfig({ flags: command.opts(), envFile: { path: '.env', optional: true } });
 */
export function configOptions(): readonly ConfigOption[] {
  return CONFIG_FIELDS.map(({ key, spec }): ConfigOption => {
    const formatted = spec.default === undefined ? '' : spec.parser.format(spec.default);
    const defaultText = formatted === '' ? undefined : formatted;
    const value = spec.parser.kind === 'boolean' ? `[${spec.parser.valueName}]` : `<${spec.parser.valueName}>`;
    const notes = [`env ${spec.env}`, ...(defaultText === undefined ? [] : [`default: ${defaultText}`])];
    if (spec.secret) notes.push('secret: prefer the env var, flags show in the process list');
    return {
      key,
      env: spec.env,
      flag: spec.flag,
      flags: `${spec.flag} ${value}`,
      attribute: flagAttribute(spec.flag),
      description: spec.description,
      help: `${spec.description} (${notes.join('; ')})`,
      default: defaultText,
      secret: spec.secret,
    };
  });
}
