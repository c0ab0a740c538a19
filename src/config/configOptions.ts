import type { ConfigOverrides } from './presets.ts';
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
  /** Left out of `--help` (the command does not use it). */
  readonly hidden: boolean;
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

/** How one command (a milestone) tells its config flags: its own defaults and wording. */
export interface ConfigOptionsOverrides {
  /** The command's defaults (the `defaults` layer it gives `loadConfig`), shown in `--help`. */
  defaults?: ConfigOverrides;
  /** What a flag means for this command, e.g. MS-04's `--concurrency` is its peak users. */
  descriptions?: Partial<Record<ConfigKey, string>>;
  /** Fields the command decides itself and takes no flag for (a milestone's load model). */
  omit?: readonly ConfigKey[];
  /** Fields the command does not use: accepted (and refused by the command with a reason) but left out of `--help`. */
  hidden?: readonly ConfigKey[];
  /** Fields that are unset unless given (a milestone's optional `--duration`): `--help` shows no default. */
  noDefault?: readonly ConfigKey[];
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
export function configOptions(command: ConfigOptionsOverrides = {}): readonly ConfigOption[] {
  return CONFIG_FIELDS.filter(({ key }) => !command.omit?.includes(key)).map(({ key, group, name, spec }): ConfigOption => {
    const own: Readonly<Record<string, unknown>> | undefined = command.defaults?.[group];
    const fallback = own && Object.hasOwn(own, name) ? own[name] : spec.default;
    const formatted = fallback === undefined || command.noDefault?.includes(key) ? '' : spec.parser.format(fallback as never);
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
      description: command.descriptions?.[key] ?? spec.description,
      help: `${command.descriptions?.[key] ?? spec.description} (${notes.join('; ')})`,
      default: defaultText,
      secret: spec.secret,
      hidden: command.hidden?.includes(key) ?? false,
    };
  });
}
