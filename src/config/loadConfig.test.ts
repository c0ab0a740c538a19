import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig, loadConfigWithSources, type LoadConfigParameters } from './loadConfig.ts';
import { CONFIG_FIELDS } from './schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'vana-load-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function envFile(text: string): string {
  const path = join(dir, `env-${files++}`);
  writeFileSync(path, text);
  return path;
}

function configError(params: LoadConfigParameters): ConfigError {
  try {
    loadConfig(params);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw');
}

function envError(name: string, value: string): string {
  return configError({ env: { [name]: value } }).message;
}

const REMOTE = {
  VANA_TARGET: 'remote',
  VANA_RPC_URLS: 'https://rpc.moksha.vana.org',
  VANA_PERMISSIONS_ADDRESS: '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF',
  VANA_PERSONAL_SERVER_URL: 'https://test.server.vana.com/api/v1',
  VANA_STORAGE_URL: 'https://storage.example.org',
  VANA_API_URL: 'https://app.example.org',
  VANA_GRANTEE_ID: '7',
  // anvil's public dev mnemonic: a fixture, never a real key.
  VANA_MNEMONIC: 'test test test test test test test test test test test junk',
};

describe('loadConfig', () => {
  it('holds every field at its table default when nothing is set', () => {
    const config = loadConfig({ env: {} });
    for (const { group, name, spec } of CONFIG_FIELDS) {
      expect((config[group] as Record<string, unknown>)[name], `${group}.${name}`).toEqual(spec.default);
    }
    expect([config.target.kind, config.load.concurrency, config.timeouts.httpMs, config.stack.maxUploadBytes]).toEqual([
      'local',
      10,
      30_000,
      10_485_760,
    ]);
  });

  it('applies defaults < preset < .env file < environment < flags', () => {
    const file = envFile('VANA_PRESET=burst\nVANA_HTTP_TIMEOUT=20s\nVANA_CONCURRENCY=300\nVANA_LOG_LEVEL=warn\n');
    const layers: Array<[string, LoadConfigParameters]> = [
      ['defaults', { env: {} }],
      ['preset', { env: {}, envFile: envFile('VANA_PRESET=burst\n') }],
      ['.env', { env: {}, envFile: file }],
      ['env', { env: { VANA_CONCURRENCY: '200', VANA_LOG_LEVEL: 'error' }, envFile: file }],
      ['flag', { env: { VANA_CONCURRENCY: '200', VANA_LOG_LEVEL: 'error' }, envFile: file, flags: { concurrency: '100' } }],
    ];
    const seen = layers.map(([layer, params]) => {
      const { load, timeouts, log } = loadConfig(params);
      return [layer, load.concurrency, timeouts.httpMs, log.level];
    });
    expect(seen).toEqual([
      ['defaults', 10, 30_000, 'info'],
      ['preset', 500, 10_000, 'info'],
      ['.env', 300, 20_000, 'warn'],
      ['env', 200, 20_000, 'error'],
      ['flag', 100, 20_000, 'error'],
    ]);
  });

  it('takes the preset parameter only when no flag, env var or .env file names one', () => {
    expect(loadConfig({ env: {}, preset: 'debug' }).load.users).toBe(1);
    expect(loadConfig({ env: { VANA_PRESET: 'burst' }, preset: 'debug' }).load.users).toBe(500);
    const config = loadConfig({ env: { VANA_PRESET: 'burst' }, flags: { preset: 'conservative' } });
    expect([config.target.preset, config.load.users]).toEqual(['conservative', 5]);
  });

  it('treats empty and blank values as unset, so a copied .env.example changes nothing', () => {
    const config = loadConfig({ env: { VANA_CONCURRENCY: '', VANA_USERS: '  ' }, envFile: envFile('VANA_RATE=\n'), flags: { duration: '' } });
    expect([config.load.concurrency, config.load.users, config.load.rate, config.load.durationMs]).toEqual([10, 10, 1, 300_000]);
  });

  it('reads the .env file without touching process.env', () => {
    const before = { ...process.env };
    const config = loadConfig({ env: {}, envFile: envFile('VANA_SEED=42\nOPENAI_API_KEY=sk-from-file\n') });
    expect([config.load.seed, config.stack.openaiApiKey]).toEqual([42, 'sk-from-file']);
    expect(process.env).toEqual(before);
  });

  it('takes flag values as commander gives them: strings, bare booleans, and numbers from code', () => {
    const config = loadConfig({ env: {}, flags: { allowMainnet: true, rateLimit: 'false', users: 50, s3PresignExpiry: '2h', threshold: 'e2e.p95<120s' } });
    expect([config.wallets.allowMainnet, config.stack.rateLimit, config.load.users, config.storage.s3PresignExpiryMs]).toEqual([
      true,
      false,
      50,
      7_200_000,
    ]);
  });

  it('returns a deep-frozen config', () => {
    const config = loadConfig({ env: { VANA_RELAYER_PRIVATE_KEYS: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' } });
    expect([Object.isFrozen(config), Object.isFrozen(config.load), Object.isFrozen(config.wallets.relayerPrivateKeys)]).toEqual([true, true, true]);
    expect(() => {
      (config.load as { users: number }).users = 5;
    }).toThrow(TypeError);
  });

  it('skips a missing optional .env file', () => {
    expect(loadConfig({ env: {}, envFile: { path: join(dir, 'absent'), optional: true } }).load.users).toBe(10);
  });

  it('error: fails on a missing required .env file', () => {
    const path = join(dir, 'absent');
    const err = configError({ env: {}, envFile: path });
    expect([err.code, err.shortMessage]).toEqual(['CONFIG_ENV_FILE', `Cannot read the .env file ${path}: ENOENT: no such file or directory, open '${path}'`]);
  });

  it('error: a .env line that is not KEY=VALUE fails with the file and the line number, never the line itself', () => {
    const path = envFile('# settings\nVANA_USERS=3\nVANA_BLOCK_TIME -1\n');
    expect(configError({ env: {}, envFile: path })).toMatchObject({
      code: 'CONFIG_ENV_FILE_SYNTAX',
      message: `Line 3 of the .env file ${path} (it starts with VANA_BLOCK_TIME) is not a setting: expected KEY=VALUE, a # comment or a blank line`,
    });
    const secret = envFile('VANA_USERS=3\nabandon ability able about above absent absorb abstract absurd abuse access accident\n');
    expect(configError({ env: {}, envFile: secret }).message).toBe(
      `Line 2 of the .env file ${secret} is not a setting: expected KEY=VALUE, a # comment or a blank line`,
    );
  });

  it('error: a binary or non-UTF-8 .env file fails naming the file', () => {
    const binary = join(dir, 'binary-env');
    writeFileSync(binary, Buffer.from([0x56, 0x3d, 0x31, 0x0a, 0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]));
    expect(configError({ env: {}, envFile: binary })).toMatchObject({
      code: 'CONFIG_ENV_FILE_SYNTAX',
      message: `The .env file ${binary} is not text (a NUL byte on line 2): expected a text file of KEY=VALUE lines, # comments and blank lines`,
    });
    const latin1 = join(dir, 'latin1-env');
    writeFileSync(latin1, Buffer.from('VANA_PROMPT=caf\xe9\n', 'latin1'));
    expect(configError({ env: {}, envFile: latin1 }).message).toBe(
      `The .env file ${latin1} is not UTF-8 text: expected a text file of KEY=VALUE lines, # comments and blank lines`,
    );
  });

  it('error: names an unknown VANA_ variable in the .env file and suggests the closest one', () => {
    const path = envFile('VANA_CONCURENCY=5\nOTHER_TOOL=1\n');
    const err = configError({ env: {}, envFile: path });
    expect([err.code, err.message]).toEqual([
      'CONFIG_UNKNOWN_VARIABLE',
      `Unknown variable VANA_CONCURENCY in the .env file ${path}\n\nDid you mean VANA_CONCURRENCY?\nEvery variable is listed in .env.example.`,
    ]);
  });

  it('error: names the env var, the flag, the accepted range and the source of a bad value', () => {
    const err = configError({ env: { VANA_CONCURRENCY: 'abc' } });
    expect([err.code, err.message]).toEqual([
      'CONFIG_INVALID',
      'VANA_CONCURRENCY (--concurrency) must be an integer in [1, 100000], got "abc"\n\nfrom: environment',
    ]);
    expect(configError({ env: {}, flags: { concurrency: '0' } }).message).toBe(
      'VANA_CONCURRENCY (--concurrency) must be an integer in [1, 100000], got "0"\n\nfrom: flag --concurrency',
    );
    const path = envFile('VANA_CONCURRENCY=100001\n');
    expect(configError({ env: {}, envFile: path }).message).toBe(
      `VANA_CONCURRENCY (--concurrency) must be an integer in [1, 100000], got "100001"\n\nfrom: .env file ${path}`,
    );
  });

  it('error: gives the exact message for each kind of parser', () => {
    const cases: Array<[string, string]> = [
      ['VANA_RATE', 'fast'],
      ['VANA_HTTP_TIMEOUT', '30'],
      ['VANA_STACK_MAX_UPLOAD', '2GB'],
      ['VANA_TARGET', 'moksha'],
      ['VANA_API_URL', 'localhost:3001'],
      ['VANA_RPC_URLS', 'https://a.org,ftp://b.org'],
      ['VANA_PERMISSIONS_ADDRESS', '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eE'],
      ['VANA_ALLOW_MAINNET', 'sure'],
      ['VANA_FUNDING_AMOUNT', '0.01 VANA'],
      ['VANA_S3_BUCKET', 'My_Bucket'],
      ['VANA_GRANTEE_ID', '0'],
    ];
    expect(cases.map(([name, value]) => envError(name, value).split('\n')[0])).toEqual([
      'VANA_RATE (--rate) must be a number in [0.001, 10000], got "fast"',
      'VANA_HTTP_TIMEOUT (--http-timeout) must be a duration (e.g. 500ms, 90s, 2m) in [100ms, 10m], got "30"',
      'VANA_STACK_MAX_UPLOAD (--max-upload) must be a size (e.g. 512KB, 10MB; 1KB = 1024 bytes) in [1KB, 1GB], got "2GB"',
      'VANA_TARGET (--target) must be one of local, remote, got "moksha"',
      'VANA_API_URL (--api-url) must be an absolute http(s) URL, got "localhost:3001"',
      'VANA_RPC_URLS (--rpc-urls) must be a comma-separated list of absolute http(s)/ws(s) URLs, got "https://a.org,ftp://b.org" (item 2 is invalid)',
      'VANA_PERMISSIONS_ADDRESS (--permissions-address) must be a 0x-prefixed 20-byte hex address (mixed case must be a valid EIP-55 checksum), got "0xD54523048AdD05b4d734aFaE7C68324Ebb7373eE"',
      'VANA_ALLOW_MAINNET (--allow-mainnet) must be a boolean (true/false, 1/0, yes/no, on/off), got "sure"',
      'VANA_FUNDING_AMOUNT (--funding-amount) must be an amount in ether units (e.g. 0.01, up to 18 decimals) in [0, 1000], got "0.01 VANA"',
      'VANA_S3_BUCKET (--s3-bucket) must be an S3 bucket name (3-63 characters: lowercase letters, digits, dots, hyphens), got "My_Bucket"',
      'VANA_GRANTEE_ID (--grantee-id) must be a positive integer (uint256), got "0"',
    ]);
  });

  it('error: never echoes a bad secret value', () => {
    const cases: Array<[string, string]> = [
      ['VANA_FUNDER_PRIVATE_KEY', '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff'],
      ['VANA_RELAYER_PRIVATE_KEYS', '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80,0xdeadbeef'],
      ['VANA_MNEMONIC', 'test test test test test test test test test test test test'],
      ['OPENAI_API_KEY', 'sk has spaces'],
    ];
    expect(cases.map(([name, value]) => envError(name, value).split('\n')[0])).toEqual([
      'VANA_FUNDER_PRIVATE_KEY (--funder-private-key) must be a 0x-prefixed 32-byte hex secp256k1 private key, got [redacted]',
      'VANA_RELAYER_PRIVATE_KEYS (--relayer-private-keys) must be a comma-separated list of 0x-prefixed 32-byte hex secp256k1 private keys, got [redacted] (item 2 is invalid)',
      'VANA_MNEMONIC (--mnemonic) must be a BIP-39 English mnemonic of 12, 15, 18, 21 or 24 words, got [redacted] (the checksum does not match)',
      'OPENAI_API_KEY (--openai-api-key) must be an API key of 1-512 characters without spaces, got [redacted]',
    ]);
  });

  it('accepts a complete remote configuration', () => {
    const config = loadConfig({ env: REMOTE });
    expect([config.target.kind, config.chain.rpcUrls, config.contracts.permissionsAddress, config.services.apiUrl]).toEqual([
      'remote',
      ['https://rpc.moksha.vana.org'],
      '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF',
      'https://app.example.org',
    ]);
  });

  it('error: names what each relay and inference mode needs on a remote target', () => {
    const base = { ...REMOTE, VANA_API_URL: '', VANA_GRANTEE_ID: '' };
    expect(configError({ env: { ...base, VANA_RELAY: 'keys', VANA_INFERENCE: 'personal-server' } }).shortMessage).toBe(
      'Missing required settings: VANA_RELAYER_PRIVATE_KEYS (--relayer-private-keys), VANA_APP_PRIVATE_KEY (--app-private-key)',
    );
    expect(configError({ env: { ...base, VANA_GRANTEE_ID: '1', VANA_RELAY: 'direct', VANA_GRANT_STORAGE: 'relayer' } }).shortMessage).toBe(
      'Missing required settings: VANA_FUNDER_PRIVATE_KEY (--funder-private-key), VANA_BATCH_FUNDER_ADDRESS (--batch-funder-address), VANA_API_URL (--api-url)',
    );
    expect(configError({ env: { ...base, VANA_GRANTEE_ID: '1', VANA_INFERENCE: 'personal-server' } }).shortMessage).toBe(
      'Missing required settings: VANA_RELAYER_URL (--relayer-url) or VANA_API_URL (--api-url), VANA_APP_PRIVATE_KEY (--app-private-key)',
    );
  });

  it('error: names every missing remote setting in one error', () => {
    const err = configError({ env: { VANA_TARGET: 'remote' } });
    expect(err.code).toBe('CONFIG_MISSING');
    expect(err.message).toMatchInlineSnapshot(`
      "Missing required settings: VANA_RPC_URLS (--rpc-urls), VANA_PERMISSIONS_ADDRESS (--permissions-address), VANA_PERSONAL_SERVER_URL (--personal-server-url), VANA_MNEMONIC (--mnemonic), VANA_GRANTEE_ID (--grantee-id) or VANA_APP_PRIVATE_KEY (--app-private-key), VANA_STORAGE_URL (--storage-url), VANA_API_URL (--api-url)

      VANA_RPC_URLS (--rpc-urls), needed as the target is remote: JSON-RPC endpoints, comma separated; requests are spread over them. Remote only: the local stack supplies its own.
      VANA_PERMISSIONS_ADDRESS (--permissions-address), needed as the target is remote: DataPortabilityPermissions contract; the data registry, servers and grantees contracts are read from its views. Remote only.
      VANA_PERSONAL_SERVER_URL (--personal-server-url), needed as the target is remote: Personal-server API base URL (/identity and /operations are appended). Remote only.
      VANA_MNEMONIC (--mnemonic), needed as the target is remote: HD mnemonic the virtual users are derived from (m/44'/60'/0'/0/i). Unset = the wallet file's.
      VANA_GRANTEE_ID (--grantee-id) or VANA_APP_PRIVATE_KEY (--app-private-key), needed as the target is remote (the grantee id is looked up from the app key's address): Grantee (app) id permissions are granted to. Remote only; unset = looked up from VANA_APP_PRIVATE_KEY's address (one of the two is required).
      VANA_STORAGE_URL (--storage-url), needed as the target is remote with storage provider local: Base URL of a vana-load storage service (provider local, remote target; the local stack supplies its own).
      VANA_API_URL (--api-url), needed as the inference mode is proxy: The app's API (/api/relay, /api/trusted-server). Remote only, for relay api or inference proxy; the local target takes it from the stack manifest."
    `);
  });

  it('error: names the missing S3 settings when the storage provider is s3', () => {
    const err = configError({ env: { ...REMOTE, VANA_STORAGE_URL: '', VANA_STORAGE_PROVIDER: 's3', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' } });
    expect(err.shortMessage).toBe('Missing required settings: VANA_S3_BUCKET (--s3-bucket), AWS_SECRET_ACCESS_KEY (--s3-secret-access-key)');
  });

  it('error: refuses a known mainnet chain id on the remote target unless --allow-mainnet', () => {
    const err = configError({ env: { ...REMOTE, VANA_CHAIN_ID: '1480' } });
    expect([err.code, err.message]).toEqual([
      'CONFIG_CONFLICT',
      'VANA_CHAIN_ID (--chain-id) is 1480 (Vana mainnet): a load test there spends real money; pass VANA_ALLOW_MAINNET (--allow-mainnet) if you mean it',
    ]);
    expect(loadConfig({ env: { ...REMOTE, VANA_CHAIN_ID: '1480' }, flags: { allowMainnet: true } }).chain.chainId).toBe(1480);
  });

  it('lets a milestone derive users from a concurrency given alone (no conflict with a default)', () => {
    const { config, sources } = loadConfigWithSources({ env: { VANA_CONCURRENCY: '25' }, defaults: { load: { users: 5 } } });
    expect([config.load.concurrency, sources['load.concurrency'], sources['load.users']]).toEqual([25, 'environment', 'caller']);
  });

  it('error: refuses settings that contradict each other', () => {
    const cases: Array<Record<string, string>> = [
      { VANA_CONCURRENCY: '25', VANA_USERS: '10' },
      { VANA_LOAD_MODEL: 'phased', VANA_RAMP_UP: '0', VANA_SUSTAIN: '0', VANA_RAMP_DOWN: '0' },
      { VANA_RETRY_BASE_DELAY: '20s' },
      { VANA_POLL_INTERVAL: '1m', VANA_INFERENCE_TIMEOUT: '1m' },
      { VANA_SIM_LATENCY_P50: '2s', VANA_SIM_LATENCY_P95: '1s' },
      { VANA_SIM_LATENCY_P95: '1s' },
    ];
    expect(cases.map((env) => configError({ env }).message)).toEqual([
      'VANA_CONCURRENCY (--concurrency) must be at most VANA_USERS (--users) (10) with the closed model, as one user\'s flows never overlap, got 25',
      'The phased model needs a non-zero VANA_RAMP_UP (--ramp-up), VANA_SUSTAIN (--sustain) or VANA_RAMP_DOWN (--ramp-down)',
      'VANA_RETRY_BASE_DELAY (--retry-base-delay) must be at most VANA_RETRY_MAX_DELAY (--retry-max-delay) (10s), got 20s',
      'VANA_POLL_INTERVAL (--poll-interval) must be less than VANA_INFERENCE_TIMEOUT (--inference-timeout) (1m), got 1m',
      'VANA_SIM_LATENCY_P95 (--sim-latency-p95) must be at least VANA_SIM_LATENCY_P50 (--sim-latency-p50) (2s), and 0 when that is 0, got 1s',
      'VANA_SIM_LATENCY_P95 (--sim-latency-p95) must be at least VANA_SIM_LATENCY_P50 (--sim-latency-p50) (0), and 0 when that is 0, got 1s',
    ]);
  });

  it('allows more concurrency than users with the open models', () => {
    expect(loadConfig({ env: { VANA_LOAD_MODEL: 'poisson', VANA_CONCURRENCY: '25' } }).load.concurrency).toBe(25);
  });
});
