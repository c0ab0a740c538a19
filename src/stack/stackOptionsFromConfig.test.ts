import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { stackOptionsFromConfig } from './stackOptionsFromConfig.ts';

describe('stackOptionsFromConfig', () => {
  it('hands the stack process the chain and stack settings of the config', () => {
    const config = loadConfig({ env: { VANA_STACK_BLOCK_GAS_LIMIT: '500000000', VANA_BLOCK_TIME: '10', VANA_STACK_RELAYERS: '6' } });
    expect(stackOptionsFromConfig(config)).toMatchObject({ blockGasLimit: 500_000_000, blockTime: 10, relayerCount: 6 });
    expect(stackOptionsFromConfig(loadConfig({ env: {} }))).toMatchObject({ blockGasLimit: 100_000_000, blockTime: 0.2, relayerCount: 4 });
  });

  it('gives the openai backend the inference timeout (it had none before: the cast hid it)', () => {
    const config = loadConfig({ env: { VANA_INFERENCE_BACKEND: 'openai', VANA_INFERENCE_TIMEOUT: '90s' } });
    expect(stackOptionsFromConfig(config).backend).toEqual({ kind: 'openai', baseUrl: 'https://api.openai.com', model: 'gpt-4o-mini', timeoutMs: 90_000 });
  });

  it('hands over the stack keys, chain id, storage and relay response of a rehearsal deployment', () => {
    const key = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
    const config = loadConfig({ env: { VANA_STACK_CHAIN_ID: '14800', VANA_STACK_STORAGE: 's3', VANA_STACK_RELAY_RESPONSE: 'pending', VANA_STACK_RELAYER_PRIVATE_KEYS: key, VANA_STACK_APP_PRIVATE_KEY: key } });
    expect(stackOptionsFromConfig(config)).toMatchObject({ chainId: 14800, storage: 's3', relayResponse: 'pending', relayerKeys: [key], appKey: key });
  });

  it('seeds the sim backend of a spawned stack with --seed, and leaves it random without', () => {
    expect(stackOptionsFromConfig(loadConfig({ env: { VANA_SEED: '7' } })).backend).toMatchObject({ kind: 'sim', seed: 7 });
    expect(stackOptionsFromConfig(loadConfig({ env: {} })).backend).not.toHaveProperty('seed');
  });

  it('error: refuses a block gas limit too small for a block of flows, naming the variable and flag', () => {
    const attempt = () => loadConfig({ env: { VANA_STACK_BLOCK_GAS_LIMIT: '1000000' } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/VANA_STACK_BLOCK_GAS_LIMIT.*--block-gas-limit|--block-gas-limit.*VANA_STACK_BLOCK_GAS_LIMIT/s);
  });
});
