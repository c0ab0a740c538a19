/**
 * The relayer pool behind `/api/relay`: N relayer EOAs that pay gas for users' signed calls.
 *
 * Throughput comes from pipelining: each relayer keeps a LOCAL nonce counter, so a submission is
 * encode → sign locally → `eth_sendRawTransaction`, and the next one never waits for a receipt.
 * The price of local counters is that they can drift from the chain; the pool repairs that itself:
 * - a nonce rejection ("nonce too low", "already known", "replacement transaction underpriced")
 *   resyncs that relayer's counter from the chain and retries, so the client never sees it;
 * - a watcher finds a relayer whose chain nonce is stuck below its oldest in-flight tx (the tx was
 *   dropped from the mempool, or a nonce was skipped) and re-sends the tx or fills the hole.
 * A revert found by the gas estimate is the client's error (its nonce, its signature): no retry.
 */
import {
  formatGwei,
  keccak256,
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
} from 'viem';
import type { Logger } from 'pino';
import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { ERROR_CLASSES, type ErrorClass } from '../flow.ts';
import { silentLogger } from '../logger.ts';
import { createJsonRpc } from './jsonRpc.ts';
import { createRelayerFunds, type RelayerFunds } from './relayerFunds.ts';
import { classifySendError, errorText, revertDataOf, SEND_ERROR_CLASS, toRevertError, type SendErrorKind } from './sendErrors.ts';

export { RelayerRevertError } from './sendErrors.ts';

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


interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

interface InflightTx {
  hash: Hex;
  raw: Hex;
  to: Address;
  data: Hex;
  gas: bigint;
  fees: Fees;
  sentAt: number;
  /** Filler self-transfer rather than a client's call. */
  filler: boolean;
  /** The client was told the send failed although the node may have taken it. */
  uncertain: boolean;
}

