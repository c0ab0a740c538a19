/**
 * The chain over a run (`summary.chain`), from the samples of `timeseries.jsonl` and the step
 * percentiles: so a live run and `vana-load report` on its directory agree. It names the chain as
 * the bottleneck when its blocks ran over half full or its base fee climbed (the rule of
 * chainSignal.ts, shared with `vana-load capacity`), or when inclusion lagged: transactions the
 * node had accepted waited far longer than a few blocks for one to include them.
 */
import { baseFeeClimb, chainSignal, formatGwei, type ChainLoad } from './chainSignal.ts';
import type { ChainRunSummary } from './chainTypes.ts';
import type { Percentiles, TimeseriesSample } from './types.ts';
import { formatDuration } from '../util/format.ts';

/** Inclusion lags when the `confirm` p95 is over this many block intervals... */
export const INCLUSION_LAG_BLOCKS = 3;
/** ...and over this many ms: below it, a wait is no lag whatever the block time (automine, sub-second blocks). */
export const INCLUSION_LAG_FLOOR_MS = 5_000;

export interface SummarizeChainParameters {
  samples: readonly TimeseriesSample[];
  /** `summary.steps`: `relay` is the RPC accept, `confirm` the inclusion. */
  steps: { relay?: Percentiles; confirm?: Percentiles };
  /** What the live run could not measure, and why. */
  notes?: readonly string[];
}

const gweiToWei = (gwei: number): string => BigInt(Math.round(gwei * 1e9)).toString();

/** The run's blocks as one `ChainLoad`, from the per-interval figures; null when no block was seen. */
export function chainLoadOfSamples(samples: readonly TimeseriesSample[]): ChainLoad | null {
  let blocks = 0;
  let fillSum = 0;
  let overHalf = 0;
  const fees: number[] = [];
  for (const { chain } of samples) {
    if (!chain) continue;
    blocks += chain.blocks;
    fillSum += (chain.fill ?? 0) * chain.blocks;
    overHalf += chain.overHalf;
    if (chain.baseFeeGwei !== null) fees.push(chain.baseFeeGwei);
  }
  if (blocks === 0 || fees.length === 0) return null;
  // The largest climb: the highest ratio of a fee to the lowest one before it.
  let low = fees[0]!;
  let climb = { from: low, to: low };
  for (const fee of fees) {
    if (fee / low > climb.to / climb.from) climb = { from: low, to: fee };
    if (fee < low) low = fee;
  }
  return {
    blocks,
    meanGasUsedRatio: fillSum / blocks,
    overHalfFullShare: overHalf / blocks,
    baseFeeFirstWei: gweiToWei(fees[0]!),
    baseFeeLastWei: gweiToWei(fees.at(-1)!),
    baseFeeClimb: { fromWei: gweiToWei(climb.from), toWei: gweiToWei(climb.to) },
  };
}

/**
 * The chain part of `summary.json`; undefined when no sample carries chain figures (a run from
 * before the timeline existed).
 *
 * @example
 * const chain = summarizeChain({ samples, steps: summary.steps, notes });
 * chain?.bottleneck?.text; // 'the chain — blocks 72 % full on average, base fee 1.00 gwei → 14.00 gwei'
 */
export function summarizeChain({ samples, steps, notes = [] }: SummarizeChainParameters): ChainRunSummary | undefined {
  const withChain = samples.filter((s) => s.chain !== undefined);
  if (withChain.length === 0) return undefined;
  const load = chainLoadOfSamples(withChain);
  const blocks = load?.blocks ?? 0;
  const txs = withChain.reduce((sum, s) => sum + (s.chain?.txs ?? 0), 0);
  const spanS = withChain.at(-1)!.elapsedS;
  const blockIntervalS = blocks >= 2 && spanS > 0 ? Math.round((spanS / blocks) * 1_000) / 1_000 : null;
  const inclusion = {
    rpcAcceptP95Ms: steps.relay?.p95 ?? null,
    inclusionP95Ms: steps.confirm?.p95 ?? null,
    inclusionMaxMs: steps.confirm?.max ?? null,
  };
  const summary: ChainRunSummary = { blocks, txs, load, blockIntervalS, inclusion, bottleneck: chainBottleneck(load, inclusion, blockIntervalS), notes: [...notes] };

  const relayers = samples.flatMap((s) => (s.relayers ? [s.relayers] : []));
  if (relayers.length > 0) {
    summary.relayers = {
      peakPending: Math.max(...relayers.map((r) => r.pending)),
      peakNonceGap: Math.max(...relayers.map((r) => r.nonceGap)),
      peakMempool: Math.max(...relayers.map((r) => r.mempool)),
    };
  }
  const queue = samples.flatMap((s) => (s.personalServer ? [s.personalServer] : []));
  if (queue.length > 0) {
    summary.personalServer = { peakPreparing: Math.max(...queue.map((q) => q.preparing)), peakRunning: Math.max(...queue.map((q) => q.running)) };
  }
  return summary;
}

/**
 * The chain as the bottleneck, or null: first its blocks (over half full, or the base fee rising:
 * chainSignal.ts), then inclusion (the `confirm` p95 over `INCLUSION_LAG_BLOCKS` block intervals
 * and over `INCLUSION_LAG_FLOOR_MS`).
 */
export function chainBottleneck(
  load: ChainLoad | null,
  inclusion: ChainRunSummary['inclusion'],
  blockIntervalS: number | null,
): ChainRunSummary['bottleneck'] {
  const signal = load ? chainSignal(load) : undefined;
  if (load && signal) {
    const { from, to } = baseFeeClimb(load);
    const fee = signal.startsWith('base fee') ? '' : `, base fee ${formatGwei(from)} → ${formatGwei(to)}`;
    return { kind: 'chain', text: `the chain — ${signal}${fee}` };
  }
  const { inclusionP95Ms, rpcAcceptP95Ms } = inclusion;
  if (inclusionP95Ms === null) return null;
  const limitMs = Math.max(INCLUSION_LAG_FLOOR_MS, INCLUSION_LAG_BLOCKS * (blockIntervalS ?? 0) * 1_000);
  if (inclusionP95Ms <= limitMs) return null;
  const accept = rpcAcceptP95Ms === null ? '' : ` while RPC accept p95 ${formatDuration(rpcAcceptP95Ms)}`;
  const every = blockIntervalS === null ? '' : ` (a block every ${blockIntervalS.toFixed(2)} s)`;
  return { kind: 'inclusion', text: `the chain — inclusion lags: accepted → included p95 ${formatDuration(inclusionP95Ms)}${accept}${every}` };
}
