/**
 * The chain timeline's Prometheus metrics (docs/prometheus.md), registered on the exporter's own
 * registry and set from each sample: the chain's head, block fill and base fee, transactions
 * mined, the flows' accept and inclusion p95, our relayers' pending transactions and nonce gap,
 * and the personal server's queue. A figure the run does not measure is never set (absent, not 0).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TimeseriesSample } from '../metrics/types.ts';

export interface ChainMetrics {
  update(sample: TimeseriesSample): void;
}

/**
 * @example
 * const chain = createChainMetrics(registry);
 * chain.update(sample);
 */
export function createChainMetrics(registry: Registry): ChainMetrics {
  const registers = [registry];
  const head = new Gauge({ name: 'vana_load_chain_head_block', help: 'Newest block number the chain timeline read.', registers });
  const blocks = new Counter({ name: 'vana_load_chain_blocks_total', help: 'Blocks the chain timeline read during the run.', registers });
  const txs = new Counter({ name: 'vana_load_chain_transactions_total', help: 'Transactions in the blocks read during the run (everyone\'s, not only ours).', registers });
  const fill = new Gauge({
    name: 'vana_load_chain_block_fill_ratio',
    help: 'Gas used / gas limit of the blocks of the last interval: mean and max (0..1). Over 0.5 the base fee rises.',
    labelNames: ['stat'] as const,
    registers,
  });
  const baseFee = new Gauge({ name: 'vana_load_chain_base_fee_gwei', help: 'Base fee per gas of the newest block, in gwei.', registers });
  const accept = new Gauge({ name: 'vana_load_tx_accept_p95_seconds', help: 'p95 of relay steps ended in the last interval: request sent until a node held the transaction.', registers });
  const inclusion = new Gauge({ name: 'vana_load_tx_inclusion_p95_seconds', help: 'p95 of confirm steps ended in the last interval: transaction accepted until its receipt was seen.', registers });
  const relayers = new Gauge({
    name: 'vana_load_relayer_transactions',
    help: "Our relayers' transactions: pending (nonce handed out, not mined), nonce_gap (handed out, not held by the node in order), mempool (held by the node, not mined).",
    labelNames: ['state'] as const,
    registers,
  });
  const queue = new Gauge({
    name: 'vana_load_personal_server_operations',
    help: "The personal server's work in progress: preparing (before its 202) and running.",
    labelNames: ['state'] as const,
    registers,
  });
  // An unlabelled gauge reads 0 from its creation; a figure not measured yet must be absent instead.
  for (const gauge of [head, baseFee, accept, inclusion]) gauge.remove();
  return {
    update({ chain, relayers: r, personalServer: ps }) {
      if (chain) {
        if (chain.head !== null) head.set(chain.head);
        blocks.inc(chain.blocks);
        txs.inc(chain.txs);
        if (chain.fill !== null) fill.set({ stat: 'mean' }, chain.fill);
        if (chain.maxFill !== null) fill.set({ stat: 'max' }, chain.maxFill);
        if (chain.baseFeeGwei !== null) baseFee.set(chain.baseFeeGwei);
        if (chain.acceptP95Ms !== null) accept.set(chain.acceptP95Ms / 1_000);
        if (chain.inclusionP95Ms !== null) inclusion.set(chain.inclusionP95Ms / 1_000);
      }
      if (r) {
        relayers.set({ state: 'pending' }, r.pending);
        relayers.set({ state: 'nonce_gap' }, r.nonceGap);
        relayers.set({ state: 'mempool' }, r.mempool);
      }
      if (ps) {
        queue.set({ state: 'preparing' }, ps.preparing);
        queue.set({ state: 'running' }, ps.running);
      }
    },
  };
}