interface Relayer {
  account: LocalAccount;
  nextNonce: number;
  /** Chain nonce at `latest`, as last seen by the watcher. */
  minedNonce: number;
  /** When `minedNonce` last advanced (or the relayer was last repaired). */
  progressAt: number;
  inflight: Map<number, InflightTx>;
  sending: Set<number>;
  /** Tail of the queue that keeps first sends in nonce order. */
  sendTail: Promise<void>;
  submitted: number;
  /** Upper bound of what sends in progress may cost, wei (funds watching). */
  reservedWei: bigint;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const bump = (value: bigint, percent: number) => (value * BigInt(100 + percent) + 99n) / 100n;
const capped = (value: bigint, cap: bigint | undefined) => (cap !== undefined && value > cap ? cap : value);

/**
 * Creates a relayer pool over funded accounts: reads each account's pending nonce, fetches a fee
 * estimate, and starts the fee refresher and the gap-repair watcher.
 *
 * @example
 * const pool = await createRelayerPool({ rpcUrl, chainId, accounts: [relayerAccount(0), relayerAccount(1)] });
 * const { hash } = await pool.submit({ to: permissions, data, abi: dataPortabilityPermissionsAbi });
 * await pool.stop();
 */
export async function createRelayerPool({
  rpcUrl,
  chainId,
  accounts,
  logger = silentLogger(),
  gas: gasOptions = {},
  repair: repairOptions = {},
  funds: fundsOptions,
  maxAttempts = 5,
  rpcTimeoutMs = 10_000,
}: CreateRelayerPoolParameters): Promise<RelayerPool> {
  if (accounts.length === 0) throw new ConfigError('Expected at least one relayer account, got 0', { code: 'RELAYER_POOL_EMPTY' });
  const {
    mode = 'cached',
    headroomPercent = mode === 'estimate' ? 120 : 160,
    maxGasLimit = 5_000_000n,
    feeRefreshMs = 2_000,
    shapeTtlMs = 60_000,
    replacementBumpPercent = 25,
    maxFeePerGasCap,
    maxPriorityFeePerGasCap,
  } = gasOptions;
  const { checkIntervalMs = 1_000, stuckAfterMs = 15_000 } = repairOptions;
  const log = logger.child({ module: 'relayerPool' });
  // No transport-level retries: this module decides what a retry means for a nonce.
  const rpc = createJsonRpc(rpcUrl, rpcTimeoutMs);

  const counts = { submitted: 0, resyncs: 0, replacements: 0, gapRepairs: 0, gapFills: 0, retries: 0, gasEstimates: 0 };
  const errorsByClass = Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>;
  const shapes = new Map<string, { gas: bigint; at: number }>();

  const chainNonce = async (address: Address, tag: 'latest' | 'pending') => Number(await rpc.request<Hex>('eth_getTransactionCount', [address, tag]));
  const baseFeeNow = async () => BigInt((await rpc.request<{ baseFeePerGas?: Hex } | null>('eth_getBlockByNumber', ['latest', false]))?.baseFeePerGas ?? '0x0');

  let relayers: Relayer[];
  let fees: Fees;
  let funds: RelayerFunds | undefined;
  /** Base fee of the latest block, as last read with the fees. */
  let baseFee = 0n;
  try {
    const now = Date.now();
    relayers = await Promise.all(
      accounts.map(async (account) => {
        const [pending, latest] = await Promise.all([chainNonce(account.address, 'pending'), chainNonce(account.address, 'latest')]);
        return { account, nextNonce: pending, minedNonce: latest, progressAt: now, inflight: new Map(), sending: new Set(), sendTail: Promise.resolve(), submitted: 0, reservedWei: 0n };
      }),
    );
    fees = await fetchFees();
    funds = fundsOptions
      ? await createRelayerFunds({ rpc, addresses: relayers.map((r) => r.account.address), ...fundsOptions, logger: log })
      : undefined;
  } catch (cause) {
    rpc.close();
    throw new InfrastructureError(`Relayer pool could not read its accounts from ${rpcUrl}`, { code: 'RELAYER_POOL_INIT', cause });
  }

  async function fetchFees(): Promise<Fees> {
    const [base, tip] = await Promise.all([baseFeeNow(), rpc.request<Hex>('eth_maxPriorityFeePerGas').catch(() => '0x0' as Hex)]);
    baseFee = base;
    const maxPriorityFeePerGas = capped(BigInt(tip), maxPriorityFeePerGasCap);
    // 2 × base fee absorbs six full blocks of base-fee growth before a cached estimate goes stale.
    return { maxFeePerGas: capped(base * 2n + maxPriorityFeePerGas, maxFeePerGasCap), maxPriorityFeePerGas };
  }

  /** A tx priced under the base fee would wait forever: refuse it, naming the cap. */
  function checkFeeCap(): void {
    if (maxFeePerGasCap === undefined || baseFee + fees.maxPriorityFeePerGas <= maxFeePerGasCap) return;
    throw new VanaLoadError(`Relayer fee cap too low: base fee ${formatGwei(baseFee)} gwei + tip is above the cap VANA_MAX_FEE_PER_GAS of ${formatGwei(maxFeePerGasCap)} gwei`, {
      code: 'RELAYER_FEE_CAP',
      errorClass: 'underpriced',
      step: 'relay',
    });
  }

  /** What a relayer's txs in flight and sends in progress may still cost, wei. */
  function committedWei(r: Relayer): bigint {
    let sum = r.reservedWei;
    for (const tx of r.inflight.values()) sum += tx.gas * tx.fees.maxFeePerGas;
    return sum;
  }

  let feeRefreshing: Promise<void> | undefined;
  function refreshFees(): Promise<void> {
    feeRefreshing ??= fetchFees()
      .then((next) => {
        fees = next;
      })
      .catch((err: unknown) => log.warn({ err: errorText(err) }, 'fee refresh failed; keeping the previous estimate'))
      .finally(() => {
        feeRefreshing = undefined;
      });
    return feeRefreshing;
  }

  async function estimate(call: RelayerCall, from: Address): Promise<bigint> {
    counts.gasEstimates++;
    try {
      return BigInt(await rpc.request<Hex>('eth_estimateGas', [{ from, to: call.to, data: call.data }, 'latest']));
    } catch (err) {
      if (classifySendError(err) === 'revert' || revertDataOf(err) !== undefined) throw toRevertError(err, call.abi);
      throw asPoolError(err, 'estimating gas');
    }
  }

  const estimating = new Map<string, Promise<bigint>>();
  async function gasLimitFor(call: RelayerCall, from: Address): Promise<bigint> {
    const withHeadroom = (g: bigint) => {
      const limit = (g * BigInt(headroomPercent)) / 100n;
      return limit > maxGasLimit ? maxGasLimit : limit;
    };
    if (mode === 'estimate') return withHeadroom(await estimate(call, from));
    // 64-byte buckets: two storage words of string, ~44k gas, is all one bucket can differ by.
    const shape = call.shape ?? `${call.data.slice(0, 10)}:${Math.ceil(call.data.length / 128)}`;
    const cached = shapes.get(shape);
    if (cached && Date.now() - cached.at < shapeTtlMs) return cached.gas;
    const running = estimating.get(shape);
    if (running) {
      try {
        return await running;
      } catch {
        // That call reverted; it says nothing about ours, so estimate ours.
      }
    }
    const estimated = estimate(call, from).then(withHeadroom);
    estimating.set(shape, estimated);
    try {
      const gas = await estimated;
      // Keep the larger limit: a first-time user of a shape costs more than a repeat one.
      const previous = shapes.get(shape)?.gas ?? 0n;
      const keep = previous > gas ? previous : gas;
      shapes.set(shape, { gas: keep, at: Date.now() });
      return keep;
    } finally {
      if (estimating.get(shape) === estimated) estimating.delete(shape);
    }
  }

  let cursor = 0;
  /** A relayer for a tx that may cost up to `costWei`; throws when funds watching finds none that can pay. */
  function choose(costWei: bigint): Relayer {
    if (funds) funds.checkCap(costWei, relayers.reduce((sum, r) => sum + committedWei(r), 0n));
    // Least sends in progress, round-robin among equals: spreads load and routes around a
    // relayer that is stuck retrying. With funds watching, only relayers that can pay.
    let best: Relayer | undefined;
    for (let i = 0; i < relayers.length; i++) {
      const r = relayers[(cursor + i) % relayers.length]!;
      if (funds && !funds.affordable(r.account.address, costWei, committedWei(r))) continue;
      if (best === undefined || r.sending.size < best.sending.size) best = r;
    }
    cursor = (cursor + 1) % relayers.length;
    return best ?? funds!.refuse(costWei, new Map(relayers.map((r) => [r.account.address, committedWei(r)])));
  }

  async function sign(r: Relayer, nonce: number, to: Address, data: Hex, gas: bigint, f: Fees) {
    const raw = await signRaw(r, nonce, to, data, gas, f);
    return { raw, hash: keccak256(raw) };
  }

  function signRaw(r: Relayer, nonce: number, to: Address, data: Hex, gas: bigint, f: Fees): Promise<Hex> {
    return r.account.signTransaction({
      type: 'eip1559',
      chainId,
      nonce,
      to,
      data,
      gas,
      value: 0n,
      maxFeePerGas: f.maxFeePerGas,
      maxPriorityFeePerGas: f.maxPriorityFeePerGas,
    });
  }

  /** Sends a signed tx; resolves to the hash the node answered (keccak of `raw`), when it is one. */
  async function sendRaw(raw: Hex): Promise<Hex | undefined> {
    const answer = await rpc.request<unknown>('eth_sendRawTransaction', [raw]);
    return typeof answer === 'string' && /^0x[0-9a-fA-F]{64}$/.test(answer) ? (answer.toLowerCase() as Hex) : undefined;
  }

  async function txKnown(hash: Hex): Promise<boolean> {
    try {
      return (await rpc.request<unknown>('eth_getTransactionByHash', [hash])) !== null;
    } catch {
      return false;
    }
  }

  /** Moves the counter forward to the chain's pending nonce; never backward (in-flight sends above it are ours). */
  async function resync(r: Relayer): Promise<void> {
    counts.resyncs++;
    const pending = await chainNonce(r.account.address, 'pending');
    if (pending > r.nextNonce) r.nextNonce = pending;
    log.debug({ relayer: r.account.address, pending, next: r.nextNonce }, 'nonce resync');
  }

  function asPoolError(err: unknown, doing: string): VanaLoadError {
    if (err instanceof VanaLoadError) return err;
    const kind = classifySendError(err);
    return new VanaLoadError(`Relayer failed ${doing}: ${kind.replace(/_/g, ' ')}`, {
      code: `RELAYER_${kind.toUpperCase()}`,
      errorClass: SEND_ERROR_CLASS[kind],
      step: 'relay',
      metaMessages: [`rpc: ${rpcUrl}`],
      cause: err,
    });
  }

  function record(r: Relayer, nonce: number, tx: Omit<InflightTx, 'sentAt'>): void {
    r.inflight.set(nonce, { ...tx, sentAt: Date.now() });
  }

  /** A nonce that was taken from the counter but holds no accepted tx blocks every later nonce. */
  function releaseNonce(r: Relayer, nonce: number): void {
    if (r.nextNonce === nonce + 1) {
      r.nextNonce = nonce; // nobody took a later nonce: simply hand it out again
      return;
    }
    void fillHole(r, nonce);
  }

  async function fillHole(r: Relayer, nonce: number): Promise<void> {
    if (r.sending.has(nonce)) return;
    r.sending.add(nonce);
    const f = fees;
    try {
      const { raw, hash } = await sign(r, nonce, r.account.address, '0x', 21_000n, f);
      await sendRaw(raw);
      counts.gapFills++;
      record(r, nonce, { hash, raw, to: r.account.address, data: '0x', gas: 21_000n, fees: f, filler: true, uncertain: false });
      log.info({ relayer: r.account.address, nonce, hash }, 'nonce hole filled with a self-transfer');
    } catch (err) {
      const kind = classifySendError(err);
      // Something already sits at (or mined) this nonce: the hole is gone.
      if (kind === 'nonce_too_low' || kind === 'already_known' || kind === 'replacement_underpriced') return;
      log.warn({ relayer: r.account.address, nonce, err: errorText(err) }, 'could not fill nonce hole; the watcher will retry');
    } finally {
      r.sending.delete(nonce);
    }
  }

  async function submit(call: RelayerCall): Promise<RelayerSubmission> {
    try {
      return await submitOnce(call);
    } catch (err) {
      const error = asPoolError(err, 'to submit');
      errorsByClass[error.errorClass]++;
      throw error;
    }
  }

  /**
   * Runs `task` after every task queued before it on this relayer. Nonces are taken and queued in
   * the same tick, so a relayer's first sends reach the node in nonce order. A node parks an n+1
   * that arrives before n as a future tx: geth caps those per account, and anvil 1.7 left 42 of
   * 1,000 such transfers unmined for good when they were sent 64 at a time. Waiting one RPC round
   * trip per send costs little: the relayer still never waits for a receipt.
   */
  function inOrder<T>(r: Relayer, task: () => Promise<T>): Promise<T> {
    const run = r.sendTail.then(task);
    r.sendTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async function submitOnce(call: RelayerCall): Promise<RelayerSubmission> {
    // Estimate first (any relayer can be `from`: the contract ignores msg.sender), then choose,
    // so the choice sees the sends that started meanwhile.
    if (funds?.exhausted) throw funds.exhausted;
    const gas = await gasLimitFor(call, relayers[0]!.account.address);
    checkFeeCap();
    const cost = gas * fees.maxFeePerGas;
    const r = choose(cost);
    r.reservedWei += cost;
    try {
      return await sendWith(r, call, gas);
    } finally {
      r.reservedWei -= cost;
    }
  }

  async function sendWith(r: Relayer, call: RelayerCall, gas: bigint): Promise<RelayerSubmission> {
    let nonce = -1; // -1: this submission holds no nonce right now
    // The hash is the node's answer to the send (keccak in JS costs ~0.1 ms a tx), or computed when
    // needed without one.
    let signed: { raw: Hex; hash?: Hex } | undefined;
    const hashOf = (tx: { raw: Hex; hash?: Hex }): Hex => (tx.hash ??= keccak256(tx.raw));
    let usedFees = fees;
    let lastError: unknown;
    let lastKind: SendErrorKind = 'other';
    const drop = (release: boolean) => {
      if (nonce < 0) return;
      r.sending.delete(nonce);
      if (release) releaseNonce(r, nonce);
      nonce = -1;
    };
    const signAndSend = async (n: number) => {
      usedFees = fees;
      const tx: { raw: Hex; hash?: Hex } = { raw: await signRaw(r, n, call.to, call.data, gas, usedFees) };
      signed = tx;
      const hash = await sendRaw(tx.raw);
      if (hash !== undefined) tx.hash = hash;
    };

    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) counts.retries++;
      let sending: Promise<void>;
      if (nonce < 0) {
        nonce = r.nextNonce++;
        r.sending.add(nonce);
        signed = undefined;
        const n = nonce;
        sending = inOrder(r, () => signAndSend(n));
      } else if (signed === undefined) {
        sending = signAndSend(nonce);
      } else {
        const tx = signed;
        sending = sendRaw(tx.raw).then((hash) => {
          if (hash !== undefined) tx.hash = hash;
        });
      }
      try {
        await sending;
        return accepted();
      } catch (err) {
        if (signed === undefined) {
          drop(true); // signing failed: nothing reached the node
          throw err;
        }
        lastError = err;
        lastKind = classifySendError(err);
      }
      if (lastKind === 'already_known') return accepted();
      if (lastKind === 'nonce_too_low' && (await txKnown(hashOf(signed)))) return accepted();
      if (lastKind === 'nonce_too_low' || lastKind === 'replacement_underpriced') {
        // Someone else holds this nonce, so it is no hole: resync and take a fresh one.
        drop(false);
        await resync(r).catch((err: unknown) => {
          throw asPoolError(err, 'to resync its nonce');
        });
      } else if (lastKind === 'fee_too_low') {
        await refreshFees();
        signed = undefined;
      } else if (lastKind === 'timeout' || lastKind === 'network' || lastKind === 'nonce_too_high') {
        // The node may have taken it: resend the identical bytes (idempotent) after a pause.
        await sleep(50 * 2 ** attempt);
      } else {
        // Reverts at send, insufficient funds, anything unknown: retrying cannot help.
        drop(true);
        throw lastKind === 'revert' ? toRevertError(lastError, call.abi) : lastError;
      }
    }
    if (nonce >= 0 && signed !== undefined && (lastKind === 'timeout' || lastKind === 'network')) {
      // The node may still hold the tx: keep it as uncertain; the watcher fills the nonce with
      // a self-transfer if it never mines (the client was told it failed).
      r.sending.delete(nonce);
      record(r, nonce, { hash: hashOf(signed), raw: signed.raw, to: call.to, data: call.data, gas, fees: usedFees, filler: false, uncertain: true });
    } else {
      drop(true);
    }
    throw lastError;

    function accepted(): RelayerSubmission {
      const s = signed!;
      r.sending.delete(nonce);
      const hash = hashOf(s);
      record(r, nonce, { hash, raw: s.raw, to: call.to, data: call.data, gas, fees: usedFees, filler: false, uncertain: false });
      counts.submitted++;
      r.submitted++;
      return { hash, relayer: r.account.address, nonce, gas };
    }
  }

