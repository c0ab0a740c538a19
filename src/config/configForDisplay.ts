import { CONFIG_FIELDS, type VanaLoadConfig } from './schema.ts';

/** What a secret is replaced with; the same text the logger's redaction uses. */
export const REDACTED = '[redacted]';

type DisplayValue<T> = T extends bigint
  ? string
  : T extends `0x${string}`
    ? string
    : T extends readonly (infer E)[]
      ? readonly DisplayValue<E>[]
      : T;

/**
 * The config as shown in `summary.json`, logs and reports: secrets replaced by `[redacted]`
 * and bigints (wei, ids) as decimal strings, so it is JSON-safe.
 */
export type VanaLoadConfigDisplay = {
  readonly [G in keyof VanaLoadConfig]: { readonly [K in keyof VanaLoadConfig[G]]: DisplayValue<VanaLoadConfig[G][K]> };
};

function displayValue(value: unknown, secret: boolean): unknown {
  if (Array.isArray(value)) return value.map((item: unknown) => displayValue(item, secret));
  if (secret && value !== undefined) return REDACTED;
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * A copy of `config` that is safe to print or persist. An unset secret stays `undefined` and a
 * list of secrets keeps its length, so the display still tells what was configured.
 *
 * @example
 * await writeFile('summary.json', JSON.stringify({ config: configForDisplay(config) }));
 */
export function configForDisplay(config: VanaLoadConfig): VanaLoadConfigDisplay {
  const groups: Record<string, Record<string, unknown>> = {};
  for (const { group, name, spec } of CONFIG_FIELDS) {
    const value = (config[group] as Readonly<Record<string, unknown>>)[name];
    (groups[group] ??= {})[name] = displayValue(value, spec.secret);
  }
  return groups as unknown as VanaLoadConfigDisplay;
}

/**
 * Every secret value set in `config` (list items one by one), for tests and log sinks that
 * assert no secret ever reaches an output.
 *
 * @example
 * for (const secret of secretValues(config)) expect(runLog).not.toContain(secret);
 */
export function secretValues(config: VanaLoadConfig): string[] {
  return CONFIG_FIELDS.filter(({ spec }) => spec.secret).flatMap(({ group, name }) => {
    const value = (config[group] as Readonly<Record<string, unknown>>)[name];
    const values: unknown[] = Array.isArray(value) ? value : [value];
    return values.filter((v): v is string => typeof v === 'string' && v !== '');
  });
}
