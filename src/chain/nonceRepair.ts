/**
 * The relayer pool's watcher: local nonce counters can drift from the chain, and a tx the node
 * took can vanish from its mempool. Each pass looks at the relayers with txs in flight; one whose
 * chain nonce made no progress for `stuckAfterMs` is walked from the chain's nonce upward: a
 * dropped tx is re-sent byte for byte (its hash is what a client waits on), a hole is filled with
 * a self-transfer, and a tx priced under the base fee is replaced with bumped fees.
 */
import { formatGwei } from 'viem';
import type { Logger } from 'pino';
import { recordInflight, type InflightTx, type RelayerAccount, type RelayerTransactions } from './relayerAccount.ts';
import type { RelayerGas } from './relayerGas.ts';
import { classifySendError, errorText } from './sendErrors.ts';

export interface NonceRepairCounts {
  gapRepairs: number;
  gapFills: number;
  replacements: number;
}

export interface NonceRepair {
  /** Gives back a nonce that was taken but holds no accepted tx: reused if it was the last one taken, else filled. */
  releaseNonce(r: RelayerAccount, nonce: number): void;
  /** Runs one watcher pass now (one at a time; callers share it). */
  checkNow(): Promise<void>;
  readonly counts: Readonly<NonceRepairCounts>;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

export interface CreateNonceRepairParameters {
  relayers: readonly RelayerAccount[];
  txs: RelayerTransactions;
  gas: RelayerGas;
  log: Logger;
  /** How often a pass runs, ms. */
  checkIntervalMs: number;
  /** A relayer whose chain nonce made no progress for this long while it has txs in flight is repaired, ms. */
  stuckAfterMs: number;
  /** Fee bump of a replacement, percent (nodes require ≥ 10). */
  replacementBumpPercent: number;
  /** Cap on maxFeePerGas, wei: a replacement above it is not sent. */
  maxFeePerGasCap?: bigint;
}

const bump = (value: bigint, percent: number) => (value * BigInt(100 + percent) + 99n) / 100n;

/**
 * Starts the watcher's timer over the pool's relayers.
 *
 * @example
 * const repair = createNonceRepair({ relayers, txs, gas, log, checkIntervalMs: 1_000, stuckAfterMs: 15_000, replacementBumpPercent: 25 });
 * repair.releaseNonce(relayer, nonce); // a send that never reached the node
 */
export function createNonceRepair({ relayers, txs, gas, log, checkIntervalMs, stuckAfterMs, replacementBumpPercent, maxFeePerGasCap }: CreateNonceRepairParameters): NonceRepair {
  const counts: NonceRepairCounts = { gapRepairs: 0, gapFills: 0, replacements: 0 };

  async function fillHole(r: RelayerAccount, nonce: number): Promise<void> {
    if (r.sending.has(nonce)) return;
    r.sending.add(nonce);
    const fees = gas.fees;
    try {
      const { raw, hash } = await txs.sign(r, nonce, r.account.address, '0x', 21_000n, fees);
      await txs.sendRaw(raw);
      counts.gapFills++;
      recordInflight(r, nonce, { hash, raw, to: r.account.address, data: '0x', gas: 21_000n, fees, filler: true, uncertain: false });
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

  /** Same nonce, fees bumped past both the old tx and the current base fee. The hash changes. */
  async function replace(r: RelayerAccount, nonce: number, tx: InflightTx, baseFee: bigint): Promise<void> {
    await gas.refreshFees();
    const floor = bump(tx.fees.maxPriorityFeePerGas, replacementBumpPercent);
    const maxPriorityFeePerGas = gas.fees.maxPriorityFeePerGas > floor ? gas.fees.maxPriorityFeePerGas : floor;
    let maxFeePerGas = bump(tx.fees.maxFeePerGas, replacementBumpPercent);
    if (maxFeePerGas < baseFee * 2n + maxPriorityFeePerGas) maxFeePerGas = baseFee * 2n + maxPriorityFeePerGas;
    if (maxFeePerGasCap !== undefined && maxFeePerGas > maxFeePerGasCap) {
      // A replacement must outbid the stuck tx by the bump; above the cap it is left to wait.
      log.warn({ relayer: r.account.address, nonce, hash: tx.hash, cap: formatGwei(maxFeePerGasCap) }, 'stuck tx not replaced: the bumped fee would pass VANA_MAX_FEE_PER_GAS');
      return;
    }
    const fees = { maxFeePerGas, maxPriorityFeePerGas };
    const signed = await txs.sign(r, nonce, tx.to, tx.data, tx.gas, fees);
    try {
      await txs.sendRaw(signed.raw);
      counts.replacements++;
      recordInflight(r, nonce, { ...tx, hash: signed.hash, raw: signed.raw, fees });
      log.warn({ relayer: r.account.address, nonce, oldHash: tx.hash, hash: signed.hash }, 'tx replaced with bumped fees; its hash changed');
    } catch (err) {
      log.warn({ relayer: r.account.address, nonce, err: errorText(err) }, 'replacement refused');
    }
  }

  async function repairRelayer(r: RelayerAccount): Promise<void> {
    const latest = await txs.chainNonce(r.account.address, 'latest');
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
    const baseFee = await gas.baseFeeNow();
    for (let n = latest; n <= highest && n < latest + 64; n++) {
      if (r.sending.has(n)) continue;
      const tx = r.inflight.get(n);
      if (tx === undefined || (tx.uncertain && !(await txs.txKnown(tx.hash)))) {
        await fillHole(r, n);
        continue;
      }
      if (!(await txs.txKnown(tx.hash))) {
        // Dropped from the mempool: the identical bytes keep the hash the client is waiting on.
        try {
          await txs.sendRaw(tx.raw);
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

  const timer = setInterval(() => void checkNow(), checkIntervalMs);
  timer.unref();

  return {
    releaseNonce(r, nonce) {
      if (r.nextNonce === nonce + 1) {
        r.nextNonce = nonce; // nobody took a later nonce: simply hand it out again
        return;
      }
      void fillHole(r, nonce);
    },
    checkNow,
    counts,
    async stop() {
      clearInterval(timer);
      await checking;
    },
  };
}
