/**
 * The local stack's chain: anvil, by default without a per-block state root.
 *
 * Anvil 1.7.1 rebuilds the whole state trie for every block it mines (~1.5 µs per storage slot
 * on a 2-core machine; a flow leaves ~38 slots), so on a plain anvil every flow makes every later
 * block dearer: after ~75,000 flows a 10 s block cost anvil most of a core and relays timed out.
 * A real chain's client updates its trie incrementally; that growth is an artefact of the local
 * node, not something a deployment under test would show.
 *
 * A forked anvil leaves the state root out (its fork database cannot compute one, so blocks carry
 * zero). So by default the chain is a fork of a second, empty anvil (`--accounts 0`, automine,
 * idle after start): the same EVM, RPC, dev accounts and prices, a flat cost per block (measured:
 * 2-3 ms per empty block at 0, 0.5M and 1M slots, against 0.75 s and 1.5 s on a plain anvil).
 * Nothing in the Vana flow reads a state root. Reads of accounts the fork has never seen go once
 * to the empty upstream over loopback, then are cached. `stateRoot: true` gives the plain anvil.
 */
import { startAnvil, type Anvil, type StartAnvilParameters } from './anvil.ts';

export interface StartLocalChainParameters extends StartAnvilParameters {
  /**
   * Compute a state root for every block (a plain anvil, whose per-block cost grows with the
   * chain's storage). Default false. Ignored with `forkUrl`: a fork never computes one.
   */
  stateRoot?: boolean;
}

/**
 * Starts the local chain. `rpcUrl`, `port` and `pid` are those of the anvil that mines, `upstreamPid`
 * that of its upstream if any; `stop()` stops both.
 *
 * @example
 * const chain = await startLocalChain({ blockTime: 10 });
 * // … chain.rpcUrl …
 * await chain.stop();
 */
export async function startLocalChain({ stateRoot = false, ...params }: StartLocalChainParameters = {}): Promise<Anvil> {
  if (stateRoot || params.forkUrl !== undefined) return await startAnvil(params);
  const { host, chainId, startTimeoutMs, stopGraceMs, binaryPath, signal, logger } = params;
  const upstream = await startAnvil({
    port: 0,
    accounts: 0,
    ...definedOnly({ host, chainId, startTimeoutMs, stopGraceMs, binaryPath, signal, logger }),
  });
  let chain: Anvil;
  try {
    chain = await startAnvil({ ...params, forkUrl: upstream.rpcUrl });
  } catch (err) {
    await upstream.stop();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...chain,
    upstreamPid: upstream.pid,
    stop: () => (stopping ??= chain.stop().finally(() => upstream.stop())),
  };
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