  async function repairRelayer(r: Relayer): Promise<void> {
    const latest = await chainNonce(r.account.address, 'latest');
    const now = Date.now();
    if (latest > r.minedNonce) {
      r.minedNonce = latest;
      r.progressAt = now;
    }
    for (const n of r.inflight.keys()) if (n < latest) r.inflight.delete(n);
    if (r.inflight.size === 0) return;
    const oldest = Math.min(...r.inflight.keys());
    const oldestSentAt = r.inflight.get(oldest)!.sentAt;
    if (now - Math.max(r.progressAt, oldestSentAt) < stuckAfterMs) return;

    // Stuck: walk the nonces from the chain's up to our highest in flight, in order, so each
    // repair unblocks the next. Bounded per pass to keep a pass cheap.
    r.progressAt = now;
    const highest = Math.max(...r.inflight.keys());
    const baseFee = await baseFeeNow();
    for (let n = latest; n <= highest && n < latest + 64; n++) {
      if (r.sending.has(n)) continue;
      const tx = r.inflight.get(n);
      if (tx === undefined || (tx.uncertain && !(await txKnown(tx.hash)))) {
        await fillHole(r, n);
        continue;
      }
      if (!(await txKnown(tx.hash))) {
        // Dropped from the mempool: the identical bytes keep the hash the client is waiting on.
        try {
          await sendRaw(tx.raw);
          tx.sentAt = Date.now();
          counts.gapRepairs++;
          log.info({ relayer: r.account.address, nonce: n, hash: tx.hash }, 'dropped tx re-sent');
          continue;
        } catch (err) {
          const kind = classifySendError(err);
          if (kind === 'nonce_too_low' || kind === 'already_known') continue;
          if (kind !== 'fee_too_low' && kind !== 'replacement_underpriced') {
            log.warn({ relayer: r.account.address, nonce: n, err: errorText(err) }, 'could not re-send dropped tx');
            continue;
          }
        }
      } else if (tx.fees.maxFeePerGas >= baseFee) {
        continue; // priced to mine: the chain is just slow
      }
      await replace(r, n, tx, baseFee);
    }
  }

