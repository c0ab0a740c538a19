/**
 * Blocks into the per-interval figures of `timeseries.jsonl` (the chain part of a `ChainSample`):
 * how many blocks and transactions the interval saw, how full its blocks were, and the base fee
 * the chain had reached. Pure: the chain timeline (chainTimeline.ts) feeds it the blocks it read.
 */
import type { BlockRecord, ChainSample } from './chainTypes.ts';

/** What an interval carries over from the ones before it: the head, its fill and the base fee stay known when no block came. */
export interface FoldedHead {
  head: number | null;
  headFill: number | null;
  baseFeeGwei: number | null;
}

export type FoldedBlocks = Omit<ChainSample, 'acceptP95Ms' | 'inclusionP95Ms'>;

const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;

/** Gas used ÷ gas limit of a block, 0..1 (0 for a block without a gas limit). */
export function blockFill(block: Pick<BlockRecord, 'gasUsed' | 'gasLimit'>): number {
  return block.gasLimit > 0 ? block.gasUsed / block.gasLimit : 0;
}

/** A base fee in wei (decimal string) as gwei; null when the block has none. */
export function baseFeeGwei(block: Pick<BlockRecord, 'baseFeeWei'>): number | null {
  return block.baseFeeWei === undefined ? null : Number(BigInt(block.baseFeeWei)) / 1e9;
}

/**
 * The chain figures of one interval from the blocks first seen in it (any order), carrying the
 * head, its fill and the base fee over from `before` when none came.
 *
 * @example
 * foldBlocks([{ number: 7, timestamp, seenAt, txs: 12, gasUsed: 18_000_000, gasLimit: 30_000_000, baseFeeWei: '1125000000' }], { head: 6, headFill: 0.4, baseFeeGwei: 1 });
 * // { head: 7, blocks: 1, txs: 12, fill: 0.6, maxFill: 0.6, overHalf: 1, headFill: 0.6, baseFeeGwei: 1.125 }
 */
export function foldBlocks(blocks: readonly BlockRecord[], before: FoldedHead): FoldedBlocks {
  if (blocks.length === 0) return { head: before.head, blocks: 0, txs: 0, fill: null, maxFill: null, overHalf: 0, headFill: before.headFill, baseFeeGwei: before.baseFeeGwei };
  let newest = blocks[0]!;
  let txs = 0;
  let fillSum = 0;
  let maxFill = 0;
  let overHalf = 0;
  for (const block of blocks) {
    if (block.number > newest.number) newest = block;
    const fill = blockFill(block);
    txs += block.txs;
    fillSum += fill;
    if (fill > maxFill) maxFill = fill;
    if (fill > 0.5) overHalf++;
  }
  // A reorg or a restarted chain can hand back a lower number: the newest seen is the head.
  const moved = before.head === null || newest.number >= before.head;
  return {
    head: moved ? newest.number : before.head,
    blocks: blocks.length,
    txs,
    fill: round4(fillSum / blocks.length),
    maxFill: round4(maxFill),
    overHalf,
    headFill: moved ? round4(blockFill(newest)) : before.headFill,
    baseFeeGwei: baseFeeGwei(newest) ?? before.baseFeeGwei,
  };
}
