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
import { keccak256, type Hex } from 'viem';
import { ConfigError, InfrastructureError } from '../errors.ts';
import { ERROR_CLASSES, type ErrorClass } from '../flow.ts';
import { silentLogger } from '../logger.ts';
import { createJsonRpc } from './jsonRpc.ts';
import { createNonceRepair, type NonceRepair } from './nonceRepair.ts';
import { committedWei, recordInflight, relayerTransactions, type RelayerAccount } from './relayerAccount.ts';
import { createRelayerFunds, type RelayerFunds } from './relayerFunds.ts';
import { createRelayerGas, type RelayerGas } from './relayerGas.ts';
import type { CreateRelayerPoolParameters, RelayerCall, RelayerPool, RelayerSubmission } from './relayerPoolTypes.ts';
import { classifySendError, toPoolError, toRevertError, type SendErrorKind } from './sendErrors.ts';

export { RelayerRevertError } from './sendErrors.ts';
export type * from './relayerPoolTypes.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
  const log = logger.child({ module: 'relayerPool' });
  // No transport-level retries: this module decides what a retry means for a nonce.
  const rpc = createJsonRpc(rpcUrl, rpcTimeoutMs);
  const txs = relayerTransactions(rpc, chainId);
  const poolError = (err: unknown, doing: string) => toPoolError(err, doing, rpcUrl);

  const counts = { submitted: 0, resyncs: 0, retries: 0 };
  const errorsByClass = Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>;

  let relayers: RelayerAccount[];
  let pricing: RelayerGas;
  let funds: RelayerFunds | undefined;
  try {
    const now = Date.now();
    relayers = await Promise.all(
      accounts.map(async (account) => {
        const [pending, latest] = await Promise.all([txs.chainNonce(account.address, 'pending'), txs.chainNonce(account.address, 'latest')]);
        return { account, nextNonce: pending, minedNonce: latest, progressAt: now, inflight: new Map(), sending: new Set<number>(), sendTail: Promise.resolve(), submitted: 0, reservedWei: 0n };
      }),
    );
    pricing = await createRelayerGas({ rpc, rpcUrl, options: gasOptions, log });
    funds = fundsOptions
      ? await createRelayerFunds({ rpc, addresses: relayers.map((r) => r.account.address), ...fundsOptions, logger: log }).catch(async (err: unknown) => {
          await pricing.stop();
          throw err;
        })
      : undefined;
  } catch (cause) {
    rpc.close();
    throw new InfrastructureError(`Relayer pool could not read its accounts from ${rpcUrl}`, { code: 'RELAYER_POOL_INIT', cause });
  }
  const repair: NonceRepair = createNonceRepair({
    relayers,
    txs,
    gas: pricing,
    log,
    checkIntervalMs: repairOptions.checkIntervalMs ?? 1_000,
    stuckAfterMs: repairOptions.stuckAfterMs ?? 15_000,
    replacementBumpPercent: gasOptions.replacementBumpPercent ?? 25,
    ...(gasOptions.maxFeePerGasCap !== undefined ? { maxFeePerGasCap: gasOptions.maxFeePerGasCap } : {}),
  });

  let cursor = 0;
  /** A relayer for a tx that may cost up to `costWei`; throws when funds watching finds none that can pay. */
  function choose(costWei: bigint): RelayerAccount {
    if (funds) funds.checkCap(costWei, relayers.reduce((sum, r) => sum + committedWei(r), 0n));
    // Least sends in progress, round-robin among equals: spreads load and routes around a
    // relayer that is stuck retrying. With funds watching, only relayers that can pay.
    let best: RelayerAccount | undefined;
    for (let i = 0; i < relayers.length; i++) {
      const r = relayers[(cursor + i) % relayers.length]!;
      if (funds && !funds.affordable(r.account.address, costWei, committedWei(r))) continue;
      if (best === undefined || r.sending.size < best.sending.size) best = r;
    }
    cursor = (cursor + 1) % relayers.length;
    return best ?? funds!.refuse(costWei, new Map(relayers.map((r) => [r.account.address, committedWei(r)])));
  }

  /** Moves the counter forward to the chain's pending nonce; never backward (in-flight sends above it are ours). */
  async function resync(r: RelayerAccount): Promise<void> {
    counts.resyncs++;
    const pending = await txs.chainNonce(r.account.address, 'pending');
    if (pending > r.nextNonce) r.nextNonce = pending;
    log.debug({ relayer: r.account.address, pending, next: r.nextNonce }, 'nonce resync');
  }

  async function submit(call: RelayerCall): Promise<RelayerSubmission> {
    try {
      return await submitOnce(call);
    } catch (err) {
      const error = poolError(err, 'to submit');
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
  function inOrder<T>(r: RelayerAccount, task: () => Promise<T>): Promise<T> {
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
    const gas = await pricing.gasLimitFor(call, relayers[0]!.account.address);
    pricing.checkFeeCap();
    const cost = gas * pricing.fees.maxFeePerGas;
    const r = choose(cost);
    r.reservedWei += cost;
    try {
      return await sendWith(r, call, gas);
    } finally {
      r.reservedWei -= cost;
    }
  }

  async function sendWith(r: RelayerAccount, call: RelayerCall, gas: bigint): Promise<RelayerSubmission> {
    let nonce = -1; // -1: this submission holds no nonce right now
    // The hash is the node's answer to the send (keccak in JS costs ~0.1 ms a tx), or computed when
    // needed without one.
    let signed: { raw: Hex; hash?: Hex } | undefined;
    const hashOf = (tx: { raw: Hex; hash?: Hex }): Hex => (tx.hash ??= keccak256(tx.raw));
    let usedFees = pricing.fees;
    let lastError: unknown;
    let lastKind: SendErrorKind = 'other';
    const drop = (release: boolean) => {
      if (nonce < 0) return;
      r.sending.delete(nonce);
      if (release) repair.releaseNonce(r, nonce);
      nonce = -1;
    };
    const signAndSend = async (n: number) => {
      usedFees = pricing.fees;
      const tx: { raw: Hex; hash?: Hex } = { raw: await txs.signRaw(r, n, call.to, call.data, gas, usedFees) };
      signed = tx;
      const hash = await txs.sendRaw(tx.raw);
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
        sending = txs.sendRaw(tx.raw).then((hash) => {
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
      if (lastKind === 'nonce_too_low' && (await txs.txKnown(hashOf(signed)))) return accepted();
      if (lastKind === 'nonce_too_low' || lastKind === 'replacement_underpriced') {
        // Someone else holds this nonce, so it is no hole: resync and take a fresh one.
        drop(false);
        await resync(r).catch((err: unknown) => {
          throw poolError(err, 'to resync its nonce');
        });
      } else if (lastKind === 'fee_too_low') {
        await pricing.refreshFees();
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
      recordInflight(r, nonce, { hash: hashOf(signed), raw: signed.raw, to: call.to, data: call.data, gas, fees: usedFees, filler: false, uncertain: true });
    } else {
      drop(true);
    }
    throw lastError;

    function accepted(): RelayerSubmission {
      const s = signed!;
      r.sending.delete(nonce);
      const hash = hashOf(s);
      recordInflight(r, nonce, { hash, raw: s.raw, to: call.to, data: call.data, gas, fees: usedFees, filler: false, uncertain: false });
      counts.submitted++;
      r.submitted++;
      return { hash, relayer: r.account.address, nonce, gas };
    }
  }

  log.info({ relayers: relayers.map((r) => ({ address: r.account.address, nonce: r.nextNonce })), mode: pricing.mode }, 'relayer pool ready');

  return {
    size: relayers.length,
    addresses: relayers.map((r) => r.account.address),
    submit,
    pending: () => relayers.reduce((sum, r) => sum + r.inflight.size + r.sending.size, 0),
    stats: () => ({
      ...counts,
      ...repair.counts,
      gasEstimates: pricing.gasEstimates,
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
    checkNow: () => repair.checkNow(),
    async stop() {
      funds?.stop();
      await Promise.all([repair.stop(), pricing.stop()]);
      rpc.close();
    },
  };
}
