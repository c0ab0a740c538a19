import { describe, expect, it } from 'vitest';
import { exampleRun } from '../../test/fixtures/htmlFixture.ts';
import { withChainTimeline } from '../../test/fixtures/chainFixture.ts';
import { chainSignal } from './chainSignal.ts';
import type { ChainSample } from './chainTypes.ts';
import { chainBottleneck, chainLoadOfSamples, summarizeChain } from './summarizeChain.ts';
import type { Percentiles, TimeseriesSample } from './types.ts';

const p = (p95: number, max = p95 * 2): Percentiles => ({ count: 10, min: 1, mean: p95 / 2, p50: p95 / 2, p90: p95 * 0.9, p95, p99: p95, p999: max, max });

/** Samples one second apart whose chain fields are `chains`. */
function samplesOf(chains: ReadonlyArray<Partial<ChainSample> | undefined>): TimeseriesSample[] {
  const { samples } = exampleRun({ sampleCount: chains.length, withErrors: false });
  return samples.map((sample, i) => {
    const chain = chains[i];
    if (chain === undefined) return sample;
    return {
      ...sample,
      chain: { head: 1, blocks: 0, txs: 0, fill: null, maxFill: null, overHalf: 0, headFill: null, baseFeeGwei: null, acceptP95Ms: null, inclusionP95Ms: null, ...chain },
    };
  });
}

describe('summarizeChain', () => {
  it('names the chain when its blocks ran over half full, with where the base fee climbed from its low to its peak', () => {
    const { summary } = withChainTimeline(exampleRun({ sampleCount: 60 }));
    expect(summary.chain).toMatchObject({ blocks: 30, blockIntervalS: 2, bottleneck: { kind: 'chain' } });
    expect(summary.chain?.bottleneck?.text).toBe('the chain — blocks 84 % full on average, base fee 0.83 gwei → 9.72 gwei');
    // The fee falls over the first, nearly empty blocks, then climbs: the climb is from its low.
    expect(summary.chain?.load).toMatchObject({
      meanGasUsedRatio: expect.closeTo(0.837, 6),
      overHalfFullShare: 26 / 30,
      baseFeeFirstWei: '1000000000',
      baseFeeClimb: { fromWei: '834995917', toWei: '9718512804' },
    });
    expect(summary.chain?.relayers).toEqual({ peakPending: 20, peakNonceGap: 2, peakMempool: 18 });
    expect(summary.chain?.personalServer).toEqual({ peakPreparing: 3, peakRunning: 6 });
  });

  it('does not name the chain when its blocks stayed nearly empty and the base fee fell', () => {
    const { summary } = withChainTimeline(exampleRun({ sampleCount: 60 }), { congested: false, notes: ['personal-server queue: not measured'] });
    expect(summary.chain?.bottleneck).toBeNull();
    expect(summary.chain?.load?.meanGasUsedRatio).toBeCloseTo(0.02, 6);
    expect(BigInt(summary.chain!.load!.baseFeeLastWei)).toBeLessThan(BigInt(summary.chain!.load!.baseFeeFirstWei));
    expect(summary.chain?.notes).toEqual(['personal-server queue: not measured']);
  });

  it('names the largest climb of the base fee, although it fell over idle blocks before and after (first and last equal)', () => {
    const fees = [1, 0.7, 0.5, 0.6, 0.8, 0.9, 0.7, 1.2, 1, 1];
    const load = chainLoadOfSamples(samplesOf(fees.map((baseFeeGwei) => ({ blocks: 1, fill: 0.4, maxFill: 0.4, baseFeeGwei }))))!;
    expect([load.baseFeeFirstWei, load.baseFeeLastWei, load.baseFeeClimb]).toEqual(['1000000000', '1000000000', { fromWei: '500000000', toWei: '1200000000' }]);
    expect(chainSignal(load)).toBe('base fee rising 0.50 gwei → 1.20 gwei');
    // Falling all along: no climb, no signal.
    const falling = chainLoadOfSamples(samplesOf([1, 0.9, 0.8].map((baseFeeGwei) => ({ blocks: 1, fill: 0.1, maxFill: 0.1, baseFeeGwei }))))!;
    expect([falling.baseFeeClimb, chainSignal(falling)]).toEqual([{ fromWei: '1000000000', toWei: '1000000000' }, undefined]);
  });

  it('names inclusion lagging when accepted transactions waited over 3 block intervals and over 5 s', () => {
    const samples = samplesOf(Array.from({ length: 20 }, () => ({ blocks: 1, fill: 0.1, maxFill: 0.1, baseFeeGwei: 1 })));
    const steps = { relay: p(40), confirm: p(38_000) };
    expect(summarizeChain({ samples, steps })?.bottleneck).toEqual({
      kind: 'inclusion',
      text: 'the chain — inclusion lags: accepted → included p95 38.0s while RPC accept p95 40ms (a block every 1.00 s)',
    });
    // 4.9 s with 1 s blocks is under the 5 s floor; 7 s with 6 s blocks is under 3 blocks.
    expect(summarizeChain({ samples, steps: { relay: p(40), confirm: p(4_900) } })?.bottleneck).toBeNull();
    expect(chainBottleneck(null, { rpcAcceptP95Ms: 40, inclusionP95Ms: 7_000, inclusionMaxMs: 9_000 }, 6)).toBeNull();
    expect(chainBottleneck(null, { rpcAcceptP95Ms: null, inclusionP95Ms: 19_000, inclusionMaxMs: 30_000 }, 6)?.text).toBe(
      'the chain — inclusion lags: accepted → included p95 19.0s (a block every 6.00 s)',
    );
  });

  it('is absent for a run without chain samples, and has no load when no block was seen', () => {
    expect(summarizeChain({ samples: samplesOf([undefined, undefined]), steps: {} })).toBeUndefined();
    expect(summarizeChain({ samples: samplesOf([{}, {}]), steps: {} })).toMatchObject({ blocks: 0, txs: 0, load: null, blockIntervalS: null, bottleneck: null });
  });
});
