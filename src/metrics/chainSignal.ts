/**
 * When the chain is the bottleneck, one rule for `vana-load capacity` (src/capacity/findBottleneck.ts)
 * and for a run's verdict (src/metrics/summarizeChain.ts): its blocks were over half full on
 * average, or its base fee rose by more than 10 % (EIP-1559 raises it after every block over half
 * full, by up to 12.5 %), so transactions compete for room and their fees climb.
 */

/** The chain over a span of blocks: how full they were and where the base fee went. */
export interface ChainLoad {
  /** Blocks read. */
  blocks: number;
  /** Mean of gas used ÷ gas limit over those blocks, 0..1. */
  meanGasUsedRatio: number;
  /** Share of those blocks over half full (EIP-1559 raises the base fee after each). */
  overHalfFullShare: number;
  /** Base fee of the first block read and of the block after the last, in wei (decimal strings: JSON has no bigint). */
  baseFeeFirstWei: string;
  baseFeeLastWei: string;
  /**
   * The base fee's largest climb over the span, in wei, when known (a run's timeline): from a low
   * to the highest after it. First → last can hide it: the base fee falls over the idle blocks
   * before the load, and after it.
   */
  baseFeeClimb?: { fromWei: string; toWei: string };
}

/** Mean gas used ÷ gas limit above which the chain is the bottleneck. */
export const CHAIN_HALF_FULL = 0.5;
/** Base fee growth over a span above which the chain is the bottleneck. */
export const BASE_FEE_RISE = 1.1;

const pct = (x: number): string => `${Math.round(x * 100)} %`;

/**
 * A base fee for people: `14.00 gwei`, `0.12 gwei`, `0.0042 gwei`, `7 wei`. Two decimals down to
 * 0.01 gwei (what `vana-load capacity` prints), then significant digits, then wei.
 */
export function formatGwei(wei: string | bigint): string {
  const value = BigInt(wei);
  const gwei = Number(value) / 1e9;
  if (gwei >= 0.01) return `${gwei.toFixed(2)} gwei`;
  if (value >= 1_000n) return `${Number(gwei.toPrecision(2))} gwei`;
  return `${value} wei`;
}

/** How far the base fee climbed: its largest climb when known, else first → last. */
export function baseFeeClimb(chain: ChainLoad): { from: string; to: string } {
  return chain.baseFeeClimb ? { from: chain.baseFeeClimb.fromWei, to: chain.baseFeeClimb.toWei } : { from: chain.baseFeeFirstWei, to: chain.baseFeeLastWei };
}

/**
 * Why the chain is the bottleneck over `chain` (`blocks 62 % full on average`, `base fee rising
 * 1.00 gwei → 3.20 gwei`), or undefined when it is not.
 *
 * @example
 * chainSignal({ blocks: 40, meanGasUsedRatio: 0.62, overHalfFullShare: 0.8, baseFeeFirstWei: '1000000000', baseFeeLastWei: '1000000000' });
 * // 'blocks 62 % full on average'
 */
export function chainSignal(chain: ChainLoad): string | undefined {
  const { from, to } = baseFeeClimb(chain);
  const rising = chain.blocks >= 2 && BigInt(to) * 100n > BigInt(from) * BigInt(Math.round(BASE_FEE_RISE * 100));
  if (chain.meanGasUsedRatio > CHAIN_HALF_FULL) return `blocks ${pct(chain.meanGasUsedRatio)} full on average`;
  if (rising) return `base fee rising ${formatGwei(from)} → ${formatGwei(to)}`;
  return undefined;
}

/**
 * The chain's figures in one line: `blocks 1 % full on average over 702 blocks (0 % over half
 * full), base fee 1.00 gwei → 0.12 gwei`, with the climb when first → last does not show it.
 */
export function describeChainLoad(chain: ChainLoad): string {
  const { from, to } = baseFeeClimb(chain);
  const hidden = from !== chain.baseFeeFirstWei || to !== chain.baseFeeLastWei;
  const peak = hidden && BigInt(to) > BigInt(from) ? ` (climbed ${formatGwei(from)} → ${formatGwei(to)})` : '';
  return (
    `blocks ${pct(chain.meanGasUsedRatio)} full on average over ${chain.blocks} blocks (${pct(chain.overHalfFullShare)} over half full), ` +
    `base fee ${formatGwei(chain.baseFeeFirstWei)} → ${formatGwei(chain.baseFeeLastWei)}${peak}`
  );
}
