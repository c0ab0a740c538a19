/**
 * The chain-aware timeline of a run (issue 16): what the chain, our relayers and the personal
 * server were doing while the load ran. Per block in `blocks.jsonl` (`BlockRecord`), per sampler
 * interval in `timeseries.jsonl` (`ChainSample`, `RelayersSample`, `PersonalServerQueueSample`),
 * and over the run in `summary.json` (`ChainRunSummary`). Timestamps are epoch ms.
 */
import type { ChainLoad } from './chainSignal.ts';

/** One block as the block watcher read it: a line of `blocks.jsonl`. */
export interface BlockRecord {
  number: number;
  /** The block's own timestamp, epoch ms (the chain's clock, whole seconds). */
  timestamp: number;
  /** When the watcher first saw the block (harness clock). */
  seenAt: number;
  /** Transactions in the block. */
  txs: number;
  gasUsed: number;
  gasLimit: number;
  /** Base fee per gas in wei (decimal: JSON has no bigint); absent on a chain without EIP-1559. */
  baseFeeWei?: string;
}

/** The blocks first seen in one sampler interval (the `chain` field of a sample). */
export interface ChainSample {
  /** Newest block number seen so far; null before the first. */
  head: number | null;
  /** Blocks first seen in the interval. */
  blocks: number;
  /** Transactions in those blocks. */
  txs: number;
  /** Mean gas used ÷ gas limit over those blocks, 0..1; null when no block was seen. */
  fill: number | null;
  /** The fullest of those blocks, 0..1; null when none. */
  maxFill: number | null;
  /** Those blocks that were over half full (EIP-1559 raises the base fee after each). */
  overHalf: number;
  /** Gas used ÷ gas limit of the head block, 0..1, carried over intervals without a block; null before the first. */
  headFill: number | null;
  /** Base fee of the newest block seen so far, gwei; null when unknown. */
  baseFeeGwei: number | null;
  /** p95 of `relay` steps that ended in the interval: request sent → a node held the tx (RPC accept). */
  acceptP95Ms: number | null;
  /** p95 of `confirm` steps that ended in the interval: tx accepted → its receipt seen (block inclusion). */
  inclusionP95Ms: number | null;
}

/**
 * Our relayers at the end of an interval, from their nonces: `pending` = nonces handed out and not
 * yet mined (next nonce − the chain's `latest` nonce), `nonceGap` = nonces handed out that the
 * node does not hold in order (next nonce − its `pending` nonce: sends in progress, dropped txs,
 * holes), `mempool` = txs the node holds and has not mined (`pending` − `latest` nonce).
 */
export interface RelayersSample {
  relayers: number;
  pending: number;
  nonceGap: number;
  mempool: number;
}

/** The personal server's work in progress, where it tells (ours does, on `GET /stats`). */
export interface PersonalServerQueueSample {
  /** `POST /operations` requests being prepared (permission read, files fetched, decrypted). */
  preparing: number;
  /** Operations accepted and not finished (pending + running inference). */
  running: number;
}

/** The chain over a run, in `summary.json`. */
export interface ChainRunSummary {
  /** Blocks first seen during the run. */
  blocks: number;
  txs: number;
  /** How full the blocks were and where the base fee went; null when no block was seen. */
  load: ChainLoad | null;
  /** Mean seconds between the run's blocks (their timestamps); null with fewer than two. */
  blockIntervalS: number | null;
  /**
   * The flow's transaction in two segments: `rpcAcceptMs` = the `relay` step (request sent → a
   * node held it; the hash comes back only after a node accepted it, in every relay mode) and
   * `inclusionMs` = the `confirm` step (accepted → its receipt seen: block inclusion plus at most
   * one receipt-watcher poll). p95s in ms; null when no flow got that far.
   */
  inclusion: { rpcAcceptP95Ms: number | null; inclusionP95Ms: number | null; inclusionMaxMs: number | null };
  /** Peaks over the run; absent when not measured (see `notes`). */
  relayers?: { peakPending: number; peakNonceGap: number; peakMempool: number };
  personalServer?: { peakPreparing: number; peakRunning: number };
  /** The chain named as the run's bottleneck, or null when it was not. */
  bottleneck: { kind: 'chain' | 'inclusion'; text: string } | null;
  /** What was not measured, and why. */
  notes: string[];
}
