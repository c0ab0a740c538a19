import { describe, expect, it } from 'vitest';
import { localChainAdvice } from './chainAdvice.ts';

describe('localChainAdvice', () => {
  it('says nothing for runs the default chain carries (MS-05 profiles, CI)', () => {
    expect(localChainAdvice({ flows: 1000, peakRate: 20, blockTimeSeconds: 0.2, blockGasLimit: 100_000_000, stateRoot: true })).toEqual([]);
    expect(localChainAdvice({ flows: 2000, peakRate: 2.5, blockTimeSeconds: 0.2, blockGasLimit: 100_000_000, stateRoot: true })).toEqual([]);
    expect(localChainAdvice({ flows: 50, peakRate: undefined, blockTimeSeconds: 0, blockGasLimit: 100_000_000, stateRoot: true })).toEqual([]);
    expect(localChainAdvice({ flows: undefined, peakRate: 10, blockTimeSeconds: 0.2, blockGasLimit: 100_000_000, stateRoot: true })).toEqual([]);
  });

  it('asks a 100k-user stream for 10 s blocks and the gas limit they need', () => {
    const advice = localChainAdvice({ flows: 100_000, peakRate: 25, blockTimeSeconds: 0.2, blockGasLimit: 100_000_000, stateRoot: true });
    expect(advice).toHaveLength(2);
    expect(advice[0]).toMatch(/^100000 flows leave anvil ~6\.5 s of work per block .* 0\.2 s block time.* --block-time 10, or leave out --state-root\.$/);
    expect(advice[1]).toMatch(/25\/s × 10 s blocks .* more than half of the 100M block gas limit, .*consider --block-gas-limit 800000000\.$/);
  });

  it('is satisfied once those settings are given', () => {
    expect(localChainAdvice({ flows: 100_000, peakRate: 25, blockTimeSeconds: 10, blockGasLimit: 800_000_000, stateRoot: true })).toEqual([]);
    // Half-full blocks raise the base fee: the limit that ran the relayers dry is not enough.
    expect(localChainAdvice({ flows: 100_000, peakRate: 25, blockTimeSeconds: 10, blockGasLimit: 500_000_000, stateRoot: true })).toHaveLength(1);
  });

  it('warns automine runs whose rate of blocks the growing state cannot follow', () => {
    const advice = localChainAdvice({ flows: 5_000, peakRate: 20, blockTimeSeconds: 0, blockGasLimit: 100_000_000, stateRoot: true });
    expect(advice).toHaveLength(1);
    expect(advice[0]).toMatch(/automine can give at this rate.*--block-time 1, or leave out --state-root\.$/);
  });

  it('flags the gas limit alone when the block time is fine but blocks are long', () => {
    expect(localChainAdvice({ flows: 100, peakRate: 30, blockTimeSeconds: 5, blockGasLimit: 100_000_000, stateRoot: true })).toEqual([
      expect.stringMatching(/consider --block-gas-limit 500000000\.$/),
    ]);
  });

  it('leaves the block time alone when anvil computes no state root (the default)', () => {
    expect(localChainAdvice({ flows: 100_000, peakRate: 25, blockTimeSeconds: 0.2, blockGasLimit: 100_000_000, stateRoot: false })).toEqual([]);
    expect(localChainAdvice({ flows: 5_000, peakRate: 20, blockTimeSeconds: 0, blockGasLimit: 100_000_000, stateRoot: false })).toEqual([]);
    // The gas limit still matters: long blocks at a high rate fill it.
    expect(localChainAdvice({ flows: 100_000, peakRate: 25, blockTimeSeconds: 10, blockGasLimit: 500_000_000, stateRoot: false })).toHaveLength(1);
  });
});
