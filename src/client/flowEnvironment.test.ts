import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { stackOptionsFromConfig } from './flowEnvironment.ts';

describe('stackOptionsFromConfig', () => {
  it('hands the stack process the chain and stack settings of the config', () => {
    const config = loadConfig({ env: { VANA_STACK_BLOCK_GAS_LIMIT: '500000000', VANA_BLOCK_TIME: '10', VANA_STACK_RELAYERS: '6' } });
    expect(stackOptionsFromConfig(config)).toMatchObject({ blockGasLimit: 500_000_000, blockTime: 10, relayerCount: 6 });
    expect(stackOptionsFromConfig(loadConfig({ env: {} }))).toMatchObject({ blockGasLimit: 100_000_000, blockTime: 0.2, relayerCount: 4 });
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
