/**
 * The chain section of report.html: the bottleneck line, the chain's figures over the run, and
 * time charts on the run's clock (they share the load charts' cursor): block fill against the
 * half-full line, the base fee, the RPC accept vs inclusion p95 of the flows' transactions, our
 * relayers' pending transactions and nonce gap, and the personal server's queue.
 */
import { describeChainLoad } from '../metrics/chainSignal.ts';
import type { RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { REPORT_COLORS, type HtmlChart, type HtmlChartSeries, type HtmlChartUnit } from './htmlCharts.ts';
import { escapeHtml, formatMs } from './htmlFormat.ts';
import { renderTable } from './htmlTables.ts';

/** The ids of the chain charts, in page order. */
export const CHAIN_CHART_IDS = ['chain-fill', 'chain-base-fee', 'chain-inclusion', 'chain-relayers', 'chain-ps-queue'] as const;

const NO_CHAIN = 'The chain was not sampled in this run.';
const percent = (ratio: number | null): number | null => (ratio === null ? null : Math.round(ratio * 10_000) / 100);

/** Whether the run has a chain timeline: its samples or its summary say so. */
export function hasChainTimeline(summary: RunSummary, samples: readonly TimeseriesSample[]): boolean {
  return summary.chain !== undefined || samples.some((s) => s.chain !== undefined);
}

/**
 * The chain charts of a run (empty notes where a figure was not measured, saying why).
 *
 * @example
 * const charts = buildChainCharts(samples, summary.chain?.notes ?? []);
 */
export function buildChainCharts(samples: readonly TimeseriesSample[], notes: readonly string[] = []): HtmlChart[] {
  const x = samples.map((s) => s.elapsedS);
  const sampled = samples.some((s) => s.chain !== undefined);
  const note = (prefix: string): string => notes.find((n) => n.startsWith(prefix)) ?? `Not measured in this run.`;
  const chart = (id: string, title: string, unit: HtmlChartUnit, series: HtmlChartSeries[], empty?: string): HtmlChart => {
    if (!sampled) return { id, title, emptyNote: NO_CHAIN };
    if (empty !== undefined) return { id, title, emptyNote: empty };
    return { id, title, unit, kind: 'line', x, series };
  };
  const c = (i: number): string => REPORT_COLORS[i]!;

  // An interval without a new block shows the newest block's fill: with blocks slower than the
  // samples, the line would otherwise break at every other point.
  const fill = chart('chain-fill', 'Block fill (% of the gas limit) of the blocks of each interval', 'percent', [
    { label: 'mean (or the newest block)', color: c(0), values: samples.map((s) => percent(s.chain ? (s.chain.fill ?? s.chain.headFill ?? null) : null)) },
    { label: 'fullest', color: c(3), spanGaps: true, values: samples.map((s) => percent(s.chain?.maxFill ?? null)) },
    { label: 'half full (base fee rises above)', color: c(4), dashed: true, values: samples.map((s) => (s.chain ? 50 : null)) },
  ]);
  const fees = samples.some((s) => s.chain?.baseFeeGwei != null);
  const baseFee = chart(
    'chain-base-fee',
    'Base fee of the newest block (gwei)',
    'gwei',
    [{ label: 'base fee', color: c(1), values: samples.map((s) => s.chain?.baseFeeGwei ?? null) }],
    fees ? undefined : 'The chain has no base fee (no EIP-1559), or no block was read.',
  );
  const inclusion = chart(
    'chain-inclusion',
    'Transactions: RPC accept (relay) vs inclusion (confirm), p95 of the steps ended in each interval',
    'ms',
    [
      // Confirms end in bursts as blocks come: with blocks slower than the samples, most intervals have none.
      { label: 'RPC accept p95', color: c(0), spanGaps: true, values: samples.map((s) => s.chain?.acceptP95Ms ?? null) },
      { label: 'accepted → included p95', color: c(3), spanGaps: true, values: samples.map((s) => s.chain?.inclusionP95Ms ?? null) },
    ],
    samples.some((s) => s.chain?.acceptP95Ms != null || s.chain?.inclusionP95Ms != null) ? undefined : 'No flow reached its relay step.',
  );
  const relayers = chart(
    'chain-relayers',
    "Our relayers' transactions",
    'count',
    [
      { label: 'pending (not mined)', color: c(0), values: samples.map((s) => s.relayers?.pending ?? null) },
      { label: 'in the node pool', color: c(2), values: samples.map((s) => s.relayers?.mempool ?? null) },
      { label: 'nonce gap', color: c(3), values: samples.map((s) => s.relayers?.nonceGap ?? null) },
    ],
    samples.some((s) => s.relayers !== undefined) ? undefined : note('relayers'),
  );
  const queue = chart(
    'chain-ps-queue',
    "Personal server's queue",
    'count',
    [
      { label: 'preparing', color: c(1), values: samples.map((s) => s.personalServer?.preparing ?? null) },
      { label: 'running', color: c(0), values: samples.map((s) => s.personalServer?.running ?? null) },
    ],
    samples.some((s) => s.personalServer !== undefined) ? undefined : note('personal-server'),
  );
  return [fill, baseFee, inclusion, relayers, queue];
}

/** The bottleneck line of the verdict section; empty when the chain was not the bottleneck. */
export function renderChainBottleneck(summary: RunSummary): string {
  const bottleneck = summary.chain?.bottleneck;
  if (!bottleneck) return '';
  return `<p class="warning" data-bottleneck="${bottleneck.kind}">Bottleneck: ${escapeHtml(bottleneck.text)}</p>`;
}

/**
 * The chain section, around its charts already rendered (`renderChart` of html.ts, in
 * `CHAIN_CHART_IDS` order).
 */
export function renderChainSection(summary: RunSummary, charts: readonly string[]): string {
  const chain = summary.chain;
  const rows: Array<[string, string]> = [];
  if (chain) {
    rows.push(['blocks', chain.load ? describeChainLoad(chain.load) : 'none seen during the run']);
    rows.push(['transactions', `${chain.txs} in ${chain.blocks} blocks${chain.blockIntervalS === null ? '' : `, a block every ${chain.blockIntervalS.toFixed(2)} s`}`]);
    const { rpcAcceptP95Ms, inclusionP95Ms, inclusionMaxMs } = chain.inclusion;
    const ms = (v: number | null): string => (v === null ? '—' : formatMs(v));
    rows.push(['RPC accept (relay) p95', ms(rpcAcceptP95Ms)]);
    rows.push(['accepted → included (confirm)', `p95 ${ms(inclusionP95Ms)}, max ${ms(inclusionMaxMs)}`]);
    if (chain.relayers) rows.push(['relayers (peaks)', `${chain.relayers.peakPending} pending, nonce gap ${chain.relayers.peakNonceGap}, ${chain.relayers.peakMempool} in the node pool`]);
    if (chain.personalServer) rows.push(['personal server (peaks)', `${chain.personalServer.peakPreparing} preparing, ${chain.personalServer.peakRunning} running`]);
    rows.push(['bottleneck', chain.bottleneck ? chain.bottleneck.text : 'not the chain: blocks at most half full on average, base fee up by at most 10 %, inclusion p95 within 3 blocks (or 5 s)']);
  }
  const notes = chain?.notes.length ? `<ul class="empty">${chain.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  const [fill, baseFee, inclusion, relayers, queue] = charts;
  return `<section id="chain">
<h2>Chain</h2>
${rows.length > 0 ? `<div class="table-wrap">${renderTable(['', ''], rows, 'keyvalue')}</div>` : ''}
<div class="grid">
${fill ?? ''}
${baseFee ?? ''}
</div>
<div class="grid">
${inclusion ?? ''}
${relayers ?? ''}
</div>
${queue ?? ''}
${notes}
</section>`;
}