  /** Same nonce, fees bumped past both the old tx and the current base fee. The hash changes. */
  async function replace(r: Relayer, nonce: number, tx: InflightTx, baseFee: bigint): Promise<void> {
    await refreshFees();
    const floor = bump(tx.fees.maxPriorityFeePerGas, replacementBumpPercent);
    const maxPriorityFeePerGas = fees.maxPriorityFeePerGas > floor ? fees.maxPriorityFeePerGas : floor;
    let maxFeePerGas = bump(tx.fees.maxFeePerGas, replacementBumpPercent);
    if (maxFeePerGas < baseFee * 2n + maxPriorityFeePerGas) maxFeePerGas = baseFee * 2n + maxPriorityFeePerGas;
    if (maxFeePerGasCap !== undefined && maxFeePerGas > maxFeePerGasCap) {
      // A replacement must outbid the stuck tx by the bump; above the cap it is left to wait.
      log.warn({ relayer: r.account.address, nonce, hash: tx.hash, cap: formatGwei(maxFeePerGasCap) }, 'stuck tx not replaced: the bumped fee would pass VANA_MAX_FEE_PER_GAS');
      return;
    }
    const f = { maxFeePerGas, maxPriorityFeePerGas };
    const signed = await sign(r, nonce, tx.to, tx.data, tx.gas, f);
    try {
      await sendRaw(signed.raw);
      counts.replacements++;
      record(r, nonce, { ...tx, hash: signed.hash, raw: signed.raw, fees: f });
      log.warn({ relayer: r.account.address, nonce, oldHash: tx.hash, hash: signed.hash }, 'tx replaced with bumped fees; its hash changed');
    } catch (err) {
      log.warn({ relayer: r.account.address, nonce, err: errorText(err) }, 'replacement refused');
    }
  }

