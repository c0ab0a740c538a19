import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveEngineSettings } from './engineSettings.ts';

const cwd = mkdtempSync(join(tmpdir(), 'vana-engine-settings-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('resolveEngineSettings', () => {
  it('loads the harness config with config.vana as its flags, over the environment', () => {
    const { config, manifestPath } = resolveEngineSettings({
      block: { manifest: 'stack/manifest.json', 'data-size': 'medium', 'http-timeout': '12s', inference: 'personal-server' },
      env: { VANA_DATA_SIZE: 'large', VANA_RETRY_MAX_ATTEMPTS: '5' },
      cwd,
    });
    expect({ size: config.data.size, httpMs: config.timeouts.httpMs, inference: config.inference.mode, attempts: config.retry.maxAttempts, relay: config.relay.mode }).toEqual({
      size: 'medium',
      httpMs: 12_000,
      inference: 'personal-server',
      attempts: 5,
      relay: 'api',
    });
    expect(manifestPath).toBe(join(cwd, 'stack/manifest.json'));
  });

  it('defaults to the npm run dev manifest and an absent block', () => {
    expect(resolveEngineSettings({ block: undefined, env: {}, cwd }).manifestPath).toBe(join(cwd, '.vana-load/stack.json'));
  });

  it('error: refuses an unknown key', () => {
    expect(() => resolveEngineSettings({ block: { relayy: 'api' }, env: {}, cwd })).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: Unknown key config.vana.relayy

      expected: manifest, env-file or a vana-load config flag without its dashes (relay, inference, data-size, http-timeout, ...)]
    `);
  });

  it('error: refuses a secret written into the script, without echoing it', () => {
    const run = () => resolveEngineSettings({ block: { mnemonic: 'test test test test test test test test test test test junk' }, env: {}, cwd });
    expect(run).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: config.vana.mnemonic is a secret and must not be written into the Artillery script

      fix: set VANA_MNEMONIC in the environment or .env (artillery run-fargate --dotenv .env, or --secret)]
    `);
  });

  it('error: refuses relay keys, whose relayer keys every worker would share', () => {
    expect(() => resolveEngineSettings({ block: { relay: 'keys' }, env: {}, cwd })).toThrow(
      /runs relay mode api only, got keys: relay keys runs a relayer pool inside each Artillery worker/,
    );
  });

  it('error: refuses relay direct, whose funder key every worker would share', () => {
    expect(() => resolveEngineSettings({ block: {}, env: { VANA_RELAY: 'direct' }, cwd })).toThrow(/runs relay mode api only, got direct: relay direct needs funded users/);
  });

  it('error: refuses a value the config refuses, naming the flag', () => {
    expect(() => resolveEngineSettings({ block: { 'data-size': 'huge' }, env: {}, cwd })).toThrow(/--data-size/);
  });

  it('error: refuses a block that is not a mapping and a value that is not a scalar', () => {
    expect(() => resolveEngineSettings({ block: ['relay'], env: {}, cwd })).toThrow('Expected config.vana to be a mapping of settings, got a list');
    expect(() => resolveEngineSettings({ block: { relay: { mode: 'api' } }, env: {}, cwd })).toThrow('config.vana.relay must be a string, number or boolean, got {"mode":"api"}');
  });
});
