import { describe, expect, it } from 'vitest';
import type { BlockRecord } from './chainTypes.ts';
import { foldBlocks } from './foldBlocks.ts';

const T = 1_796_000_000_000;
const block = (number: number, gasUsed: number, txs: number, baseFeeWei?: string): BlockRecord => ({
  number,
  timestamp: T + number * 2_000,
  seenAt: T + number * 2_000 + 120,
  txs,
  gasUsed,
  gasLimit: 30_000_000,
  ...(baseFeeWei !== undefined ? { baseFeeWei } : {}),
});

describe('foldBlocks', () => {
  it('sums the transactions of the blocks of an interval and gives their mean and fullest fill, and the newest base fee', () => {
    const blocks = [block(12, 28_934_314, 23, '600609026'), block(11, 16_353_962, 13, '532120427'), block(13, 3_000_000, 2, '670351315')];
    expect(foldBlocks(blocks, { head: 10, headFill: 0.3, baseFeeGwei: 0.52 })).toEqual({
      head: 13,
      blocks: 3,
      txs: 38,
      fill: 0.5365,
      maxFill: 0.9645,
      overHalf: 2,
      headFill: 0.1,
      baseFeeGwei: 0.670351315,
    });
  });

  it('carries the head, its fill and the base fee over an interval without a block', () => {
    expect(foldBlocks([], { head: 13, headFill: 0.1, baseFeeGwei: 0.67 })).toEqual({ head: 13, blocks: 0, txs: 0, fill: null, maxFill: null, overHalf: 0, headFill: 0.1, baseFeeGwei: 0.67 });
    expect(foldBlocks([], { head: null, headFill: null, baseFeeGwei: null })).toMatchObject({ head: null, headFill: null, baseFeeGwei: null });
  });

  it('keeps the last known base fee for a chain without EIP-1559, and counts an empty gas limit as an empty block', () => {
    expect(foldBlocks([block(5, 0, 0)], { head: 4, headFill: null, baseFeeGwei: null })).toMatchObject({ head: 5, fill: 0, headFill: 0, baseFeeGwei: null });
    expect(foldBlocks([{ ...block(6, 100, 1), gasLimit: 0 }], { head: 5, headFill: 0, baseFeeGwei: 1 })).toMatchObject({ fill: 0, overHalf: 0, baseFeeGwei: 1 });
  });

  it('never moves the head back when a lower block number comes (a reorg or a restarted chain)', () => {
    expect(foldBlocks([block(3, 0, 0, '7')], { head: 9, headFill: 0.7, baseFeeGwei: 1 })).toMatchObject({ head: 9, headFill: 0.7 });
  });
});