  let checking: Promise<void> | undefined;
  function checkNow(): Promise<void> {
    checking ??= Promise.all(
      relayers
        .filter((r) => r.inflight.size > 0)
        .map((r) => repairRelayer(r).catch((err: unknown) => log.warn({ relayer: r.account.address, err: errorText(err) }, 'watcher pass failed'))),
    )
      .then(() => undefined)
      .finally(() => {
        checking = undefined;
      });
    return checking;
  }

  const feeTimer = setInterval(() => void refreshFees(), feeRefreshMs);
  const checkTimer = setInterval(() => void checkNow(), checkIntervalMs);
  feeTimer.unref();
  checkTimer.unref();
  log.info({ relayers: relayers.map((r) => ({ address: r.account.address, nonce: r.nextNonce })), mode }, 'relayer pool ready');

  return {
    size: relayers.length,
    addresses: relayers.map((r) => r.account.address),
    submit,
    pending: () => relayers.reduce((sum, r) => sum + r.inflight.size + r.sending.size, 0),
    stats: () => ({
      ...counts,
      errorsByClass: { ...errorsByClass },
      relayers: relayers.map((r) => ({
        address: r.account.address,
        nextNonce: r.nextNonce,
        pending: r.inflight.size + r.sending.size,
        submitted: r.submitted,
        ...(funds ? { balanceWei: funds.balance(r.account.address) ?? 0n } : {}),
      })),
      ...(funds ? { spentWei: funds.spentWei() + relayers.reduce((sum, r) => sum + committedWei(r), 0n) } : {}),
    }),
    checkNow,
    async stop() {
      clearInterval(feeTimer);
      clearInterval(checkTimer);
      funds?.stop();
      await Promise.all([checking, feeRefreshing]);
      rpc.close();
    },
  };
}

