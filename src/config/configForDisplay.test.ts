import { describe, expect, it } from 'vitest';
import { createLogger, SECRET_FIELD_NAMES } from '../logger.ts';
import { configForDisplay, secretValues } from './configForDisplay.ts';
import { loadConfig } from './loadConfig.ts';
import { CONFIG_FIELDS } from './schema.ts';

const SECRET_ENV = {
  VANA_MNEMONIC: 'test test test test test test test test test test test junk',
  VANA_FUNDER_PRIVATE_KEY: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  VANA_RELAYER_PRIVATE_KEYS:
    '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d,0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  VANA_APP_PRIVATE_KEY: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  OPENAI_API_KEY: 'sk-test-0123456789abcdef',
  VANA_GRANTEE_ID: '7',
};

describe('configForDisplay', () => {
  it('replaces every set secret with [redacted], keeping list lengths and unset secrets', () => {
    const display = configForDisplay(loadConfig({ env: SECRET_ENV }));
    expect([display.wallets, display.storage.s3SecretAccessKey, display.stack.openaiApiKey]).toEqual([
      {
        mnemonic: '[redacted]',
        funderPrivateKey: '[redacted]',
        relayerPrivateKeys: ['[redacted]', '[redacted]'],
        appPrivateKey: '[redacted]',
        walletFile: 'wallets/wallets.json',
        fundingAmountWei: '10000000000000000',
        maxSpendWei: '1000000000000000000',
        allowMainnet: false,
      },
      '[redacted]',
      '[redacted]',
    ]);
    const unset = configForDisplay(loadConfig({ env: {} }));
    expect([unset.wallets.mnemonic, unset.wallets.relayerPrivateKeys, unset.stack.openaiApiKey]).toEqual([undefined, [], undefined]);
  });

  it('is JSON-safe (bigints as decimal strings) and contains no secret value', () => {
    const config = loadConfig({ env: SECRET_ENV });
    const json = JSON.stringify(configForDisplay(config));
    expect(JSON.parse(json).contracts.granteeId).toBe('7');
    expect(secretValues(config).filter((secret) => json.includes(secret))).toEqual([]);
  });

  it('leaves the config itself untouched', () => {
    const config = loadConfig({ env: SECRET_ENV });
    configForDisplay(config);
    expect(config.wallets.mnemonic).toBe(SECRET_ENV.VANA_MNEMONIC);
  });
});

describe('secretValues', () => {
  it('lists every set secret, list items one by one', () => {
    expect(secretValues(loadConfig({ env: SECRET_ENV }))).toEqual([
      SECRET_ENV.AWS_SECRET_ACCESS_KEY,
      SECRET_ENV.VANA_MNEMONIC,
      SECRET_ENV.VANA_FUNDER_PRIVATE_KEY,
      ...SECRET_ENV.VANA_RELAYER_PRIVATE_KEYS.split(','),
      SECRET_ENV.VANA_APP_PRIVATE_KEY,
      SECRET_ENV.OPENAI_API_KEY,
    ]);
    expect(secretValues(loadConfig({ env: {} }))).toEqual([]);
  });
});

describe('secrets and the logger', () => {
  it('names every secret config key in the logger redaction list', () => {
    const secretKeys = CONFIG_FIELDS.filter(({ spec }) => spec.secret).map(({ name }) => name);
    expect(secretKeys.filter((name) => !(SECRET_FIELD_NAMES as readonly string[]).includes(name))).toEqual([]);
  });

  it('prints no secret when a logger writes the full config object, not the display copy', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const config = loadConfig({ env: SECRET_ENV });
    logger.info({ config }, 'config nested one level');
    logger.info(config, 'config at the top level');
    logger.child({ module: 'test' }).info({ wallets: config.wallets, storage: config.storage, stack: config.stack }, 'groups');
    const output = lines.join('');
    expect(lines).toHaveLength(3);
    expect(secretValues(config).filter((secret) => output.includes(secret))).toEqual([]);
    expect(JSON.parse(lines[0]!).config.wallets.relayerPrivateKeys).toBe('[redacted]');
  });
});
