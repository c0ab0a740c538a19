/**
 * Our relayers' pending transactions and nonce gaps, from their nonces: the chain's `latest` and
 * `pending` transaction counts of each relayer address (two reads each, batched on the run's
 * public client) and, when the relayer pool tells, the next nonce it will hand out.
 */
import type { Address, PublicClient } from 'viem';
import type { RelayersSample } from './chainTypes.ts';

/** A relayer as its pool reports it; `nextNonce` undefined when only the address is known. */
export interface RelayerNonce {
  address: Address;
  nextNonce?: number;
}

/** One relayer's three nonces. */
export interface RelayerNonces {
  /** The pool's next nonce, when known. */
  next?: number;
  /** The chain's transaction count at `pending`: the node's next nonce for it. */
  pending: number;
  /** At `latest`: the relayer's transactions mined. */
  latest: number;
}

/**
 * The relayers' figures (chainTypes.ts `RelayersSample`) from their nonces. Without the pool's
 * next nonce a relayer's pending count is what the node holds, and its gap 0.
 *
 * @example
 * relayersFromNonces([{ next: 12, pending: 11, latest: 8 }]); // { relayers: 1, pending: 4, nonceGap: 1, mempool: 3 }
 */
export function relayersFromNonces(nonces: readonly RelayerNonces[]): RelayersSample {
  let pending = 0;
  let nonceGap = 0;
  let mempool = 0;
  for (const { next, pending: nodeNext, latest } of nonces) {
    const held = Math.max(0, nodeNext - latest);
    mempool += held;
    // The pool's counter was read after the chain: a lower one means sends by someone else.
    const ours = next === undefined ? nodeNext : Math.max(next, nodeNext);
    pending += Math.max(0, ours - latest);
    nonceGap += Math.max(0, ours - nodeNext);
  }
  return { relayers: nonces.length, pending, nonceGap, mempool };
}

/**
 * Reads the chain's nonces of `addresses`, then the pool's next nonces from `next` (after, so a
 * send between the two reads shows as in progress rather than as mined), and folds them.
 *
 * @example
 * const sample = await readRelayers(publicClient, pool.addresses, async () => pool.stats().relayers);
 */
export async function readRelayers(client: PublicClient, addresses: readonly Address[], next?: () => Promise<readonly RelayerNonce[]>): Promise<RelayersSample> {
  const chain = await Promise.all(
    addresses.map(async (address) => {
      const [pending, latest] = await Promise.all([
        client.getTransactionCount({ address, blockTag: 'pending' }),
        client.getTransactionCount({ address, blockTag: 'latest' }),
      ]);
      return { address, pending, latest };
    }),
  );
  const pool = next ? await next() : [];
  const byAddress = new Map(pool.map((r) => [r.address.toLowerCase(), r.nextNonce]));
  return relayersFromNonces(
    chain.map(({ address, pending, latest }) => {
      const nextNonce = byAddress.get(address.toLowerCase());
      return nextNonce === undefined ? { pending, latest } : { next: nextNonce, pending, latest };
    }),
  );
}
