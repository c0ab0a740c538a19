/**
 * The relayer pool's public types: its options, what it is asked to relay, what it answers, and
 * its counters. The pool itself is in relayerPool.ts.
 */
import type { Abi, Address, Hex, LocalAccount } from 'viem';
import type { Logger } from 'pino';
import type { InfrastructureError } from '../errors.ts';
import type { ErrorClass } from '../flow.ts';

/**
 * How the pool picks a gas limit.
 *
 * The cost of one call varies with chain state, not only with its shape: on the local contracts an
 * `addServerFilesAndPermissions` with one file costs 1,234,385 gas for a first-time user (it
 * registers the user's server) and 852,073 for a repeat user (it only re-trusts it), with the same
 * 1,892 calldata bytes. A cached estimate therefore carries 60% headroom; a per-tx one can be
 * tight and doubles as the revert check, but anvil spends ~3× the CPU of the send itself on it
 * (binary search): on this machine 100 tx/s with `'estimate'` against 281 tx/s with `'cached'`.
 */
export type GasLimitMode =
  /**
   * Estimate once per call shape (selector + 64-byte calldata bucket), reuse it with headroom
   * (default). The pool does not see that a later tx of the shape would revert: the caller checks
   * first (the API server's src/chain/relayPreflight.ts, one `eth_call`, ~1/14 of an estimate).
   */
  | 'cached'
  /** `eth_estimateGas` for every submission: one more RPC and ~3× the node CPU per tx; every revert is refused before sending. */
  | 'estimate';

export interface RelayerPoolGasOptions {
  /** Default `'cached'` (see `GasLimitMode`). */
  mode?: GasLimitMode;
  /** Gas limit = estimate × headroomPercent / 100. Default 160 in `'cached'` mode, 120 in `'estimate'`. */
  headroomPercent?: number;
  /** Upper bound on any gas limit. Default 5_000_000. */
  maxGasLimit?: bigint;
  /** How often the cached fee estimate is refreshed, ms. Default 2_000. */
  feeRefreshMs?: number;
  /** In `'cached'` mode, how long a shape's estimate is reused, ms. Default 60_000. */
  shapeTtlMs?: number;
  /** Fee bump of a replacement, percent (nodes require ≥ 10). Default 25. */
  replacementBumpPercent?: number;
  /** Cap on maxFeePerGas, wei. A base fee that leaves no room under it fails the submission as `underpriced`. */
  maxFeePerGasCap?: bigint;
  /** Cap on maxPriorityFeePerGas, wei. */
  maxPriorityFeePerGasCap?: bigint;
}

export interface RelayerPoolFundsOptions {
  /** How often balances are read, ms. Default 5_000. */
  checkIntervalMs?: number;
  /** Most the pool may spend in all, wei: gas paid by mined txs plus the most its txs in flight can cost. */
  maxSpendWei?: bigint;
  /** Told once, when no relayer can pay for one more tx or the spend cap is reached; submissions fail from then on. */
  onExhausted?: (error: InfrastructureError) => void;
}

export interface RelayerPoolRepairOptions {
  /** How often the watcher looks at relayers with txs in flight, ms. Default 1_000. */
  checkIntervalMs?: number;
  /** A relayer whose chain nonce made no progress for this long while it has txs in flight is repaired, ms. Default 15_000. */
  stuckAfterMs?: number;
}

export interface CreateRelayerPoolParameters {
  rpcUrl: string;
  chainId: number;
  /** Funded relayer accounts; each gets its own nonce counter. */
  accounts: readonly LocalAccount[];
  logger?: Logger;
  gas?: RelayerPoolGasOptions;
  repair?: RelayerPoolRepairOptions;
  /**
   * Watch the relayers' balances (keys the user pays for): a relayer that cannot pay for a tx is
   * skipped, and when none can, or `maxSpendWei` is reached, the pool stops with an
   * `InfrastructureError` (`RELAYER_KEYS_DRY`, `RELAYER_SPEND_CAP`) naming each key and what it
   * needs. Off when absent (the local stack funds its own relayers).
   */
  funds?: RelayerPoolFundsOptions;
  /** Attempts per submission across resyncs and transient RPC failures. Default 5. */
  maxAttempts?: number;
  /** Timeout of one JSON-RPC request, ms. Default 10_000. */
  rpcTimeoutMs?: number;
}

/** One contract call to relay. */
export interface RelayerCall {
  to: Address;
  data: Hex;
  /** ABI used to decode a revert into its custom error name. */
  abi?: Abi;
  /** Cache key for the gas estimate in `'cached'` mode; default: selector + calldata size bucket. */
  shape?: string;
}

/** What the pool did with a call: the tx hash the client waits on, and who sent it. */
export interface RelayerSubmission {
  hash: Hex;
  relayer: Address;
  nonce: number;
  gas: bigint;
}

export interface RelayerStats {
  address: Address;
  nextNonce: number;
  /** Sent and not yet seen mined, plus sends in progress. */
  pending: number;
  submitted: number;
  /** Last balance read, wei (funds watching only). */
  balanceWei?: bigint;
}

export interface RelayerPoolStats {
  submitted: number;
  /** Counter resyncs from the chain after a nonce rejection. */
  resyncs: number;
  /** Same-nonce replacements with bumped fees. */
  replacements: number;
  /** Dropped txs re-sent by the watcher. */
  gapRepairs: number;
  /** Nonce holes filled with a self-transfer. */
  gapFills: number;
  /** Submission attempts repeated (resync, transient RPC error, fee refresh). */
  retries: number;
  gasEstimates: number;
  /** Errors surfaced to callers, by class. */
  errorsByClass: Record<ErrorClass, number>;
  relayers: RelayerStats[];
  /** Funds watching only: spent so far (balance drops) plus the most txs in flight may still cost, wei. */
  spentWei?: bigint;
}

export interface RelayerPool {
  readonly size: number;
  readonly addresses: readonly Address[];
  /**
   * Relays one call. Resolves once a node accepted the tx (never waits for a receipt). Rejects
   * with a `RelayerRevertError` (class `revert`, `revertName` set) when the gas estimate reverts,
   * or a `VanaLoadError` of class `network`/`timeout`/`nonce`/`underpriced`/`other` for failures
   * the pool could not fix.
   */
  submit(call: RelayerCall): Promise<RelayerSubmission>;
  /** Txs sent and not yet seen mined, plus sends in progress, over all relayers. */
  pending(): number;
  stats(): RelayerPoolStats;
  /** Runs one watcher pass now (the timer runs them anyway). */
  checkNow(): Promise<void>;
  /** Stops the timers and waits for a running watcher pass; sends in progress finish on their own. */
  stop(): Promise<void>;
}
