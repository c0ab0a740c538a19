import { describe, expect, it } from 'vitest';
import { loadConfig } from './loadConfig.ts';
import { PRESET_NAMES, PRESETS } from './presets.ts';
import { CONFIG_FIELDS } from './schema.ts';

// A value is inside its field's accepted range exactly when its printed form parses back to it.
function outOfRange(group: string, values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values).flatMap(([name, value]) => {
    const field = CONFIG_FIELDS.find((f) => f.group === group && f.name === name);
    if (!field) return [`${group}.${name} is not a config field`];
    const result = field.spec.parser.parse(field.spec.parser.format(value));
    return result.ok && result.value === value ? [] : [`${group}.${name} = ${String(value)}`];
  });
}

describe('presets', () => {
  it('keeps every table default inside its own accepted range', () => {
    const bad = CONFIG_FIELDS.filter(({ spec }) => spec.default !== undefined && !Array.isArray(spec.default)).flatMap(({ group, name, spec }) =>
      outOfRange(group, { [name]: spec.default }),
    );
    expect(bad).toEqual([]);
  });

  it('sets only existing fields, each inside its accepted range', () => {
    const bad = PRESET_NAMES.flatMap((preset) =>
      Object.entries(PRESETS[preset]).flatMap(([group, values]) => outOfRange(group, values as Record<string, unknown>).map((e) => `${preset}: ${e}`)),
    );
    expect(bad).toEqual([]);
  });

  it('loads each preset into a consistent config', () => {
    const summary = PRESET_NAMES.map((preset) => {
      const { load, timeouts, retry, log } = loadConfig({ env: {}, preset });
      return [preset, load.users, load.concurrency, timeouts.httpMs, retry.maxAttempts, log.level];
    });
    expect(summary).toEqual([
      ['burst', 500, 500, 10_000, 2, 'info'],
      ['conservative', 5, 5, 60_000, 6, 'info'],
      ['debug', 1, 1, 30_000, 1, 'debug'],
    ]);
  });
});
