/**
 * The chain timeline in the terminal: its part of the plain live line and its line of the TTY
 * view (block, fill, base fee, accept and inclusion p95, our relayers' pending transactions, the
 * personal server's queue), and its section of the final report with the bottleneck line.
 */
import { describeChainLoad, formatGwei } from '../metrics/chainSignal.ts';
import type { RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { formatDuration } from '../util/format.ts';

const gwei = (value: number): string => formatGwei(BigInt(Math.round(value * 1e9)));
const pct = (ratio: number): string => `${Math.round(ratio * 100)}%`;
const ms = (value: number | null): string => (value === null ? '-' : formatDuration(value));

/** Parts of the plain live line: `block 1234 fill 72% fee 14.00gwei incl 2.10s relayers pend 30 gap 0 ps 2/4` (fill: of that block). */
export function formatChainLiveParts(sample: TimeseriesSample): string[] {
  const { chain, relayers, personalServer } = sample;
  if (!chain) return [];
  const parts = [
    `block ${chain.head ?? '-'} fill ${chain.headFill === null ? '-' : pct(chain.headFill)} fee ${chain.baseFeeGwei === null ? '-' : gwei(chain.baseFeeGwei).replace(' ', '')} incl ${ms(chain.inclusionP95Ms)}`,
  ];
  if (relayers) parts.push(`relayers pend ${relayers.pending} gap ${relayers.nonceGap}`);
  if (personalServer) parts.push(`ps ${personalServer.preparing}/${personalServer.running}`);
  return parts;
}

/** The live view's `chain` line (after its label), or undefined when the run has no timeline. */
export function formatChainFrameLine(sample: TimeseriesSample): string | undefined {
  const { chain, relayers, personalServer } = sample;
  if (!chain) return undefined;
  const blocks =
    chain.blocks === 0
      ? `no new block${chain.headFill === null ? '' : ` (#${chain.head} was ${pct(chain.headFill)} full)`}`
      : `${chain.blocks} block${chain.blocks === 1 ? '' : 's'} ${pct(chain.fill ?? 0)} full (max ${pct(chain.maxFill ?? 0)}), ${chain.txs} tx`;
  const parts = [
    `#${chain.head ?? '-'}  ${blocks}`,
    `base fee ${chain.baseFeeGwei === null ? '-' : gwei(chain.baseFeeGwei)}`,
    `accept p95 ${ms(chain.acceptP95Ms)}  inclusion p95 ${ms(chain.inclusionP95Ms)}`,
  ];
  if (relayers) parts.push(`relayers ${relayers.pending} pending, gap ${relayers.nonceGap}`);
  if (personalServer) parts.push(`ps ${personalServer.preparing} preparing, ${personalServer.running} running`);
  return parts.join(' · ');
}

/** The final report's chain section (empty without a timeline). */
export function formatChainReport(summary: RunSummary, bold: (text: string) => string): string[] {
  const chain = summary.chain;
  if (!chain) return [];
  const out = ['', bold('⛓️  Chain:')];
  out.push(chain.load ? `  ${describeChainLoad(chain.load)}` : `  no block seen during the run`);
  out.push(`  ${chain.txs} transactions in ${chain.blocks} blocks${chain.blockIntervalS === null ? '' : `, a block every ${chain.blockIntervalS.toFixed(2)} s`}`);
  const { rpcAcceptP95Ms, inclusionP95Ms, inclusionMaxMs } = chain.inclusion;
  out.push(`  transactions: RPC accept (relay) p95 ${ms(rpcAcceptP95Ms)} · accepted → included (confirm) p95 ${ms(inclusionP95Ms)}, max ${ms(inclusionMaxMs)}`);
  if (chain.relayers) out.push(`  relayers: peak ${chain.relayers.peakPending} pending, peak nonce gap ${chain.relayers.peakNonceGap}, peak ${chain.relayers.peakMempool} in the node's pool`);
  if (chain.personalServer) out.push(`  personal server: peak ${chain.personalServer.peakPreparing} preparing, ${chain.personalServer.peakRunning} running`);
  for (const note of chain.notes) out.push(`  ${note}`);
  return out;
}

/** `🧱 Bottleneck: the chain — …` when the chain was the bottleneck, else nothing. */
export function formatChainBottleneck(summary: RunSummary): string[] {
  const bottleneck = summary.chain?.bottleneck;
  return bottleneck ? [`🧱 Bottleneck: ${bottleneck.text}`] : [];
}
