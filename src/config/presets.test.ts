import { describe, expect, it } from 'vitest';
import { loadConfig } from './loadConfig.ts';
import { PRESET_NAMES } from './presetNames.ts';
import { PRESETS } from './presets.ts';
import { CONFIG_FIELDS } from './schema.ts';

// A value is inside its field's accepted range exactly when its printed form parses back to it.
function outOfRange(group: string, values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values).flatMap(([name, value]) => {
    const field = CONFIG_FIELDS.find((f) => f.group === group && f.name === name);
    if (!field) return [`${group}.${name} is not a config field`];
    const printed = field.spec.parser.format(value);
    const result = field.spec.parser.parse(printed);
    return result.ok && field.spec.parser.format(result.value) === printed ? [] : [`${group}.${name} = ${String(value)}`];
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
    // Moksha's secrets come from .env; a fixture stands in for them (anvil's public mnemonic and keys).
    const secrets = {
      VANA_MNEMONIC: 'test test test test test test test test test test test junk',
      VANA_RELAYER_PRIVATE_KEYS: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
      VANA_APP_PRIVATE_KEY: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
      VANA_S3_BUCKET: 'vana-load-test',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
    };
    const summary = PRESET_NAMES.map((preset) => {
      const { load, timeouts, retry, log } = loadConfig({ env: preset === 'moksha' ? secrets : {}, preset });
      return [preset, load.users, load.concurrency, timeouts.httpMs, retry.maxAttempts, log.level];
    });
    expect(summary).toEqual([
      ['burst', 500, 500, 10_000, 2, 'info'],
      ['conservative', 5, 5, 60_000, 6, 'info'],
      ['debug', 1, 1, 30_000, 1, 'debug'],
      ['moksha', 5, 5, 60_000, 6, 'info'],
    ]);
  });
});
