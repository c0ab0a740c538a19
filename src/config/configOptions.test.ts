import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { configOptions, flagAttribute } from './configOptions.ts';
import { loadConfig } from './loadConfig.ts';

// Names other tools already use for the same thing; everything else is VANA_-prefixed.
const WELL_KNOWN_ENV = ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'OPENAI_API_KEY'];

function commandWithConfigOptions(): Command {
  const command = new Command('run').exitOverride();
  for (const option of configOptions()) command.option(option.flags, option.help);
  return command;
}

describe('configOptions', () => {
  it('gives every field a unique env var, flag and commander attribute', () => {
    const options = configOptions();
    for (const key of ['env', 'flag', 'attribute'] as const) {
      expect(new Set(options.map((o) => o[key])).size, key).toBe(options.length);
    }
  });

  it('prefixes every env var with VANA_ except a few well-known names', () => {
    expect(configOptions().filter(({ env }) => !env.startsWith('VANA_')).map(({ env }) => env)).toEqual(WELL_KNOWN_ENV);
  });

  it("tells a command's own defaults and wording, hides what it does not use, and leaves out what it decides", () => {
    const options = configOptions({
      defaults: { load: { users: 2_000 } },
      descriptions: { 'load.users': 'Arrivals in all.' },
      hidden: ['load.concurrency'],
      noDefault: ['load.durationMs'],
      omit: ['load.model'],
    });
    const byFlag = new Map(options.map((o) => [o.flag, o]));
    expect([byFlag.get('--users')?.help, byFlag.get('--concurrency')?.hidden, byFlag.get('--duration')?.default, byFlag.has('--load-model')]).toEqual([
      'Arrivals in all. (env VANA_USERS; default: 2000)',
      true,
      undefined,
      false,
    ]);
  });

  it('describes an option with its env var and default, and warns about secret flags', () => {
    const byFlag = new Map(configOptions().map((o) => [o.flag, o]));
    expect(byFlag.get('--concurrency')).toEqual({
      key: 'load.concurrency',
      env: 'VANA_CONCURRENCY',
      flag: '--concurrency',
      flags: '--concurrency <n>',
      attribute: 'concurrency',
      description: 'Closed model: users running flows at the same time.',
      help: 'Closed model: users running flows at the same time. (env VANA_CONCURRENCY; default: 10)',
      default: '10',
      secret: false,
      hidden: false,
    });
    expect([byFlag.get('--allow-mainnet')?.flags, byFlag.get('--rpc-urls')?.default, byFlag.get('--app-private-key')?.help]).toEqual([
      '--allow-mainnet [bool]',
      undefined,
      "The app (grantee) key: signs personal-server operation requests (inference personal-server), and its address finds the grantee id when VANA_GRANTEE_ID is unset. Unset on the local target = the stack's app key. (env VANA_APP_PRIVATE_KEY; secret: prefer the env var, flags show in the process list)",
    ]);
  });

  it('camel-cases flags the way commander does', () => {
    expect(['--s3-access-key-id', '--sim-429-rate', '--log-level', '--users'].map(flagAttribute)).toEqual([
      's3AccessKeyId',
      'sim429Rate',
      'logLevel',
      'users',
    ]);
  });

  it('registers on a commander command whose parsed options loadConfig reads, flags beating env', () => {
    const command = commandWithConfigOptions();
    command.parse(['--concurrency', '20', '--users', '40', '--allow-mainnet', '--rate-limit', 'off', '--duration', '90s'], { from: 'user' });
    const config = loadConfig({ env: { VANA_CONCURRENCY: '5', VANA_LOG_LEVEL: 'warn' }, flags: command.opts() });
    expect([config.load.concurrency, config.load.users, config.wallets.allowMainnet, config.stack.rateLimit, config.load.durationMs, config.log.level]).toEqual([
      20,
      40,
      true,
      false,
      90_000,
      'warn',
    ]);
  });

  it('leaves options the user did not give unset, so a preset or env var still applies', () => {
    const command = commandWithConfigOptions();
    command.parse([], { from: 'user' });
    expect(Object.values(command.opts()).filter((v) => v !== undefined)).toEqual([]);
    expect(loadConfig({ env: { VANA_PRESET: 'debug' }, flags: command.opts() }).log.level).toBe('debug');
  });
});
